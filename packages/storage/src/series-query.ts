import { type Label, type Labels, labelsKey, labelValue } from '@emberscope/model';
import type { SelectSeriesOptions, SeriesPoints, TimeRange } from './engine.js';
import { type Growable, growableFloat64 } from './growable.js';
import type { SeriesTotalsSink } from './queryable.js';

/**
 * Collects the rows of a time series query by group and turns them into points with Pyroscope's
 * bucketing: point timestamps are `start + k·step`, a row at time t goes to the first boundary ≥ t
 * (bucket `(ts − step, ts]`), and only non-empty points are kept. Rows are kept as (bucket, total)
 * pairs per group, so memory follows the number of rows, not the number of steps × groups.
 */
export class SeriesBucketer implements SeriesTotalsSink {
  private readonly groupIds = new Map<string, number>();
  private readonly groups: {
    labels: Labels;
    buckets: Growable<Float64Array>;
    totals: Growable<Float64Array>;
  }[] = [];
  private readonly groupBy: string[];

  constructor(
    private readonly range: TimeRange,
    private readonly opts: SelectSeriesOptions,
  ) {
    if (!(opts.stepMs > 0 && Number.isFinite(opts.stepMs))) {
      throw new RangeError(`selectSeries: step must be a positive number of ms, got ${opts.stepMs}`);
    }
    if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 0)) {
      throw new RangeError(`selectSeries: limit must be a non-negative integer, got ${opts.limit}`);
    }
    this.groupBy = [...new Set(opts.groupBy)].sort();
  }

  series(labels: Labels): number {
    // A missing group-by label groups under "" and, as in Prometheus, is left out of the result.
    const grouped: Label[] = [];
    for (const name of this.groupBy) {
      const value = labelValue(labels, name);
      if (value !== '') grouped.push({ name, value });
    }
    const key = labelsKey(grouped);
    let id = this.groupIds.get(key);
    if (id === undefined) {
      id = this.groups.length;
      this.groupIds.set(key, id);
      this.groups.push({ labels: grouped, buckets: growableFloat64(64), totals: growableFloat64(64) });
    }
    return id;
  }

  add(handle: number, timeMs: number, total: number): void {
    const group = this.groups[handle];
    group.buckets.push(Math.max(0, Math.ceil((timeMs - this.range.startMs) / this.opts.stepMs)));
    group.totals.push(total);
  }

  finish(): SeriesPoints[] {
    const { startMs } = this.range;
    const { stepMs, aggregation } = this.opts;
    const out: (SeriesPoints & { key: string; sum: number })[] = [];
    for (const group of this.groups) {
      const n = group.buckets.length;
      const buckets = group.buckets.array;
      const totals = group.totals.array;
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => buckets[a] - buckets[b]);
      const timestamps: number[] = [];
      const values: number[] = [];
      let sum = 0;
      for (let i = 0; i < n; ) {
        const bucket = buckets[order[i]];
        let value = 0;
        let count = 0;
        for (; i < n && buckets[order[i]] === bucket; i++, count++) value += totals[order[i]];
        if (aggregation === 'average') value /= count;
        timestamps.push(startMs + bucket * stepMs);
        values.push(value);
        sum += value;
      }
      out.push({
        labels: group.labels,
        timestampsMs: Float64Array.from(timestamps),
        values: Float64Array.from(values),
        key: labelsKey(group.labels),
        sum,
      });
    }
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    let kept = out;
    if (this.opts.limit && out.length > this.opts.limit) {
      kept = [...out].sort((a, b) => b.sum - a.sum || byKey(a, b)).slice(0, this.opts.limit);
    }
    return kept.sort(byKey).map(({ labels, timestampsMs, values }) => ({ labels, timestampsMs, values }));
  }
}
