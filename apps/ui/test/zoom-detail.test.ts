import { describe, expect, it } from 'vitest';
import { decodeFlamebearer, type Flamebearer, nodeOfPath } from '../src/flamebearer.js';
import {
  DetailMissingError,
  deepestOnPath,
  focusParam,
  hasTruncatedBelow,
  spliceDetail,
} from '../src/zoom-detail.js';

/** main → a (5: its callees c 3 and d 2 cut into "other") and b (3, calls e). */
const TRUNCATED: Flamebearer = {
  names: ['total', 'main', 'a', 'b', 'other', 'e'],
  levels: [
    [0, 8, 0, 0],
    [0, 8, 0, 1],
    [0, 5, 0, 2, 0, 3, 0, 3],
    [0, 5, 5, 4, 0, 3, 3, 5],
  ],
  numTicks: 8,
  maxSelf: 5,
};

/** The server's answer for focus=main;a: a root whose one child is a, with everything below it. */
function focusedA(c: number, d: number): Flamebearer {
  return {
    names: ['total', 'a', 'c', 'd'],
    levels: [
      [0, c + d, 0, 0],
      [0, c + d, 0, 1],
      [0, c, c, 2, 0, d, d, 3],
    ],
    numTicks: c + d,
    maxSelf: Math.max(c, d),
  };
}

describe('zoom detail', () => {
  const tree = decodeFlamebearer(TRUNCATED);
  const a = nodeOfPath(tree, ['main', 'a']);
  const b = nodeOfPath(tree, ['main', 'b']);

  it('finds truncated frames below a node, and only below it', () => {
    expect(hasTruncatedBelow(tree, a)).toBe(true);
    expect(hasTruncatedBelow(tree, b)).toBe(false);
    expect(hasTruncatedBelow(tree, 0)).toBe(true);
    expect(hasTruncatedBelow(tree, nodeOfPath(tree, ['main', 'b', 'e']))).toBe(false);
  });

  it('writes the focus parameter, refusing names with its separator', () => {
    expect(focusParam(['main', 'a'])).toBe('main;a');
    expect(focusParam([])).toBeUndefined();
    expect(focusParam(['main', 'x;y'])).toBeUndefined();
  });

  it('finds the deepest frame of a path that was cut', () => {
    expect(deepestOnPath(tree, ['main', 'a', 'c'])).toEqual({ node: a, depth: 2 });
    expect(deepestOnPath(tree, ['nope'])).toEqual({ node: 0, depth: 0 });
  });

  it('splices the refetched subtree in place, with the whole profile total unchanged', () => {
    const s = spliceDetail(TRUNCATED, tree, a, focusedA(3, 2));
    expect(s).toMatchObject({ before: 5, after: 5 });
    expect(s.raw).toEqual({
      names: ['total', 'main', 'a', 'b', 'other', 'e', 'c', 'd'],
      levels: [
        [0, 8, 0, 0],
        [0, 8, 0, 1],
        [0, 5, 0, 2, 0, 3, 0, 3],
        [0, 3, 3, 6, 0, 2, 2, 7, 0, 3, 3, 5],
      ],
      numTicks: 8,
      maxSelf: 3,
    });
    const t = decodeFlamebearer(s.raw);
    const c = nodeOfPath(t, ['main', 'a', 'c']);
    expect([t.total[c], t.self[c], t.numTicks]).toEqual([3, 3, 8]);
    expect(hasTruncatedBelow(t, 0)).toBe(false);
  });

  it('prefers the refetched numbers when the data changed: ancestors grow, frames to the right shift', () => {
    const s = spliceDetail(TRUNCATED, tree, a, focusedA(4, 2));
    expect(s).toMatchObject({ before: 5, after: 6 });
    expect(s.raw.numTicks).toBe(9);
    expect(s.raw.levels).toEqual([
      [0, 9, 0, 0],
      [0, 9, 0, 1],
      [0, 6, 0, 2, 0, 3, 0, 3],
      [0, 4, 4, 6, 0, 2, 2, 7, 0, 3, 3, 5],
    ]);
    const t = decodeFlamebearer(s.raw);
    expect(t.start[nodeOfPath(t, ['main', 'b', 'e'])]).toBe(6);
  });

  it('splices a deeper answer than the graph had, and a subtree in the middle of a level', () => {
    const deep: Flamebearer = {
      names: ['total', 'b', 'e', 'f'],
      levels: [
        [0, 3, 0, 0],
        [0, 3, 0, 1],
        [0, 3, 1, 2],
        [0, 2, 2, 3],
      ],
      numTicks: 3,
      maxSelf: 2,
    };
    const s = spliceDetail(TRUNCATED, tree, b, deep);
    const t = decodeFlamebearer(s.raw);
    expect(t.depth).toBe(5);
    const f = nodeOfPath(t, ['main', 'b', 'e', 'f']);
    expect([t.start[f], t.total[f]]).toEqual([5, 2]);
    expect(t.self[nodeOfPath(t, ['main', 'b', 'e'])]).toBe(1);
    expect(nodeOfPath(t, ['main', 'a'])).toBeGreaterThan(0);
  });

  it('refuses an answer without the frame (gone from the server)', () => {
    const empty: Flamebearer = { names: ['total'], levels: [[0, 0, 0, 0]], numTicks: 0, maxSelf: 0 };
    expect(() => spliceDetail(TRUNCATED, tree, a, empty)).toThrow(DetailMissingError);
  });
});
