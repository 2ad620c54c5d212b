import type { Labels, Matcher, StackValues } from '@emberscope/model';
import type { TimeRange } from './engine.js';

/**
 * What every source of one tenant's data (the head, a frozen head, a block) answers. The engine fans
 * a query out to the queryables overlapping its time range and combines the answers; further query
 * APIs (time series, pprof export), compaction and deletion are meant to be added here.
 */
export interface Queryable {
  /** Inclusive time bounds of the data, ms since epoch. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  /** Labels of the series that match and have at least one profile in range. */
  matchingSeries(matchers: readonly Matcher[], range: TimeRange): Promise<Labels[]>;
  /** One StackValues per partition with at least one matching profile in range. */
  mergeStacks(matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]>;
}

export function overlaps(q: Queryable, range: TimeRange): boolean {
  return q.minTimeMs <= range.endMs && q.maxTimeMs >= range.startMs;
}

/**
 * The merge kernel: one dense Float64Array per partition, indexed by stack id, into which the samples
 * of the selected rows are summed. Allocated on a partition's first row, sized by `stackCount`.
 */
export class PartitionSums {
  private readonly sums: (Float64Array | undefined)[] = [];

  constructor(private readonly stackCount: (partition: number) => number) {}

  /** Adds samples [start, end) of the given columns to the partition's sums. */
  add(partition: number, stacks: Uint32Array, values: Float64Array, start: number, end: number): void {
    let acc = this.sums[partition];
    if (!acc) {
      acc = new Float64Array(this.stackCount(partition));
      this.sums[partition] = acc;
    }
    for (let i = start; i < end; i++) acc[stacks[i]] += values[i];
  }

  /** [partition, sums] of every partition that received rows. */
  touched(): [number, Float64Array][] {
    const out: [number, Float64Array][] = [];
    this.sums.forEach((acc, p) => {
      if (acc) out.push([p, acc]);
    });
    return out;
  }
}
