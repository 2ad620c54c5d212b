/**
 * The timeline: each series' total per time step on a canvas (bars for the single view, lines for the comparison
 * views), a hover readout, and drag-to-select. In the comparison views it also shows the two sides' selections as
 * translucent bands with a handle bar on top: dragging a handle bar moves that selection, dragging an edge
 * resizes it, and dragging anywhere else brushes a new range for the active side. (A small purpose-built chart:
 * uPlot is not installed here.)
 */
import { moveRange } from '../src/compare.js';
import { axisTimeLabel, formatTimestamp } from '../src/time.js';

export interface TimelineEvents {
  /** A brushed (or clicked) range outside any selection. */
  onSelect(fromMs: number, untilMs: number): void;
  /** A selection moved or resized. */
  onSelectionChange?(id: string, fromMs: number, untilMs: number): void;
}

export interface TimelineSeries {
  timestampsMs: number[];
  values: number[];
  color: string;
  label: string;
  /** Lines: the selection (by id) inside which this series is drawn at full strength, faint elsewhere. */
  selection?: string;
}

export interface TimelineSelection {
  id: string;
  fromMs: number;
  untilMs: number;
  color: string;
  label: string;
}

export interface TimelineData {
  series: TimelineSeries[];
  style: 'bars' | 'lines';
  stepMs: number;
  fromMs: number;
  untilMs: number;
  format(value: number): string;
  title: string;
  selections?: TimelineSelection[];
}

const HEIGHT = 110;
const PAD = { left: 64, right: 12, top: 22, bottom: 20 };
/** How close (px) to a selection's edge a drag resizes it. */
const EDGE = 6;
/** The handle bar on top of a selection (px below the plot's top) that moves it. */
const HANDLE = 16;

type Drag =
  | { kind: 'brush'; x0: number; x1: number }
  | { kind: 'move' | 'left' | 'right'; id: string; x0: number; x1: number; fromMs: number; untilMs: number };

export class Timeline {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly readout: HTMLDivElement;
  private data: TimelineData | undefined;
  private drag: Drag | undefined;
  private hoverX = -1;
  private colors = {
    axis: '#888',
    grid: 'rgba(128,128,128,0.15)',
    select: 'rgba(232,132,60,0.18)',
  };
  utc = false;
  /** The selection a drag prefers when selections overlap. */
  activeSelection = '';

  constructor(private readonly events: TimelineEvents) {
    this.element = document.createElement('div');
    this.element.className = 'timeline';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('aria-label', 'Timeline: drag to select a time range');
    this.readout = document.createElement('div');
    this.readout.className = 'timeline-readout';
    this.element.append(this.canvas, this.readout);
    new ResizeObserver(() => this.paint()).observe(this.element);
    this.canvas.addEventListener('pointerdown', (e) => {
      if (!this.data || e.button !== 0) return;
      this.canvas.setPointerCapture(e.pointerId);
      const hit = this.hitSelection(e.offsetX, e.offsetY);
      this.drag = hit
        ? {
            kind: hit.part,
            id: hit.sel.id,
            x0: e.offsetX,
            x1: e.offsetX,
            fromMs: hit.sel.fromMs,
            untilMs: hit.sel.untilMs,
          }
        : { kind: 'brush', x0: e.offsetX, x1: e.offsetX };
    });
    this.canvas.addEventListener('pointermove', (e) => {
      this.hoverX = e.offsetX;
      if (this.drag) this.drag.x1 = e.offsetX;
      else {
        const hit = this.hitSelection(e.offsetX, e.offsetY);
        this.canvas.style.cursor = !hit ? 'crosshair' : hit.part === 'move' ? 'grab' : 'ew-resize';
      }
      this.paint();
    });
    this.canvas.addEventListener('pointerleave', () => {
      this.hoverX = -1;
      if (!this.drag) this.paint();
    });
    this.canvas.addEventListener('pointerup', (e) => {
      const d = this.drag;
      this.drag = undefined;
      if (!d || !this.data) return;
      d.x1 = e.offsetX;
      if (d.kind !== 'brush') {
        const moved = this.dragged(d);
        if (Math.abs(d.x1 - d.x0) >= 3) this.events.onSelectionChange?.(d.id, moved.fromMs, moved.untilMs);
        this.paint();
        return;
      }
      const a = Math.min(d.x0, d.x1);
      const b = Math.max(d.x0, d.x1);
      if (b - a < 3) {
        // A click selects the one step under the pointer.
        const t = this.timeAt(d.x1);
        const step = this.data.stepMs;
        const from = Math.floor(t / step) * step;
        this.events.onSelect(from, from + step);
      } else this.events.onSelect(Math.round(this.timeAt(a)), Math.round(this.timeAt(b)));
      this.paint();
    });
  }

  setColors(c: Partial<Timeline['colors']>): void {
    this.colors = { ...this.colors, ...c };
    this.paint();
  }

  setData(data: TimelineData | undefined): void {
    this.data = data;
    this.paint();
  }

  private plotWidth(): number {
    return Math.max(1, this.element.clientWidth - PAD.left - PAD.right);
  }

  private timeAt(x: number): number {
    const d = this.data;
    if (!d) return 0;
    const f = Math.min(1, Math.max(0, (x - PAD.left) / this.plotWidth()));
    return d.fromMs + f * (d.untilMs - d.fromMs);
  }

  private xAt(t: number): number {
    const d = this.data;
    if (!d) return 0;
    return PAD.left + ((t - d.fromMs) / (d.untilMs - d.fromMs)) * this.plotWidth();
  }

  /** The selection handle under (x, y), the active selection's first where they overlap, and which part. */
  private hitSelection(
    x: number,
    y: number,
  ): { sel: TimelineSelection; part: 'move' | 'left' | 'right' } | undefined {
    const sels = this.data?.selections ?? [];
    const ordered = [...sels].sort(
      (a, b) => Number(b.id === this.activeSelection) - Number(a.id === this.activeSelection),
    );
    for (const sel of ordered) {
      const a = this.xAt(sel.fromMs);
      const b = this.xAt(sel.untilMs);
      if (Math.abs(x - a) <= EDGE && b - a > EDGE) return { sel, part: 'left' };
      if (Math.abs(x - b) <= EDGE) return { sel, part: 'right' };
      if (x > a && x < b && y >= PAD.top - 4 && y < PAD.top + HANDLE) return { sel, part: 'move' };
    }
    return undefined;
  }

  /** A moved or resized selection's range during (and at the end of) a drag, kept inside the window. */
  private dragged(d: Extract<Drag, { id: string }>): { fromMs: number; untilMs: number } {
    const data = this.data as TimelineData;
    const dt = this.timeAt(d.x1) - this.timeAt(d.x0);
    const minWidth = data.stepMs;
    if (d.kind === 'move') return moveRange(d, d.fromMs + dt, data);
    if (d.kind === 'left')
      return { fromMs: Math.round(Math.min(d.fromMs + dt, d.untilMs - minWidth)), untilMs: d.untilMs };
    return { fromMs: d.fromMs, untilMs: Math.round(Math.max(d.untilMs + dt, d.fromMs + minWidth)) };
  }

  paint(): void {
    const width = Math.max(1, this.element.clientWidth);
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(HEIGHT * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(HEIGHT * dpr);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${HEIGHT}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    const d = this.data;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = this.colors.axis;
    if (!d) return;
    ctx.textAlign = 'left';
    ctx.fillText(d.title, PAD.left, 13);
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    let max = 0;
    for (const s of d.series) for (const v of s.values) if (v > max) max = v;
    // Grid and y labels (0, half, max).
    ctx.strokeStyle = this.colors.grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    for (const f of [0, 0.5, 1]) {
      const y = Math.round(PAD.top + plotH * (1 - f)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(width - PAD.right, y);
      ctx.stroke();
      // maxWidth: a long label ("634.19 MiB") is condensed to fit the margin instead of being cut off.
      ctx.fillText(max > 0 ? d.format(max * f) : f === 0 ? '0' : '', PAD.left - 6, y + 3, PAD.left - 8);
    }
    // X labels: start, quarters, end.
    const span = d.untilMs - d.fromMs;
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const t = d.fromMs + f * span;
      ctx.textAlign = f === 0 ? 'left' : f === 1 ? 'right' : 'center';
      ctx.fillText(axisTimeLabel(t, span, this.utc), this.xAt(t), HEIGHT - 5);
    }
    this.paintSelections(ctx, plotH);
    const stepW = (d.stepMs / span) * this.plotWidth();
    const yOf = (v: number) => PAD.top + plotH - (max > 0 ? (v / max) * plotH : 0);
    for (const s of d.series) {
      ctx.fillStyle = s.color;
      ctx.strokeStyle = s.color;
      if (d.style === 'bars') {
        const barW = Math.max(1, stepW - 1);
        for (let i = 0; i < s.timestampsMs.length; i++) {
          const v = s.values[i];
          if (v <= 0 || max <= 0) continue;
          const h = Math.max(1, (v / max) * plotH);
          ctx.fillRect(this.xAt(s.timestampsMs[i]), PAD.top + plotH - h, barW, h);
        }
        continue;
      }
      // Lines through the step midpoints, broken where steps have no data; a lone point is a short dash.
      // A series tied to a selection is strong inside it and faint outside, so identical queries stay apart.
      const sel = d.selections?.find((x) => x.id === s.selection);
      if (sel) {
        ctx.globalAlpha = 0.3;
        this.strokeSeries(ctx, s, d, yOf, stepW);
        ctx.globalAlpha = 1;
        ctx.save();
        ctx.beginPath();
        ctx.rect(this.xAt(sel.fromMs), 0, this.xAt(sel.untilMs) - this.xAt(sel.fromMs), HEIGHT);
        ctx.clip();
        this.strokeSeries(ctx, s, d, yOf, stepW);
        ctx.restore();
      } else this.strokeSeries(ctx, s, d, yOf, stepW);
    }
    if (this.drag?.kind === 'brush') {
      const a = Math.min(this.drag.x0, this.drag.x1);
      const b = Math.max(this.drag.x0, this.drag.x1);
      const active = d.selections?.find((s) => s.id === this.activeSelection);
      ctx.fillStyle = active ? withAlpha(active.color, 0.22) : this.colors.select;
      ctx.fillRect(a, PAD.top, b - a, plotH);
    }
    this.paintHover(ctx, d, width, plotH);
  }

  private strokeSeries(
    ctx: CanvasRenderingContext2D,
    s: TimelineSeries,
    d: TimelineData,
    yOf: (v: number) => number,
    stepW: number,
  ): void {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < s.timestampsMs.length; i++) {
      const x = this.xAt(s.timestampsMs[i] + d.stepMs / 2);
      const y = yOf(s.values[i]);
      const joined = i > 0 && s.timestampsMs[i] - s.timestampsMs[i - 1] <= d.stepMs * 1.5;
      const nextJoined =
        i + 1 < s.timestampsMs.length && s.timestampsMs[i + 1] - s.timestampsMs[i] <= d.stepMs * 1.5;
      if (joined) ctx.lineTo(x, y);
      else if (nextJoined) ctx.moveTo(x, y);
      else {
        const half = Math.max(1.5, stepW / 2);
        ctx.moveTo(x - half, y);
        ctx.lineTo(x + half, y);
      }
    }
    ctx.stroke();
  }

  private paintSelections(ctx: CanvasRenderingContext2D, plotH: number): void {
    const d = this.data as TimelineData;
    let lastLabelX = Number.NEGATIVE_INFINITY;
    for (const sel of d.selections ?? []) {
      const r =
        this.drag && this.drag.kind !== 'brush' && this.drag.id === sel.id ? this.dragged(this.drag) : sel;
      const a = Math.max(PAD.left, this.xAt(r.fromMs));
      const b = Math.min(PAD.left + this.plotWidth(), this.xAt(r.untilMs));
      if (b <= a) continue;
      const active = sel.id === this.activeSelection;
      ctx.fillStyle = withAlpha(sel.color, active ? 0.2 : 0.12);
      ctx.fillRect(a, PAD.top, Math.max(2, b - a), plotH);
      ctx.fillStyle = withAlpha(sel.color, active ? 0.35 : 0.22);
      ctx.fillRect(a, PAD.top, Math.max(2, b - a), HANDLE);
      ctx.fillStyle = sel.color;
      ctx.fillRect(a, PAD.top - 3, Math.max(2, b - a), 3);
      // Edge handles.
      ctx.fillRect(a, PAD.top, 2, plotH);
      ctx.fillRect(Math.max(a, b - 2), PAD.top, 2, plotH);
      if (b - a > 70) {
        ctx.textAlign = 'left';
        ctx.font = '600 11px system-ui, sans-serif';
        // Labels of selections that start close together go on two lines.
        const second = Math.abs(a - lastLabelX) < 90;
        ctx.fillText(sel.label, a + 5, PAD.top + (second ? 25 : 12));
        ctx.font = '11px system-ui, sans-serif';
        if (!second) lastLabelX = a;
      }
    }
  }

  private paintHover(ctx: CanvasRenderingContext2D, d: TimelineData, width: number, plotH: number): void {
    if (this.hoverX < PAD.left || this.hoverX > width - PAD.right) {
      this.readout.hidden = true;
      return;
    }
    ctx.strokeStyle = this.colors.axis;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(this.hoverX + 0.5, PAD.top);
    ctx.lineTo(this.hoverX + 0.5, PAD.top + plotH);
    ctx.stroke();
    const t = this.timeAt(this.hoverX);
    const parts = [formatTimestamp(t, this.utc)];
    for (const s of d.series) {
      let best = -1;
      for (let i = 0; i < s.timestampsMs.length; i++)
        if (s.timestampsMs[i] <= t && t < s.timestampsMs[i] + d.stepMs) best = i;
      if (best >= 0) parts.push(`${d.series.length > 1 ? `${s.label} ` : ''}${d.format(s.values[best])}`);
    }
    this.readout.textContent = parts.join(' · ');
    this.readout.hidden = false;
    const w = this.readout.offsetWidth;
    this.readout.style.left = `${Math.max(0, Math.min(width - w - 4, this.hoverX + 8))}px`;
  }
}

/** `#rrggbb` with an alpha. */
function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${alpha})`;
}
