import { describe, expect, it } from 'vitest';
import {
  DIFF_STEPS,
  decodeDiffFlamebearer,
  diffColorIndex,
  diffPalette,
  relativeChange,
} from '../src/diff.js';
import { nodeOfPath } from '../src/flamebearer.js';

/** pyroscope-api.md §3.4: left `foo;bar 2`, right `foo;bar 1`, `foo;baz 3`. */
const DIFF = {
  names: ['total', 'foo', 'bar', 'baz'],
  levels: [
    [0, 2, 0, 0, 4, 0, 0],
    [0, 2, 0, 0, 4, 0, 1],
    [0, 2, 2, 0, 1, 1, 2, 0, 0, 0, 0, 3, 3, 3],
  ],
  numTicks: 6,
  maxSelf: 3,
};

describe('diff flame graphs', () => {
  it('lays both sides side by side: width = left + right, x = left x + right x', () => {
    const d = decodeDiffFlamebearer(DIFF, 2, 4);
    const bar = nodeOfPath(d.tree, ['foo', 'bar']);
    const baz = nodeOfPath(d.tree, ['foo', 'baz']);
    expect(d.tree.numTicks).toBe(6);
    expect([d.tree.start[bar], d.tree.total[bar]]).toEqual([0, 3]);
    expect([d.tree.start[baz], d.tree.total[baz]]).toEqual([3, 3]);
    expect([d.left[bar], d.right[bar], d.left[baz], d.right[baz]]).toEqual([2, 1, 0, 3]);
  });

  it('measures change by share of each side (or absolute) and colours it', () => {
    const d = decodeDiffFlamebearer(DIFF, 2, 4);
    const bar = nodeOfPath(d.tree, ['foo', 'bar']);
    const baz = nodeOfPath(d.tree, ['foo', 'baz']);
    expect(relativeChange(d, bar)).toBeCloseTo(-0.75); // 100 % → 25 % of the total
    expect(relativeChange(d, bar, true)).toBeCloseTo(-0.5); // 2 → 1
    expect(relativeChange(d, baz)).toBe(Number.POSITIVE_INFINITY); // new
    expect(diffColorIndex(0)).toBe(DIFF_STEPS);
    expect(diffColorIndex(0.01)).toBe(DIFF_STEPS);
    expect(diffColorIndex(Number.POSITIVE_INFINITY)).toBe(2 * DIFF_STEPS);
    expect(diffColorIndex(-1)).toBe(0);
    expect(diffColorIndex(0.5)).toBe(DIFF_STEPS + 5);
    expect(diffPalette()).toHaveLength(2 * DIFF_STEPS + 1);
  });
});
