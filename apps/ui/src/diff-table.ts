/**
 * The diff table (`GET /api/v1/diff-table`), DOM-free: the server's rows checked and typed, sorting, search
 * filtering and the cells' text. One row per function, aggregated over call sites (recursion counted once):
 * its total in the baseline and in the comparison, as a share of each side's total (or raw values when
 * `absolute`), the difference of the two, and the change relative to the baseline.
 */

import type { DiffTableRow } from '@emberscope/model';

/** A row as the server computes it (packages/model), so the two cannot drift apart. */
export type DiffRow = DiffTableRow;

export interface DiffTableData {
  rows: DiffRow[];
  /** Functions in the comparison of both sides (more than `rows` when the server applied a limit). */
  count: number;
  leftTicks: number;
  rightTicks: number;
  normalized: boolean;
}

/** name, baseline, comparison, delta (comparison − baseline) or change (relative to the baseline). */
export type DiffSortKey = 'name' | 'baseline' | 'comparison' | 'delta' | 'change';

const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`diff table: ${what} is not a number`);
  return v;
};

export function parseDiffTable(json: unknown): DiffTableData {
  if (typeof json !== 'object' || json === null) throw new Error('diff table: not a JSON object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.rows)) throw new Error('diff table: rows is not an array');
  const rows = o.rows.map((r: Record<string, unknown>, i): DiffRow => {
    if (typeof r?.name !== 'string') throw new Error(`diff table: row ${i} has no name`);
    const rel = r.relativeChange;
    return {
      name: r.name,
      baselineSelf: num(r.baselineSelf, 'baselineSelf'),
      baselineTotal: num(r.baselineTotal, 'baselineTotal'),
      comparisonSelf: num(r.comparisonSelf, 'comparisonSelf'),
      comparisonTotal: num(r.comparisonTotal, 'comparisonTotal'),
      baseline: num(r.baseline, 'baseline'),
      comparison: num(r.comparison, 'comparison'),
      change: num(r.change, 'change'),
      relativeChange: rel === null || rel === undefined ? null : num(rel, 'relativeChange'),
    };
  });
  return {
    rows,
    count: typeof o.count === 'number' ? o.count : rows.length,
    leftTicks: num(o.leftTicks ?? 0, 'leftTicks'),
    rightTicks: num(o.rightTicks ?? 0, 'rightTicks'),
    normalized: o.normalized !== false,
  };
}

/** A function new in the comparison sorts as an infinite relative change. */
function relative(r: DiffRow): number {
  return r.relativeChange ?? Number.POSITIVE_INFINITY;
}

const byName = (a: DiffRow, b: DiffRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Sorted copy; ties by name, ascending, whatever the direction. */
export function sortDiffRows(rows: readonly DiffRow[], key: DiffSortKey, desc: boolean): DiffRow[] {
  const dir = desc ? -1 : 1;
  const value: (r: DiffRow) => number =
    key === 'baseline'
      ? (r) => r.baseline
      : key === 'comparison'
        ? (r) => r.comparison
        : key === 'delta'
          ? (r) => r.change
          : relative;
  return rows.slice().sort((a, b) => {
    if (key === 'name') return dir * byName(a, b);
    const va = value(a);
    const vb = value(b);
    if (va !== vb) return va < vb ? -dir : dir;
    return byName(a, b);
  });
}

export function filterDiffRows(rows: readonly DiffRow[], matches: (name: string) => boolean): DiffRow[] {
  return rows.filter((r) => matches(r.name));
}

/** A share (0..1) as a percentage with two significant decimals for small values. */
export function formatShare(share: number): string {
  const pct = share * 100;
  return `${pct.toFixed(Math.abs(pct) >= 10 ? 1 : 2)}%`;
}

/** Within ±2 % the change is shown as unchanged (grey in the diff flame graph too). */
const NOISE = 0.02;

export type ChangeClass = 'grew' | 'shrank' | 'same';

/** The "Change" cell: relative to the baseline, signed; "new" and "gone" at the ends. */
export function formatRelativeChange(r: DiffRow): { text: string; cls: ChangeClass } {
  if (r.relativeChange === null) return { text: 'new', cls: 'grew' };
  if (r.relativeChange <= -1 && r.comparison === 0) return { text: 'gone', cls: 'shrank' };
  const pct = r.relativeChange * 100;
  const text = `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${Math.abs(pct).toFixed(Math.abs(pct) >= 100 ? 0 : 1)}%`;
  return { text, cls: r.relativeChange > NOISE ? 'grew' : r.relativeChange < -NOISE ? 'shrank' : 'same' };
}

/**
 * The "Δ" cell: comparison − baseline, in percentage points of each side's total (normalized) or in the
 * profile's unit (absolute).
 */
export function formatDelta(r: DiffRow, normalized: boolean, format: (v: number) => string): string {
  const sign = r.change > 0 ? '+' : r.change < 0 ? '−' : '±';
  if (normalized) {
    const pp = Math.abs(r.change * 100);
    return `${sign}${pp.toFixed(pp >= 10 ? 1 : 2)} pp`;
  }
  return `${sign}${format(Math.abs(r.change))}`;
}
