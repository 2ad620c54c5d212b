/** Time ranges: Pyroscope-style relative expressions (`now-1h`) or absolute milliseconds, and the presets. */

export interface RangePreset {
  label: string;
  from: string;
}

export const RANGE_PRESETS: readonly RangePreset[] = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 30 minutes', from: 'now-30m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 3 hours', from: 'now-3h' },
  { label: 'Last 6 hours', from: 'now-6h' },
  { label: 'Last 12 hours', from: 'now-12h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 2 days', from: 'now-2d' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 14 days', from: 'now-14d' },
  { label: 'Last 30 days', from: 'now-30d' },
];

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `now`, `now-15m`, `now-2d`, unix seconds or milliseconds → milliseconds. NaN when unreadable. */
export function resolveTime(expr: string, nowMs: number): number {
  const s = expr.trim();
  if (s === 'now' || s === '') return nowMs;
  const rel = /^now-(\d+)([smhdw])$/.exec(s);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1000 : n; // seconds (until year 5138) or milliseconds
  }
  return Number.NaN;
}

export function presetLabel(from: string, until: string): string | undefined {
  if (until !== 'now') return undefined;
  return RANGE_PRESETS.find((p) => p.from === from)?.label;
}

/** A timeline step giving at most ~`maxPoints` points, rounded to a friendly interval, at least 10 s. */
export function stepSeconds(fromMs: number, untilMs: number, maxPoints = 240): number {
  const nice = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  const want = (untilMs - fromMs) / 1000 / maxPoints;
  return nice.find((n) => n >= want) ?? Math.ceil(want / 86400) * 86400;
}

/**
 * A time axis label for `ms` on an axis spanning `spanMs`: hours and minutes; with the date (MM-DD) beyond two days;
 * with seconds below ten minutes, where hours and minutes alone repeat from one label to the next.
 */
export function axisTimeLabel(ms: number, spanMs: number, utc: boolean): string {
  const label = formatTimestamp(ms, utc).slice(spanMs > 2 * 86400e3 ? 5 : 11, 16);
  const seconds = utc ? new Date(ms).getUTCSeconds() : new Date(ms).getSeconds();
  return spanMs < 10 * 60e3 ? `${label}:${String(seconds).padStart(2, '0')}` : label;
}

export function formatTimestamp(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const [y, mo, da, h, mi] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];
  return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}${utc ? ' UTC' : ''}`;
}
