/**
 * The flame graph painter: canvas 2D, one base layer (bars and labels) and one overlay layer (hover and highlight
 * outlines), so hovering never repaints the bars. Geometry comes from src/geometry.ts (culled, typed arrays); this
 * file only turns it into pixels and pointer events into node indices.
 */
import { type FlameTree, isOtherNode, nodeAtTick } from '../src/flamebearer.js';
import {
  emptyLayout,
  fitLabel,
  type Layout,
  layoutFlame,
  levelAtY,
  tickAtX,
  type Viewport,
} from '../src/geometry.js';

export const ROW_HEIGHT = 20;
/** Canvases are limited to 32,767 px: deeper graphs show a window of rows around the zoomed frame. */
const MAX_ROWS = 1500;
const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace';

export interface FlameStyle {
  text: string;
  dimFill: string;
  dimText: string;
  otherFill: string;
  rootFill: string;
  background: string;
  hoverStroke: string;
  highlightStroke: string;
}

export interface FlameGraphEvents {
  onHover(node: number, clientX: number, clientY: number): void;
  onClick(node: number): void;
  onContextMenu(node: number, clientX: number, clientY: number): void;
  /** After each base repaint, with its cost in ms. */
  onPaint?(ms: number): void;
}

export class FlameGraphView {
  readonly element: HTMLDivElement;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private tree: FlameTree | undefined;
  private colors: string[] = [];
  private zoom = 0;
  private nameMatches: Uint8Array | undefined;
  private hovered = -1;
  private highlightName = -1;
  private selectedName = -1;
  layout: Layout = emptyLayout(4096);
  private vp: Viewport = {
    startTick: 0,
    endTick: 1,
    widthPx: 1,
    rowHeightPx: ROW_HEIGHT,
    firstLevel: 0,
    rows: 0,
  };
  private charWidth = 7.2;
  private style: FlameStyle;
  private pending = 0;
  private pointer: { x: number; y: number; cx: number; cy: number } | undefined;
  /** Milliseconds spent in the last base paint (layout + bars), for the benchmark and the status line. */
  lastPaintMs = 0;
  /** The geometry part of it. */
  lastLayoutMs = 0;

  constructor(
    private readonly events: FlameGraphEvents,
    style: FlameStyle,
    /** 'up' draws the root at the bottom (the callers half of a sandwich view). */
    private readonly orientation: 'down' | 'up' = 'down',
  ) {
    this.style = style;
    this.element = document.createElement('div');
    this.element.className = 'flame';
    this.base = document.createElement('canvas');
    this.base.className = 'flame-base';
    this.base.setAttribute('role', 'img');
    this.base.setAttribute('aria-label', 'Flame graph');
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'flame-overlay';
    this.element.append(this.base, this.overlay);
    this.overlay.addEventListener('pointermove', (e) => {
      this.pointer = { x: e.offsetX, y: e.offsetY, cx: e.clientX, cy: e.clientY };
      if (!this.pending) this.pending = requestAnimationFrame(() => this.onPointerFrame());
    });
    this.overlay.addEventListener('pointerleave', () => {
      this.pointer = undefined;
      this.setHovered(-1);
      this.events.onHover(-1, 0, 0);
    });
    this.overlay.addEventListener('click', (e) => {
      const n = this.nodeAt(e.offsetX, e.offsetY);
      if (n >= 0) this.events.onClick(n);
    });
    this.overlay.addEventListener('contextmenu', (e) => {
      const n = this.nodeAt(e.offsetX, e.offsetY);
      if (n < 0) return;
      e.preventDefault();
      this.events.onContextMenu(n, e.clientX, e.clientY);
    });
    new ResizeObserver(() => this.invalidate()).observe(this.element);
  }

  setStyle(style: FlameStyle): void {
    this.style = style;
    this.invalidate();
  }

  private paintFrame = 0;

  /** Schedules one repaint for the next animation frame: several state changes in a frame paint once. */
  invalidate(): void {
    if (!this.paintFrame)
      this.paintFrame = requestAnimationFrame(() => {
        this.paintFrame = 0;
        this.paint();
      });
  }

  private nodeFill: { index: Uint8Array; palette: readonly string[] } | undefined;

  /** Colours per name (by package), or per node from a palette (diff graphs). */
  setData(
    tree: FlameTree,
    colors: string[],
    nodeFill?: { index: Uint8Array; palette: readonly string[] },
  ): void {
    this.tree = tree;
    this.colors = colors;
    this.nodeFill = nodeFill;
    this.zoom = 0;
    this.hovered = -1;
  }

  setZoom(node: number): void {
    this.zoom = Math.max(node, 0);
    // The zoomed frame's name, for assistive technology and the browser tests.
    const t = this.tree;
    this.element.dataset.zoomed = t && this.zoom > 0 && this.zoom < t.count ? t.names[t.name[this.zoom]] : '';
    this.paint();
  }

  setSearch(nameMatches: Uint8Array | undefined): void {
    // Every state change re-sends the matches: repaint only when they differ (a zoom already painted).
    if (sameMatches(nameMatches, this.nameMatches)) return;
    this.nameMatches = nameMatches;
    this.invalidate();
  }

  /** Outline every visible frame of one function (table hover) or none (-1). */
  setHighlightName(name: number): void {
    if (name === this.highlightName) return;
    this.highlightName = name;
    this.paintOverlay();
  }

  setSelectedName(name: number): void {
    this.selectedName = name;
    this.paintOverlay();
  }

  get data(): FlameTree | undefined {
    return this.tree;
  }

  get zoomed(): number {
    return this.zoom;
  }

  get canvas(): HTMLCanvasElement {
    return this.base;
  }

  private onPointerFrame(): void {
    this.pending = 0;
    const p = this.pointer;
    if (!p) return;
    this.events.onHover(this.hoverAt(p.x, p.y), p.cx, p.cy);
  }

  /** Hit-tests a point (CSS pixels in the canvas) and outlines the node under it; the node or -1. */
  hoverAt(x: number, y: number): number {
    const n = this.nodeAt(x, y);
    this.setHovered(n);
    return n;
  }

  private setHovered(n: number): void {
    if (n === this.hovered) return;
    this.hovered = n;
    this.overlay.style.cursor = n >= 0 ? 'pointer' : 'default';
    this.paintOverlay();
  }

  nodeAt(x: number, y: number): number {
    const tree = this.tree;
    if (!tree) return -1;
    const level = levelAtY(this.vp, y);
    const n = nodeAtTick(tree, level, tickAtX(this.vp, x));
    if (n < 0) return -1;
    // Frames culled as narrower than a pixel are not hoverable; frames above the zoomed node are (to zoom out).
    return tree.total[n] * (this.vp.widthPx / (this.vp.endTick - this.vp.startTick)) >= 1 ? n : -1;
  }

  /** Recomputes the geometry and repaints the bars; the cost is bounded by the visible, non-culled frames. */
  paint(): void {
    const t0 = performance.now();
    const tree = this.tree;
    const width = Math.max(1, this.element.clientWidth);
    const depth = tree ? tree.depth : 0;
    const rows = Math.min(depth, MAX_ROWS);
    const height = Math.max(ROW_HEIGHT, rows * ROW_HEIGHT);
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.overlay]) {
      if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
        c.width = Math.round(width * dpr);
        c.height = Math.round(height * dpr);
        c.style.width = `${width}px`;
        c.style.height = `${height}px`;
      }
    }
    const ctx = this.base.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = this.style.background;
    ctx.fillRect(0, 0, width, height);
    if (!tree || tree.count === 0) return;
    const z = this.zoom < tree.count ? this.zoom : 0;
    this.vp = {
      startTick: tree.start[z],
      endTick: tree.start[z] + tree.total[z],
      widthPx: width,
      rowHeightPx: ROW_HEIGHT,
      firstLevel: tree.level[z] < MAX_ROWS - 100 ? 0 : tree.level[z] - 10,
      rows,
      invertedHeight: this.orientation === 'up' ? height : undefined,
    };
    this.layout = layoutFlame(tree, this.vp, this.layout);
    this.lastLayoutMs = performance.now() - t0;
    ctx.font = FONT;
    this.charWidth = ctx.measureText('MMMMMMMMMM').width / 10;
    ctx.textBaseline = 'middle';
    const { layout, style } = this;
    const zoomLevel = tree.level[z];
    const matches = this.nameMatches;
    for (let k = 0; k < layout.count; k++) {
      const i = layout.node[k];
      const x = layout.x[k];
      const y = layout.y[k];
      const w = layout.width[k];
      const nameIdx = tree.name[i];
      const dimmed = matches !== undefined && matches[nameIdx] === 0;
      const other = isOtherNode(tree, i);
      const ancestor = tree.level[i] < zoomLevel;
      ctx.globalAlpha = ancestor ? 0.5 : 1;
      ctx.fillStyle = dimmed
        ? style.dimFill
        : this.nodeFill
          ? this.nodeFill.palette[this.nodeFill.index[i]]
          : other
            ? style.otherFill
            : i === 0
              ? style.rootFill
              : this.colors[nameIdx];
      ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW_HEIGHT - 1);
      if (w >= this.charWidth * 3) {
        const label = fitLabel(
          i === 0 ? 'total' : other ? 'other (truncated by the server)' : tree.names[nameIdx],
          w - 6,
          this.charWidth,
        );
        if (label) {
          ctx.fillStyle = dimmed ? style.dimText : '#1d1b19';
          ctx.fillText(label, x + 3, y + ROW_HEIGHT / 2);
        }
      }
    }
    ctx.globalAlpha = 1;
    this.lastPaintMs = performance.now() - t0;
    this.paintOverlay();
    this.events.onPaint?.(this.lastPaintMs);
  }

  private paintOverlay(): void {
    const ctx = this.overlay.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width / dpr, this.overlay.height / dpr);
    const tree = this.tree;
    if (!tree) return;
    const { layout } = this;
    for (const [name, stroke] of [
      [this.selectedName, this.style.highlightStroke],
      [this.highlightName, this.style.highlightStroke],
    ] as const) {
      if (name < 0) continue;
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 2;
      for (let k = 0; k < layout.count; k++)
        if (tree.name[layout.node[k]] === name)
          ctx.strokeRect(layout.x[k] + 1, layout.y[k] + 1, Math.max(1, layout.width[k] - 3), ROW_HEIGHT - 3);
    }
    if (this.hovered >= 0) {
      for (let k = 0; k < layout.count; k++)
        if (layout.node[k] === this.hovered) {
          ctx.strokeStyle = this.style.hoverStroke;
          ctx.lineWidth = 2;
          ctx.strokeRect(layout.x[k] + 1, layout.y[k] + 1, Math.max(1, layout.width[k] - 3), ROW_HEIGHT - 3);
          break;
        }
    }
  }
}

function sameMatches(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
