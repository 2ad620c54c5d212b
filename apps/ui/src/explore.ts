/**
 * Tag explorer: one series per value of a label (the top `limit` by total, the rest summed into "other"), and each
 * value's total, average and standard deviation per time step.
 */
export interface LabelSeries {
  value: string;
  timestampsMs: number[];
  values: number[];
}

export interface ValueStats {
  value: string;
  total: number;
  average: number;
  stddev: number;
  /** Values aligned on the shared timestamps (0 where a series had no point). */
  points: number[];
}

export const OTHER_VALUE = 'other';

export interface ExploreResult {
  timestampsMs: number[];
  rows: ValueStats[];
}

export function exploreStats(series: readonly LabelSeries[], limit = 10): ExploreResult {
  const times = [...new Set(series.flatMap((s) => s.timestampsMs))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const aligned = series.map((s) => {
    const points = new Array<number>(times.length).fill(0);
    s.timestampsMs.forEach((t, i) => {
      points[at.get(t) as number] += s.values[i];
    });
    return { value: s.value, points, total: points.reduce((a, b) => a + b, 0) };
  });
  aligned.sort((a, b) => b.total - a.total || (a.value < b.value ? -1 : 1));
  const top = aligned.slice(0, limit);
  const rest = aligned.slice(limit);
  if (rest.length > 0) {
    const points = new Array<number>(times.length).fill(0);
    for (const r of rest) for (let i = 0; i < points.length; i++) points[i] += r.points[i];
    top.push({ value: OTHER_VALUE, points, total: points.reduce((a, b) => a + b, 0) });
  }
  const rows = top.map(({ value, points, total }) => {
    const n = points.length || 1;
    const average = total / n;
    const variance = points.reduce((a, v) => a + (v - average) ** 2, 0) / n;
    return { value, total, average, stddev: Math.sqrt(variance), points };
  });
  return { timestampsMs: times, rows };
}
