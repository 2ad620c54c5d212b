import type { DiffTableData } from './diff-table.js';
import type { FlameTree } from './flamebearer.js';
import { isOtherNode } from './flamebearer.js';
import { humanProfileType } from './format.js';
import { parseSelector, serviceOf, splitQuery } from './selector.js';

/**
 * Exports computed on the client or requested over the v1 API (so they use the same query as the view, never a
 * third party): the merged pprof from `SelectMergeProfile` over binary Connect, and collapsed ("folded") text from
 * the flame graph on screen.
 */

function varint(out: number[], value: number): void {
  // Non-negative integers up to 2^53: split with division, since bitwise operators truncate to 32 bits.
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function stringField(out: number[], field: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  varint(out, (field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/**
 * `querier.v1.SelectMergeProfileRequest` in protobuf wire format: profile_typeID = 1, label_selector = 2,
 * start = 3 and end = 4 (int64 milliseconds).
 */
export function encodeSelectMergeProfileRequest(
  profileTypeId: string,
  labelSelector: string,
  startMs: number,
  endMs: number,
): Uint8Array {
  const out: number[] = [];
  stringField(out, 1, profileTypeId);
  stringField(out, 2, labelSelector);
  varint(out, 3 << 3);
  varint(out, startMs);
  varint(out, 4 << 3);
  varint(out, endMs);
  return Uint8Array.from(out);
}

/**
 * Collapsed stacks (`a;b;c 42` per line, root first) of the tree on screen; the server's "other" buckets are
 * written as `…;other` so the totals still add up.
 */
export function toCollapsed(tree: FlameTree): string {
  const lines: string[] = [];
  const path: string[] = [];
  if (tree.count === 0) return '';
  const stack: number[] = [0];
  while (stack.length > 0) {
    const entry = stack.pop() as number;
    if (entry < 0) {
      path.pop();
      continue;
    }
    const i = entry;
    if (tree.level[i] > 0) {
      path.push(isOtherNode(tree, i) ? 'other' : tree.names[tree.name[i]]);
      stack.push(~i);
      if (tree.self[i] > 0) lines.push(`${path.join(';')} ${tree.self[i]}`);
    }
    for (let c = tree.childEnd[i] - 1; c >= tree.firstChild[i] && c >= 0; c--) stack.push(c);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * A download's file name without extension: service, profile type and range in Unix seconds, plus what the file
 * holds when a view exports several (`checkout-cpu-baseline-1700000000-1700003600`).
 */
export function exportFileBase(query: string, fromMs: number, untilMs: number, part?: string): string {
  const { profileType, selector } = splitQuery(query);
  let service: string | undefined;
  try {
    service = serviceOf(parseSelector(selector));
  } catch {
    // A query the server refused still names its file, after the profile type alone.
  }
  const type = humanProfileType(profileType)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');
  const name = [service ?? 'profile', type, part, Math.floor(fromMs / 1000), Math.floor(untilMs / 1000)]
    .filter((p) => p !== undefined && p !== '')
    .join('-');
  // Safe on every file system: no path separators, quotes or control characters from label values.
  return name.replace(/[^\w.@+-]+/g, '_');
}

const csvField = (v: string | number | null): string => {
  const text = v === null ? '' : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * The diff table as CSV (RFC 4180): each function's self and total on both sides in the profile's unit, then
 * the compared values (shares of each side's total, or raw values in absolute mode), their difference and the
 * change relative to the baseline (empty for a function new in the comparison).
 */
export function toDiffCsv(table: DiffTableData): string {
  const compared = table.normalized
    ? ['baseline_share', 'comparison_share', 'change_share']
    : ['baseline_value', 'comparison_value', 'change_value'];
  const header = [
    'function',
    'baseline_self',
    'baseline_total',
    'comparison_self',
    'comparison_total',
    ...compared,
    'relative_change',
  ];
  const lines = [header.join(',')];
  for (const r of table.rows)
    lines.push(
      [
        r.name,
        r.baselineSelf,
        r.baselineTotal,
        r.comparisonSelf,
        r.comparisonTotal,
        r.baseline,
        r.comparison,
        r.change,
        r.relativeChange,
      ]
        .map(csvField)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
