import { type FlameTree, firstEndingAfter } from './flamebearer.js';

/**
 * Geometry: which nodes are visible in a viewport, and where, in CSS pixels. Pure (no canvas, no DOM): the painter
 * only walks the arrays this fills. Nodes narrower than `minWidthPx` are culled, so the work per frame is bounded by
 * what can be seen (at most a few nodes per pixel column per row), not by the size of the profile.
 */

export interface Viewport {
  /** Visible tick range: the zoomed node's extent, or the whole profile. */
  startTick: number;
  endTick: number;
  widthPx: number;
  rowHeightPx: number;
  /** Rows above this level are skipped (scrolling). */
  firstLevel: number;
  /** How many rows fit. */
  rows: number;
  /** Bottom-up orientation draws level 0 at the bottom. */
  invertedHeight?: number;
}

export interface Layout {
  count: number;
  node: Int32Array;
  x: Float32Array;
  y: Float32Array;
  width: Float32Array;
}

export function emptyLayout(capacity = 1024): Layout {
  return {
    count: 0,
    node: new Int32Array(capacity),
    x: new Float32Array(capacity),
    y: new Float32Array(capacity),
    width: new Float32Array(capacity),
  };
}

function grow(layout: Layout): Layout {
  const n = layout.node.length * 2;
  const next = emptyLayout(n);
  next.node.set(layout.node);
  next.x.set(layout.x);
  next.y.set(layout.y);
  next.width.set(layout.width);
  next.count = layout.count;
  return next;
}

export const MIN_WIDTH_PX = 1;

const BLOCK = 64;
const blockTotals = new WeakMap<FlameTree, Float64Array>();

/**
 * The largest total of each block of BLOCK consecutive nodes (built once per tree): a block whose largest node is
 * narrower than a pixel is culled whole, so seeing a big profile whole walks its blocks, not its nodes.
 */
function largestPerBlock(tree: FlameTree): Float64Array {
  let max = blockTotals.get(tree);
  if (max) return max;
  max = new Float64Array(Math.ceil(tree.count / BLOCK));
  for (let i = 0; i < tree.count; i++) {
    const b = Math.floor(i / BLOCK);
    if (tree.total[i] > max[b]) max[b] = tree.total[i];
  }
  blockTotals.set(tree, max);
  return max;
}

/**
 * Fills `out` (reused between frames; grown when needed, so use the returned object) with every node of the
 * visible levels that overlaps the viewport and is at least `minWidthPx` wide, clipped to the viewport.
 */
export function layoutFlame(tree: FlameTree, vp: Viewport, out: Layout, minWidthPx = MIN_WIDTH_PX): Layout {
  let layout = out;
  layout.count = 0;
  const span = vp.endTick - vp.startTick;
  if (span <= 0 || tree.count === 0) return layout;
  const scale = vp.widthPx / span;
  const largest = largestPerBlock(tree);
  const lastLevel = Math.min(tree.depth, vp.firstLevel + vp.rows);
  for (let d = Math.max(0, vp.firstLevel); d < lastLevel; d++) {
    const end = tree.levelStart[d + 1];
    const rowY =
      vp.invertedHeight !== undefined
        ? vp.invertedHeight - (d - vp.firstLevel + 1) * vp.rowHeightPx
        : (d - vp.firstLevel) * vp.rowHeightPx;
    for (let i = firstEndingAfter(tree, d, vp.startTick); i < end; i++) {
      if (i % BLOCK === 0 && largest[i / BLOCK] * scale < minWidthPx) {
        i += BLOCK - 1;
        continue;
      }
      const s = tree.start[i];
      if (s >= vp.endTick) break;
      const w = tree.total[i] * scale;
      if (w < minWidthPx) continue;
      const x0 = Math.max(0, (s - vp.startTick) * scale);
      const x1 = Math.min(vp.widthPx, (s + tree.total[i] - vp.startTick) * scale);
      if (x1 - x0 < minWidthPx) continue;
      if (layout.count === layout.node.length) layout = grow(layout);
      const k = layout.count++;
      layout.node[k] = i;
      layout.x[k] = x0;
      layout.y[k] = rowY;
      layout.width[k] = x1 - x0;
    }
  }
  return layout;
}

/** Inverse of the layout for the pointer: the level under a y coordinate. */
export function levelAtY(vp: Viewport, y: number): number {
  const row =
    vp.invertedHeight !== undefined
      ? Math.floor((vp.invertedHeight - y) / vp.rowHeightPx)
      : Math.floor(y / vp.rowHeightPx);
  return row < 0 ? -1 : row + vp.firstLevel;
}

export function tickAtX(vp: Viewport, x: number): number {
  return vp.startTick + (x / vp.widthPx) * (vp.endTick - vp.startTick);
}

/** Text that fits `widthPx` given a fixed character width (monospace): the head of the name plus an ellipsis. */
export function fitLabel(label: string, widthPx: number, charWidthPx: number): string {
  const max = Math.floor(widthPx / charWidthPx);
  if (max <= 1) return '';
  if (label.length <= max) return label;
  return max <= 2 ? label.slice(0, max) : `${label.slice(0, max - 1)}…`;
}
