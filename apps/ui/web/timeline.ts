/**
 * The timeline: the profile's total per time step as bars on a canvas, with a hover readout and drag-to-select.
 * (A small purpose-built chart: uPlot was planned but is not installed in this workspace.)
 */
import { formatTimestamp } from '../src/time.js';

export interface TimelineEvents {
  onSelect(fromMs: number, untilMs: number): void;
}

export interface TimelineData {
  timestampsMs: number[];
  values: number[];
  stepMs: number;
  fromMs: number;
  untilMs: number;
  format(value: number): string;
  title: string;
}

const HEIGHT = 110;
const PAD = { left: 64, right: 12, top: 22, bottom: 20 };

export class Timeline {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly readout: HTMLDivElement;
  private data: TimelineData | undefined;
  private drag: { x0: number; x1: number } | undefined;
  private hoverX = -1;
  private colors = {
    bar: '#e8843c',
    axis: '#888',
    grid: 'rgba(128,128,128,0.15)',
    select: 'rgba(232,132,60,0.18)',
  };
  utc = false;

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
      this.drag = { x0: e.offsetX, x1: e.offsetX };
    });
    this.canvas.addEventListener('pointermove', (e) => {
      this.hoverX = e.offsetX;
      if (this.drag) this.drag.x1 = e.offsetX;
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
      const a = Math.min(d.x0, e.offsetX);
      const b = Math.max(d.x0, e.offsetX);
      if (b - a < 3) {
        // A click selects the one step under the pointer.
        const t = this.timeAt(e.offsetX);
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
    ctx.fillText(d.title, PAD.left, 13);
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const max = Math.max(0, ...d.values);
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
      ctx.fillText(max > 0 ? d.format(max * f) : f === 0 ? '0' : '', PAD.left - 6, y + 3);
    }
    // X labels: start, middle, end.
    ctx.textAlign = 'center';
    const span = d.untilMs - d.fromMs;
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const t = d.fromMs + f * span;
      const label = formatTimestamp(t, this.utc).slice(span > 2 * 86400e3 ? 5 : 11, 16);
      const x = this.xAt(t);
      ctx.textAlign = f === 0 ? 'left' : f === 1 ? 'right' : 'center';
      ctx.fillText(label, x, HEIGHT - 5);
    }
    const barW = Math.max(1, (d.stepMs / span) * this.plotWidth() - 1);
    ctx.fillStyle = this.colors.bar;
    for (let i = 0; i < d.timestampsMs.length; i++) {
      const v = d.values[i];
      if (v <= 0 || max <= 0) continue;
      const h = Math.max(1, (v / max) * plotH);
      ctx.fillRect(this.xAt(d.timestampsMs[i]), PAD.top + plotH - h, barW, h);
    }
    if (this.drag) {
      const a = Math.min(this.drag.x0, this.drag.x1);
      const b = Math.max(this.drag.x0, this.drag.x1);
      ctx.fillStyle = this.colors.select;
      ctx.fillRect(a, PAD.top, b - a, plotH);
    }
    if (this.hoverX >= PAD.left && this.hoverX <= width - PAD.right) {
      ctx.strokeStyle = this.colors.axis;
      ctx.beginPath();
      ctx.moveTo(this.hoverX + 0.5, PAD.top);
      ctx.lineTo(this.hoverX + 0.5, PAD.top + plotH);
      ctx.stroke();
      const t = this.timeAt(this.hoverX);
      let best = -1;
      for (let i = 0; i < d.timestampsMs.length; i++)
        if (d.timestampsMs[i] <= t && t < d.timestampsMs[i] + d.stepMs) best = i;
      this.readout.textContent = `${formatTimestamp(t, this.utc)}${best >= 0 ? ` · ${d.format(d.values[best])}` : ''}`;
      this.readout.style.left = `${Math.min(width - 200, this.hoverX + 8)}px`;
      this.readout.hidden = false;
    } else this.readout.hidden = true;
  }
}
