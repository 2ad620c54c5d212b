import type { Labels, Matcher, StackValues } from '@emberscope/model';
import type { TimeRange } from './engine.js';
import type { StackTreeArrays } from './stack-tree.js';
import type { SymbolColumns } from './symbols.js';

/**
 * What every source of one tenant's data (the head, a frozen head, a block) answers. The engine fans
 * a query out to the queryables overlapping its time range and combines the answers.
 */
export interface Queryable {
  /** Inclusive time bounds of the data, ms since epoch. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  /** Labels of the series that match and have at least one profile in range. */
  matchingSeries(matchers: readonly Matcher[], range: TimeRange): Promise<Labels[]>;
  /** One StackValues per partition with at least one matching profile in range. */
  mergeStacks(matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]>;
  /** Hands the time and total of every matching row in range to the sink (time series queries). */
  seriesTotals(matchers: readonly Matcher[], range: TimeRange, sink: SeriesTotalsSink): Promise<void>;
  /** Like mergeStacks, with the partition's full symbols for a pprof export. */
  mergeProfile(matchers: readonly Matcher[], range: TimeRange): Promise<ProfilePart[]>;
}

/** Receives the rows of a time series query. */
export interface SeriesTotalsSink {
  /** Called once per matching series with rows in range; returns the handle given to `add`. */
  series(labels: Labels): number;
  /** One row: its time (ms) and the sum of its sample values. */
  add(handle: number, timeMs: number, total: number): void;
}

/** The merged samples of one partition of one queryable, with what a pprof export needs. */
export interface ProfilePart {
  symbols: SymbolColumns;
  tree: StackTreeArrays;
  /** Summed value per stack node (dense, indexed by node id). */
  values: Float64Array;
  /** Sampling period → number of rows with it, over the rows merged. */
  periods: Map<number, number>;
  /** The labels of one merged series: sample and period types are read from them. */
  labels: Labels;
}

export function overlaps(q: Queryable, range: TimeRange): boolean {
  return q.minTimeMs <= range.endMs && q.maxTimeMs >= range.startMs;
}

export function countPeriod(periods: Map<number, number>, period: number): void {
  periods.set(period, (periods.get(period) ?? 0) + 1);
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
