import { decodeFlamebearer, type Flamebearer, type FlameTree } from './flamebearer.js';

/**
 * Diff flame graphs (`/pyroscope/render-diff`): the wire format has 7 numbers per node,
 * `[lDelta, lTotal, lSelf, rDelta, rTotal, rSelf, nameIndex]`, both sides aligned so every node exists on both
 * (zeros where missing), each side's x delta-encoded against its own previous node. A node is drawn as wide as
 * both sides together, at x = left x + right x, so the geometry and painter of single flame graphs are reused.
 */
export interface DiffTree {
  tree: FlameTree;
  left: Float64Array;
  right: Float64Array;
  leftTicks: number;
  rightTicks: number;
}

export function decodeDiffFlamebearer(fb: Flamebearer, leftTicks: number, rightTicks: number): DiffTree {
  const levels: number[][] = [];
  const leftOf: number[] = [];
  const rightOf: number[] = [];
  for (const v of fb.levels) {
    const row: number[] = [];
    let lPrev = 0;
    let rPrev = 0;
    let prevEnd = 0;
    for (let k = 0; k + 6 < v.length; k += 7) {
      const lx = lPrev + v[k];
      const rx = rPrev + v[k + 3];
      lPrev = lx + v[k + 1];
      rPrev = rx + v[k + 4];
      const x = lx + rx;
      const total = v[k + 1] + v[k + 4];
      row.push(x - prevEnd, total, v[k + 2] + v[k + 5], v[k + 6]);
      prevEnd = x + total;
      leftOf.push(v[k + 1]);
      rightOf.push(v[k + 4]);
    }
    levels.push(row);
  }
  const tree = decodeFlamebearer({
    names: fb.names,
    levels,
    numTicks: leftTicks + rightTicks,
    maxSelf: fb.maxSelf,
  });
  return { tree, left: Float64Array.from(leftOf), right: Float64Array.from(rightOf), leftTicks, rightTicks };
}

/**
 * Relative change of a node's share of its side's total: (right share − left share) / left share; +Infinity for a
 * node that is new on the right, -1 for one that disappeared. `absolute` compares raw values instead of shares.
 */
export function relativeChange(d: DiffTree, i: number, absolute = false): number {
  const l = absolute ? d.left[i] : d.leftTicks > 0 ? d.left[i] / d.leftTicks : 0;
  const r = absolute ? d.right[i] : d.rightTicks > 0 ? d.right[i] / d.rightTicks : 0;
  if (l === 0) return r === 0 ? 0 : Number.POSITIVE_INFINITY;
  return (r - l) / l;
}

/** 10 shades of green (shrank), grey (unchanged within ±2 %), 10 shades of red (grew), by |change| up to 100 %. */
export const DIFF_STEPS = 10;

export function diffColorIndex(change: number): number {
  if (Math.abs(change) < 0.02) return DIFF_STEPS;
  const step = Math.max(1, Math.min(DIFF_STEPS, Math.ceil(Math.min(1, Math.abs(change)) * DIFF_STEPS)));
  return change > 0 ? DIFF_STEPS + step : DIFF_STEPS - step;
}

export function diffPalette(colorBlind = false): string[] {
  const out: string[] = [];
  const [shrank, grew] = colorBlind
    ? [
        [33, 102, 172],
        [230, 97, 1],
      ]
    : [
        [46, 160, 67],
        [218, 54, 51],
      ];
  const grey = [200, 200, 205];
  const mix = (c: number[], t: number) =>
    `rgb(${c.map((v, k) => Math.round(grey[k] + (v - grey[k]) * t)).join(',')})`;
  for (let s = DIFF_STEPS; s >= 1; s--) out.push(mix(shrank, 0.25 + (0.75 * s) / DIFF_STEPS));
  out.push(mix(grey, 0));
  for (let s = 1; s <= DIFF_STEPS; s++) out.push(mix(grew, 0.25 + (0.75 * s) / DIFF_STEPS));
  return out;
}

export function nodeDiffColors(d: DiffTree, absolute = false): Uint8Array {
  const out = new Uint8Array(d.tree.count);
  for (let i = 0; i < d.tree.count; i++) out[i] = diffColorIndex(relativeChange(d, i, absolute));
  return out;
}
