import type { Labels, Matcher, StackValues } from '@emberscope/model';
import { numSampleTypes } from '@emberscope/pprof';
import type { AppendRequest, TimeRange } from './engine.js';
import { type Growable, growableFloat64, growableUint32 } from './growable.js';
import {
  countPeriod,
  PartitionSums,
  type ProfilePart,
  type Queryable,
  type SeriesTotalsSink,
} from './queryable.js';
import { SeriesIndex } from './series-index.js';
import { StackTree } from './stack-tree.js';
import { FrameTable, PartitionSymbols } from './symbols.js';

/** What the head stores of an append request (the payload only matters to the WAL). */
export type HeadProfile = Omit<AppendRequest, 'payload'>;

/** Symbols, stack tree and frame names of one partition of a tenant. */
export class HeadPartition {
  readonly symbols = new PartitionSymbols();
  readonly tree = new StackTree();
  private readonly frames = new FrameTable();

  constructor(readonly name: string) {}

  /** Rough heap footprint, for the head size limit (query-time frame caches not included). */
  get byteSize(): number {
    return this.symbols.byteSize + this.tree.byteSize;
  }

  stackValues(values: Float64Array): StackValues {
    return { ...this.tree.arrays(), values, ...this.frames.update(this.symbols.columns()) };
  }
}

/**
 * In-memory data of one tenant: series index, one row per stored (profile, series) in columnar
 * arrays, and the samples of all rows as two parallel columns. Row r owns samples
 * rowSampleStart[r] .. rowSampleStart[r+1] (or the end of the sample columns for the last row).
 */
export class TenantHead implements Queryable {
  readonly index = new SeriesIndex();
  /** Rows of each series, in arrival order. */
  readonly seriesRows: number[][] = [];
  private readonly seriesMinTime = growableFloat64();
  private readonly seriesMaxTime = growableFloat64();

  readonly rowTimeMs = growableFloat64();
  readonly rowDurationNanos = growableFloat64();
  readonly rowPartition = growableUint32();
  readonly rowSampleStart = growableUint32();
  /** Sum of the row's sample values: what time series queries read. */
  readonly rowTotal = growableFloat64();
  /** The profile's sampling period (pprof `period`). */
  readonly rowPeriod = growableFloat64();
  readonly sampleStack = growableUint32(4096);
  readonly sampleValue = growableFloat64(4096);

  readonly partitions: HeadPartition[] = [];
  /** Sum of the partitions' sizes, kept up to date on insert: summing them per append cost O(partitions). */
  private partitionBytes = 0;
  private readonly partitionIds = new Map<string, number>();

  minTimeMs = Number.POSITIVE_INFINITY;
  maxTimeMs = Number.NEGATIVE_INFINITY;

  constructor(readonly tenant: string) {}

  get rowCount(): number {
    return this.rowTimeMs.length;
  }

  sampleEnd(row: number): number {
    return row + 1 < this.rowCount ? this.rowSampleStart.array[row + 1] : this.sampleStack.length;
  }

  get byteSize(): number {
    // ~256 B per series for labels and postings, 8 B per row in seriesRows, plus the columns.
    const bytes =
      this.index.size * 256 +
      this.rowCount * 8 +
      this.rowTimeMs.byteCapacity * 4 +
      this.rowPartition.byteCapacity * 2 +
      this.sampleStack.byteCapacity +
      this.sampleValue.byteCapacity;
    return bytes + this.partitionBytes;
  }

  insert(req: HeadProfile, maxStackDepth: number, summer: StackSummer): void {
    const partitionId = this.partitionId(req.partition);
    const partition = this.partitions[partitionId];
    const { symbols, tree } = partition;
    const sizeBefore = partition.byteSize;
    const p = req.profile;
    const locationRemap = symbols.importSymbols(p, req.stringHashes);
    const sampleStacks = new Int32Array(p.sampleCount);
    let emptyStack = -1;
    for (let s = 0; s < p.sampleCount; s++) {
      let stack = tree.insert(
        p.sampleLocs,
        p.sampleLocStart[s],
        p.sampleLocStart[s + 1],
        locationRemap,
        maxStackDepth,
      );
      if (stack < 0) {
        if (emptyStack < 0) emptyStack = tree.child(-1, symbols.emptyStackLocation());
        stack = emptyStack;
      }
      sampleStacks[s] = stack;
    }
    this.partitionBytes += partition.byteSize - sizeBefore;

    const timeMs = Number(req.timeNanos / 1_000_000n);
    const typeCount = numSampleTypes(p);
    for (const plan of req.series) {
      const subset = plan.samples;
      const n = subset ? subset.length : p.sampleCount;
      for (let i = 0; i < n; i++) {
        const s = subset ? subset[i] : i;
        const stack = sampleStacks[s];
        const value = p.values[s * typeCount + plan.sampleType];
        if (value !== 0) summer.add(stack, value);
      }
      const row = this.rowCount;
      this.rowTimeMs.push(timeMs);
      this.rowDurationNanos.push(Number(req.durationNanos));
      this.rowPartition.push(partitionId);
      this.rowSampleStart.push(this.sampleStack.length);
      this.rowTotal.push(summer.drainInto(this.sampleStack, this.sampleValue));
      this.rowPeriod.push(p.period);
      this.addRowToSeries(this.seriesId(plan.labels), row, timeMs);
    }
  }

  private partitionId(name: string): number {
    let id = this.partitionIds.get(name);
    if (id === undefined) {
      id = this.partitions.length;
      const partition = new HeadPartition(name);
      this.partitions.push(partition);
      this.partitionBytes += partition.byteSize;
      this.partitionIds.set(name, id);
    }
    return id;
  }

  private seriesId(labels: Labels): number {
    const id = this.index.getOrAdd(labels);
    if (id === this.seriesRows.length) {
      this.seriesRows.push([]);
      this.seriesMinTime.push(Number.POSITIVE_INFINITY);
      this.seriesMaxTime.push(Number.NEGATIVE_INFINITY);
    }
    return id;
  }

  private addRowToSeries(series: number, row: number, timeMs: number): void {
    this.seriesRows[series].push(row);
    const min = this.seriesMinTime.array;
    const max = this.seriesMaxTime.array;
    if (timeMs < min[series]) min[series] = timeMs;
    if (timeMs > max[series]) max[series] = timeMs;
    if (timeMs < this.minTimeMs) this.minTimeMs = timeMs;
    if (timeMs > this.maxTimeMs) this.maxTimeMs = timeMs;
  }

  /** Rows of the series in range, in arrival order. */
  private *rowsInRange(series: number, range: TimeRange): Generator<number> {
    if (this.seriesMinTime.array[series] > range.endMs || this.seriesMaxTime.array[series] < range.startMs) {
      return;
    }
    const time = this.rowTimeMs.array;
    for (const row of this.seriesRows[series]) {
      if (time[row] >= range.startMs && time[row] <= range.endMs) yield row;
    }
  }

  async matchingSeries(matchers: readonly Matcher[], range: TimeRange): Promise<Labels[]> {
    const out: Labels[] = [];
    for (const id of this.index.select(matchers)) {
      if (!this.rowsInRange(id, range).next().done) out.push(this.index.labelsOf(id));
    }
    return out;
  }

  async mergeStacks(matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]> {
    const sums = new PartitionSums((p) => this.partitions[p].tree.size);
    const rowPartition = this.rowPartition.array;
    const rowSampleStart = this.rowSampleStart.array;
    for (const id of this.index.select(matchers)) {
      for (const row of this.rowsInRange(id, range)) {
        const start = rowSampleStart[row];
        sums.add(
          rowPartition[row],
          this.sampleStack.array,
          this.sampleValue.array,
          start,
          this.sampleEnd(row),
        );
      }
    }
    return sums.touched().map(([p, values]) => this.partitions[p].stackValues(values));
  }

  async seriesTotals(matchers: readonly Matcher[], range: TimeRange, sink: SeriesTotalsSink): Promise<void> {
    const time = this.rowTimeMs.array;
    const total = this.rowTotal.array;
    for (const id of this.index.select(matchers)) {
      let handle = -1;
      for (const row of this.rowsInRange(id, range)) {
        if (handle < 0) handle = sink.series(this.index.labelsOf(id));
        sink.add(handle, time[row], total[row]);
      }
    }
  }

  async mergeProfile(matchers: readonly Matcher[], range: TimeRange): Promise<ProfilePart[]> {
    const sums = new PartitionSums((p) => this.partitions[p].tree.size);
    const rowPartition = this.rowPartition.array;
    const rowSampleStart = this.rowSampleStart.array;
    const rowPeriod = this.rowPeriod.array;
    const info = new Map<number, { periods: Map<number, number>; labels: Labels }>();
    for (const id of this.index.select(matchers)) {
      for (const row of this.rowsInRange(id, range)) {
        const partition = rowPartition[row];
        let part = info.get(partition);
        if (!part) {
          part = { periods: new Map(), labels: this.index.labelsOf(id) };
          info.set(partition, part);
        }
        countPeriod(part.periods, rowPeriod[row]);
        sums.add(
          partition,
          this.sampleStack.array,
          this.sampleValue.array,
          rowSampleStart[row],
          this.sampleEnd(row),
        );
      }
    }
    return sums.touched().map(([p, values]) => ({
      symbols: this.partitions[p].symbols.columns(),
      tree: this.partitions[p].tree.arrays(),
      values,
      ...info.get(p)!,
    }));
  }
}

/**
 * Sums the values of duplicate stacks within one (profile, series) using a dense scratch array indexed
 * by stack id and a list of touched ids, so no Map is built per profile. It runs once per sample, so
 * it writes typed arrays directly instead of going through the (polymorphic) `Growable.push`.
 */
export class StackSummer {
  private sums = new Float64Array(4096);
  private touched = new Uint32Array(4096);
  private touchedCount = 0;

  add(stack: number, value: number): void {
    if (stack >= this.sums.length) this.sums = grow(this.sums, stack + 1);
    // A sum that returns to 0 and is touched again is listed twice; drainInto emits it only once.
    if (this.sums[stack] === 0) {
      if (this.touchedCount === this.touched.length) this.touched = grow(this.touched, this.touchedCount + 1);
      this.touched[this.touchedCount++] = stack;
    }
    this.sums[stack] += value;
  }

  /** Appends the non-zero sums in first-touched order, resets the scratch, and returns their sum. */
  drainInto(stacks: Growable<Uint32Array>, values: Growable<Float64Array>): number {
    stacks.reserve(stacks.length + this.touchedCount);
    values.reserve(values.length + this.touchedCount);
    const outStacks = stacks.array;
    const outValues = values.array;
    let n = stacks.length;
    let total = 0;
    for (let i = 0; i < this.touchedCount; i++) {
      const stack = this.touched[i];
      const sum = this.sums[stack];
      if (sum !== 0) {
        outStacks[n] = stack;
        outValues[n] = sum;
        total += sum;
        n++;
        this.sums[stack] = 0;
      }
    }
    stacks.length = n;
    values.length = n;
    this.touchedCount = 0;
    return total;
  }
}

function grow<T extends Float64Array | Uint32Array>(a: T, minLength: number): T {
  const grown = new (a.constructor as new (n: number) => T)(Math.max(minLength, a.length * 2));
  grown.set(a as never);
  return grown;
}

/**
 * All tenants' in-memory data since the last flush. The engine writes into one head; on flush it
 * freezes it (no more writes) and writes one block per tenant from it.
 */
export class Head {
  readonly tenants = new Map<string, TenantHead>();
  /** Wall-clock time of the first insert, for flushing a head that has been open too long. */
  firstInsertAtMs: number | undefined;
  private readonly summer = new StackSummer();

  constructor(private readonly maxStackDepth: number) {}

  tenant(name: string): TenantHead {
    let t = this.tenants.get(name);
    if (!t) {
      t = new TenantHead(name);
      this.tenants.set(name, t);
    }
    return t;
  }

  insert(req: HeadProfile): void {
    this.firstInsertAtMs ??= Date.now();
    this.tenant(req.tenant).insert(req, this.maxStackDepth, this.summer);
  }

  get isEmpty(): boolean {
    return this.tenants.size === 0;
  }

  /** Time between the oldest and the newest profile of any tenant; 0 when empty. */
  get timeSpanMs(): number {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const t of this.tenants.values()) {
      min = Math.min(min, t.minTimeMs);
      max = Math.max(max, t.maxTimeMs);
    }
    return this.isEmpty ? 0 : max - min;
  }

  get byteSize(): number {
    let bytes = 0;
    for (const t of this.tenants.values()) bytes += t.byteSize;
    return bytes;
  }

  get profileCount(): number {
    let n = 0;
    for (const t of this.tenants.values()) n += t.rowCount;
    return n;
  }

  get seriesCount(): number {
    let n = 0;
    for (const t of this.tenants.values()) n += t.index.size;
    return n;
  }
}
