/**
 * Comparison and diff views, the DOM-free part: two sides (baseline = left, comparison = right), each a query over
 * a time range; the "compare with … prior" presets that place the baseline before the comparison; and the window
 * of the shared timeline that shows both selections. Relative expressions (`now-1h`) stay relative when shifted,
 * so a shared link keeps meaning "the last hour against the hour before".
 */
import { type FlameTree, nodeOfPath } from './flamebearer.js';
import { resolveTime } from './time.js';

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** The "compare with … prior" presets: the baseline is the comparison range shifted back this far. */
export const COMPARE_OFFSETS: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };

export type BaselinePreset = '1h' | '24h' | '7d' | 'previous';

export const BASELINE_PRESETS: ReadonlyArray<{ id: BaselinePreset; label: string; title: string }> = [
  { id: '1h', label: '1 h prior', title: 'Baseline: the same range one hour earlier' },
  { id: '24h', label: '24 h prior', title: 'Baseline: the same range one day earlier' },
  { id: '7d', label: '7 d prior', title: 'Baseline: the same range one week earlier' },
  { id: 'previous', label: 'Previous period', title: 'Baseline: the range of the same length just before' },
];

export interface MsRange {
  fromMs: number;
  untilMs: number;
}

export interface ExprRange {
  from: string;
  until: string;
}

/** A duration as a `now-…` suffix: the largest unit that divides it (whole seconds; days from two days on). */
function durationExpr(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 2 * 86400 && s % 86400 === 0) return `${s / 86400}d`;
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (s > 0 && s % size === 0) return `${s / size}${unit}`;
  return `${s}s`;
}

/** A time expression moved `offsetMs` earlier: `now` → `now-1h`, `now-1h` → `now-2h`, `1700000000000` → ms − offset. */
export function shiftTime(expr: string, offsetMs: number): string {
  const s = expr.trim();
  if (s === 'now' || s === '') return offsetMs === 0 ? 'now' : `now-${durationExpr(offsetMs)}`;
  const rel = /^now-(\d+)([smhdw])$/.exec(s);
  if (rel) return `now-${durationExpr(Number(rel[1]) * UNIT_MS[rel[2]] + offsetMs)}`;
  if (/^\d+$/.test(s)) return String(resolveTime(s, 0) - offsetMs);
  return s;
}

/** Resolves a range against `nowMs`; unreadable or empty ranges become the hour before now. */
export function resolveRange(r: ExprRange, nowMs: number): MsRange {
  let fromMs = resolveTime(r.from, nowMs);
  let untilMs = resolveTime(r.until, nowMs);
  if (!Number.isFinite(fromMs)) fromMs = nowMs - 3600e3;
  if (!Number.isFinite(untilMs)) untilMs = nowMs;
  if (untilMs <= fromMs) untilMs = fromMs + 1000;
  return { fromMs, untilMs };
}

/** The baseline a preset gives for a comparison range: shifted back by 1 h, 24 h, 7 d, or by its own length. */
export function baselineFor(comparison: ExprRange, preset: BaselinePreset, nowMs: number): ExprRange {
  let offset = COMPARE_OFFSETS[preset];
  if (preset === 'previous') {
    const r = resolveRange(comparison, nowMs);
    offset = r.untilMs - r.fromMs;
  }
  return { from: shiftTime(comparison.from, offset), until: shiftTime(comparison.until, offset) };
}

/** Which preset the baseline currently equals (to the second), or undefined when it was set by hand. */
export function presetOf(
  baseline: ExprRange,
  comparison: ExprRange,
  nowMs: number,
): BaselinePreset | undefined {
  const b = resolveRange(baseline, nowMs);
  for (const { id } of BASELINE_PRESETS) {
    const p = resolveRange(baselineFor(comparison, id, nowMs), nowMs);
    if (Math.abs(p.fromMs - b.fromMs) < 1000 && Math.abs(p.untilMs - b.untilMs) < 1000) return id;
  }
  return undefined;
}

/**
 * The shared timeline's window: the one the user left it at (`kept`) while it still shows both selections,
 * otherwise both selections with a margin of a tenth of their span on each side (never past now).
 */
export function timelineWindow(a: MsRange, b: MsRange, kept: MsRange | undefined, nowMs: number): MsRange {
  const fromMs = Math.min(a.fromMs, b.fromMs);
  const untilMs = Math.max(a.untilMs, b.untilMs);
  if (kept && kept.untilMs > kept.fromMs && kept.fromMs <= fromMs && kept.untilMs >= untilMs) return kept;
  const pad = Math.round((untilMs - fromMs) / 10);
  return { fromMs: fromMs - pad, untilMs: untilMs <= nowMs ? Math.min(nowMs, untilMs + pad) : untilMs };
}

/** A selection moved so that it starts at `fromMs`, keeping its width and staying inside `bounds`. */
export function moveRange(r: MsRange, fromMs: number, bounds: MsRange): MsRange {
  const width = r.untilMs - r.fromMs;
  const start = Math.min(Math.max(fromMs, bounds.fromMs), bounds.untilMs - width);
  return { fromMs: Math.round(start), untilMs: Math.round(start + width) };
}

/**
 * The node of `path` in another tree, or of its longest prefix found there (linked zoom: zooming a frame on one
 * side zooms the other side to the same call path, as far as that side has it); 0 (the root) for none.
 */
export function nodeOfLongestPrefix(tree: FlameTree, path: readonly string[]): number {
  for (let n = path.length; n > 0; n--) {
    const node = nodeOfPath(tree, path.slice(0, n));
    if (node > 0) return node;
  }
  return 0;
}
