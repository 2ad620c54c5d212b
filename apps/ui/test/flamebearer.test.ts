import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFlamebearer,
  isOtherNode,
  nodeAtTick,
  nodeOfPath,
  otherTotal,
  pathOf,
} from '../src/flamebearer.js';
import { emptyLayout, fitLabel, layoutFlame, levelAtY, tickAtX, type Viewport } from '../src/geometry.js';
import { invertFlamebearer } from '../src/invert.js';
import { EXAMPLE, randomFlamebearer } from './fixtures.js';

const nameAt = (t: ReturnType<typeof decodeFlamebearer>, i: number) => t.names[t.name[i]];

describe('decodeFlamebearer', () => {
  it('decodes delta-encoded x offsets, levels and parents', () => {
    const t = decodeFlamebearer(EXAMPLE);
    expect(t.count).toBe(5);
    expect(t.depth).toBe(3);
    expect([...t.levelStart]).toEqual([0, 1, 3, 5]);
    expect([...t.start]).toEqual([0, 0, 4, 1, 3]);
    expect([...t.total]).toEqual([7, 4, 3, 2, 1]);
    expect([...t.self]).toEqual([0, 1, 3, 2, 1]);
    expect(Array.from(t.name, (n) => EXAMPLE.names[n])).toEqual(['total', 'foo', 'qux', 'bar', 'baz']);
    expect([...t.parent]).toEqual([-1, 0, 0, 1, 1]);
    expect([...t.firstChild]).toEqual([1, 3, -1, -1, -1]);
    expect([...t.childEnd]).toEqual([3, 5, 0, 0, 0]);
  });

  it('hit-tests by level and tick', () => {
    const t = decodeFlamebearer(EXAMPLE);
    expect(nameAt(t, nodeAtTick(t, 1, 3.9))).toBe('foo');
    expect(nameAt(t, nodeAtTick(t, 1, 4))).toBe('qux');
    // foo's own self sits left of its children: no level-2 node at tick 0.5, nor under qux.
    expect(nodeAtTick(t, 2, 0.5)).toBe(-1);
    expect(nodeAtTick(t, 2, 5)).toBe(-1);
    expect(nameAt(t, nodeAtTick(t, 2, 3.5))).toBe('baz');
    expect(nodeAtTick(t, 3, 1)).toBe(-1);
  });

  it('round-trips focus paths', () => {
    const t = decodeFlamebearer(EXAMPLE);
    for (let i = 0; i < t.count; i++) expect(nodeOfPath(t, pathOf(t, i))).toBe(i);
    expect(pathOf(t, 4)).toEqual(['foo', 'baz']);
    expect(nodeOfPath(t, ['foo', 'nope'])).toBe(-1);
    expect(nodeOfPath(t, ['qux', 'bar'])).toBe(-1);
  });

  it('recognises the server\'s "other" truncation nodes', () => {
    const t = decodeFlamebearer({
      names: ['total', 'a', 'other'],
      levels: [
        [0, 10, 0, 0],
        [0, 8, 8, 1, 0, 2, 2, 2],
      ],
      numTicks: 10,
      maxSelf: 8,
    });
    expect(isOtherNode(t, 2)).toBe(true);
    expect(isOtherNode(t, 1)).toBe(false);
    expect(otherTotal(t)).toEqual({ nodes: 1, ticks: 2 });
  });

  it('decodes an empty profile', () => {
    const t = decodeFlamebearer({ names: [], levels: [], numTicks: 0, maxSelf: 0 });
    expect(t.count).toBe(0);
    expect(layoutFlame(t, vp(100, 0, 1), emptyLayout()).count).toBe(0);
  });
});

function vp(widthPx: number, startTick: number, endTick: number): Viewport {
  return { startTick, endTick, widthPx, rowHeightPx: 20, firstLevel: 0, rows: 100 };
}

describe('layoutFlame (geometry without a canvas)', () => {
  it('places every node at scale', () => {
    const t = decodeFlamebearer(EXAMPLE);
    const l = layoutFlame(t, vp(700, 0, 7), emptyLayout(2));
    const rects = Array.from({ length: l.count }, (_, k) => [
      nameAt(t, l.node[k]),
      l.x[k],
      l.y[k],
      l.width[k],
    ]);
    expect(rects).toEqual([
      ['total', 0, 0, 700],
      ['foo', 0, 20, 400],
      ['qux', 400, 20, 300],
      ['bar', 100, 40, 200],
      ['baz', 300, 40, 100],
    ]);
  });

  it('zooms: only the focused range is laid out, clipped, ancestors full width', () => {
    const t = decodeFlamebearer(EXAMPLE);
    const l = layoutFlame(t, vp(400, 0, 4), emptyLayout());
    const rects = Array.from({ length: l.count }, (_, k) => [nameAt(t, l.node[k]), l.x[k], l.width[k]]);
    expect(rects).toEqual([
      ['total', 0, 400],
      ['foo', 0, 400],
      ['bar', 100, 200],
      ['baz', 300, 100],
    ]);
  });

  it('culls nodes narrower than a pixel', () => {
    const t = decodeFlamebearer(EXAMPLE);
    // 7 px wide: baz (1 tick) is exactly 1 px and kept; at 6 px it is culled.
    expect(layoutFlame(t, vp(7, 0, 7), emptyLayout()).count).toBe(5);
    const l = layoutFlame(t, vp(6, 0, 7), emptyLayout());
    expect(Array.from(l.node.subarray(0, l.count), (i) => nameAt(t, i))).toEqual([
      'total',
      'foo',
      'qux',
      'bar',
    ]);
  });

  it('bounds the work by what is visible on a 100k-node profile', () => {
    const n = 100_000;
    const level1: number[] = [];
    for (let i = 0; i < n; i++) level1.push(0, 1, 1, 1);
    const t = decodeFlamebearer({
      names: ['total', 'f'],
      levels: [[0, n, 0, 0], level1],
      numTicks: n,
      maxSelf: 1,
    });
    expect(layoutFlame(t, vp(1000, 0, n), emptyLayout()).count).toBe(1); // only the root is ≥ 1 px
    const zoomed = layoutFlame(t, vp(1000, 500, 600), emptyLayout());
    expect(zoomed.count).toBe(101); // root + 100 visible children of 10 px
  });

  it('culls whole blocks of narrow nodes exactly like a walk over every node', () => {
    /** Every node of the visible levels inside the viewport, at least a pixel wide once clipped. */
    const walk = (t: ReturnType<typeof decodeFlamebearer>, v: Viewport) => {
      const scale = v.widthPx / (v.endTick - v.startTick);
      const rects: number[][] = [];
      for (let i = 0; i < t.count; i++) {
        const x0 = Math.max(0, (t.start[i] - v.startTick) * scale);
        const x1 = Math.min(v.widthPx, (t.start[i] + t.total[i] - v.startTick) * scale);
        if (t.total[i] * scale >= 1 && x1 - x0 >= 1 && t.start[i] < v.endTick)
          rects.push([i, x0, t.level[i] * 20, x1 - x0]);
      }
      return rects;
    };
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 400 })
          .chain((size) =>
            fc.tuple(
              fc.array(fc.nat(1000), { minLength: size, maxLength: size }),
              fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: size, maxLength: size }),
              fc.nat(),
              fc.integer({ min: 1, max: 2000 }),
            ),
          ),
        ([parents, selfs, zoom, width]) => {
          const t = decodeFlamebearer(randomFlamebearer(parents, parents, selfs, 8));
          const z = zoom % t.count;
          const v = vp(width, t.start[z], t.start[z] + t.total[z]);
          const l = layoutFlame(t, v, emptyLayout());
          const rects = Array.from({ length: l.count }, (_, k) => [l.node[k], l.x[k], l.y[k], l.width[k]]);
          expect(rects).toEqual(walk(t, v).map((r) => r.map(Math.fround)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maps pointer coordinates back to levels and ticks, in both orientations', () => {
    const v = vp(700, 0, 7);
    expect(levelAtY(v, 45)).toBe(2);
    expect(tickAtX(v, 350)).toBe(3.5);
    expect(levelAtY({ ...v, invertedHeight: 60 }, 55)).toBe(0);
  });

  it('fits labels with an ellipsis', () => {
    expect(fitLabel('net/http.(*conn).serve', 70, 7)).toBe('net/http.…');
    expect(fitLabel('main', 70, 7)).toBe('main');
    expect(fitLabel('main', 7, 7)).toBe('');
  });
});

describe('invertFlamebearer (bottom-up)', () => {
  it('makes self-time functions the roots and their callers the children', () => {
    const inv = decodeFlamebearer(invertFlamebearer(EXAMPLE));
    const byPath = (path: string[]) => nodeOfPath(inv, path);
    expect(inv.numTicks).toBe(7);
    expect(inv.total[byPath(['qux'])]).toBe(3);
    expect(inv.self[byPath(['qux'])]).toBe(3);
    expect(inv.total[byPath(['bar'])]).toBe(2);
    expect(inv.total[byPath(['bar', 'foo'])]).toBe(2);
    expect(inv.total[byPath(['foo'])]).toBe(1); // foo's own self
    expect(inv.total[byPath(['baz', 'foo'])]).toBe(1);
    // Level 1 sums to the whole profile.
    let sum = 0;
    for (let i = inv.levelStart[1]; i < inv.levelStart[2]; i++) sum += inv.total[i];
    expect(sum).toBe(7);
  });
});
