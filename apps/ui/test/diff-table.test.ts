import { describe, expect, it } from 'vitest';
import {
  type DiffRow,
  filterDiffRows,
  formatDelta,
  formatRelativeChange,
  formatShare,
  parseDiffTable,
  sortDiffRows,
} from '../src/diff-table.js';

/** The server's JSON (`GET /api/v1/diff-table`, normalized): baseline 100 ticks, comparison 200. */
const ANSWER = {
  leftTicks: 100,
  rightTicks: 200,
  count: 4,
  normalized: true,
  rows: [row('search', 10, 60, null), row('checkout', 50, 40), row('json', 30, 60), row('gc', 10, 0)],
  metadata: { units: 'samples' },
};

function row(name: string, left: number, right: number, rel?: number | null) {
  const baseline = left / 100;
  const comparison = right / 200;
  const change = comparison - baseline;
  return {
    name,
    baselineSelf: left,
    baselineTotal: left,
    comparisonSelf: right,
    comparisonTotal: right,
    baseline,
    comparison,
    change,
    relativeChange: rel === undefined ? (baseline === 0 ? null : change / baseline) : rel,
  };
}

describe('diff table', () => {
  it("reads the server's answer and refuses anything else", () => {
    const t = parseDiffTable(ANSWER);
    expect(t).toMatchObject({ leftTicks: 100, rightTicks: 200, count: 4, normalized: true });
    expect(t.rows).toHaveLength(4);
    expect(t.rows[0].relativeChange).toBeNull();
    expect(parseDiffTable({ ...ANSWER, normalized: false }).normalized).toBe(false);
    expect(() => parseDiffTable({ rows: 'no' })).toThrow(/rows/);
    expect(() => parseDiffTable({ rows: [{ name: 'x', baseline: 'a' }] })).toThrow(/number/);
    expect(() => parseDiffTable(null)).toThrow(/object/);
  });

  it('sorts by every column, both ways, ties by name', () => {
    const rows = parseDiffTable(ANSWER).rows;
    const names = (r: DiffRow[]) => r.map((x) => x.name);
    // delta = comparison share − baseline share: search +0.2, json 0, checkout −0.3, gc −0.1
    expect(names(sortDiffRows(rows, 'delta', true))).toEqual(['search', 'json', 'gc', 'checkout']);
    expect(names(sortDiffRows(rows, 'delta', false))).toEqual(['checkout', 'gc', 'json', 'search']);
    // A function new in the comparison is the biggest relative change.
    expect(names(sortDiffRows(rows, 'change', true))).toEqual(['search', 'json', 'checkout', 'gc']);
    expect(names(sortDiffRows(rows, 'baseline', true))).toEqual(['checkout', 'json', 'gc', 'search']);
    expect(names(sortDiffRows(rows, 'comparison', true))).toEqual(['json', 'search', 'checkout', 'gc']);
    expect(names(sortDiffRows(rows, 'name', false))).toEqual(['checkout', 'gc', 'json', 'search']);
    // The input is left as it was.
    expect(names(rows)).toEqual(['search', 'checkout', 'json', 'gc']);
  });

  it('filters by the search', () => {
    const rows = parseDiffTable(ANSWER).rows;
    expect(filterDiffRows(rows, (n) => n.includes('c')).map((r) => r.name)).toEqual([
      'search',
      'checkout',
      'gc',
    ]);
  });

  it('formats shares, Δ and the relative change with their colour class', () => {
    const [search, checkout, json, gc] = parseDiffTable(ANSWER).rows;
    expect(formatShare(0.3)).toBe('30.0%');
    expect(formatShare(0.0123)).toBe('1.23%');
    expect(formatRelativeChange(search)).toEqual({ text: 'new', cls: 'grew' });
    expect(formatRelativeChange(checkout)).toEqual({ text: '−60.0%', cls: 'shrank' });
    expect(formatRelativeChange(json)).toEqual({ text: '±0.0%', cls: 'same' });
    expect(formatRelativeChange(gc)).toEqual({ text: 'gone', cls: 'shrank' });
    expect(formatRelativeChange({ ...json, relativeChange: 1.5 })).toEqual({ text: '+150%', cls: 'grew' });
    expect(formatRelativeChange({ ...json, relativeChange: 0.01 }).cls).toBe('same');
    expect(formatDelta(search, true, String)).toBe('+20.0 pp');
    expect(formatDelta(gc, true, String)).toBe('−10.0 pp');
    expect(formatDelta({ ...json, change: 0.005 }, true, String)).toBe('+0.50 pp');
    expect(formatDelta({ ...gc, change: -10 }, false, (v) => `${v} s`)).toBe('−10 s');
  });
});
