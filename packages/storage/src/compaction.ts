import { type Labels, labelsKey } from '@emberscope/model';
import type {
  BlockContents,
  BlockData,
  BlockPartition,
  BlockReader,
  ProfileColumns,
  SamplePage,
  SeriesColumns,
} from './block.js';
import { importStackTree, StackTree } from './stack-tree.js';
import { columnsAsSource, PartitionSymbols } from './symbols.js';
import { timeSlicer } from './time-slice.js';

/*
 * Compaction merges a tenant's small blocks into larger ones. Levels: a flush writes level 0; blocks of
 * level < L whose first profile falls in the same aligned window of `windowsMs[L-1]` are merged into
 * one level-L block once that window is over. See docs/storage.md for the crash-safety argument.
 */

export interface CompactionPlan {
  level: number;
  inputs: BlockReader[];
}

export interface CompactionPolicy {
  /** Window of each level ≥ 1: windowsMs[L-1] for level L, ascending. */
  windowsMs: readonly number[];
  /** A window is compacted once it ended this long ago (late profiles then rarely still arrive). */
  graceMs: number;
  /** Most decoded bytes one compaction may load. */
  maxInputBytes: number;
}

/**
 * The next compaction of one tenant's blocks, lowest level and oldest window first, or undefined.
 * Within a window, blocks are taken oldest first while their decoded size fits the budget.
 */
export function planCompaction(
  blocks: readonly BlockReader[],
  policy: CompactionPolicy,
  nowMs: number,
): CompactionPlan | undefined {
  for (let level = 1; level <= policy.windowsMs.length; level++) {
    const windowMs = policy.windowsMs[level - 1];
    const windows = new Map<number, BlockReader[]>();
    for (const block of blocks) {
      if (block.level >= level || block.rawBytes > policy.maxInputBytes) continue;
      const start = Math.floor(block.minTimeMs / windowMs) * windowMs;
      if (start + windowMs > nowMs - policy.graceMs) continue;
      const list = windows.get(start);
      if (list) list.push(block);
      else windows.set(start, [block]);
    }
    for (const start of [...windows.keys()].sort((a, b) => a - b)) {
      const candidates = windows
        .get(start)!
        .sort((a, b) => a.minTimeMs - b.minTimeMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const inputs: BlockReader[] = [];
      let bytes = 0;
      for (const block of candidates) {
        if (bytes + block.rawBytes > policy.maxInputBytes) break;
        inputs.push(block);
        bytes += block.rawBytes;
      }
      if (inputs.length >= 2) return { level, inputs };
    }
  }
  return undefined;
}

/**
 * Merges whole blocks of one tenant into the data of one block: symbols are deduplicated across the
 * inputs per partition (by name), stack trees re-inserted with remapped locations, series unioned and
 * rows ordered by (series, time). Every input row of a kept series appears exactly once in the output;
 * `keepSeries` (default: all) drops whole series, which is how series are deleted. Partitions left
 * without rows are dropped. Returns undefined when no row is kept.
 */
export async function mergeBlocks(
  inputs: readonly BlockContents[],
  level: number,
  keepSeries: (labels: Labels) => boolean = () => true,
): Promise<BlockData | undefined> {
  const slice = timeSlicer();
  // Series: the union of the inputs' kept label sets, sorted by key.
  const seriesByKey = new Map<string, { labels: Labels; parts: [input: number, series: number][] }>();
  inputs.forEach((input, i) => {
    input.series.labels.forEach((labels, s) => {
      if (!keepSeries(labels)) return;
      const key = labelsKey(labels);
      const entry = seriesByKey.get(key);
      if (entry) entry.parts.push([i, s]);
      else seriesByKey.set(key, { labels, parts: [[i, s]] });
    });
  });
  const keys = [...seriesByKey.keys()].sort();

  // Rows and samples kept, and the partitions they use.
  let rowCount = 0;
  let sampleCount = 0;
  const used = inputs.map((input) => new Uint8Array(input.partitions.length));
  for (const { parts } of seriesByKey.values()) {
    for (const [i, s] of parts) {
      const { rowStart } = inputs[i].series;
      const p = inputs[i].profiles;
      rowCount += rowStart[s + 1] - rowStart[s];
      sampleCount += p.sampleStart[rowStart[s + 1]] - p.sampleStart[rowStart[s]];
      for (let r = rowStart[s]; r < rowStart[s + 1]; r++) used[i][p.partition[r]] = 1;
    }
  }
  if (rowCount === 0) return undefined;

  // Partitions by name; per input and input partition: output partition and node remap.
  const partitionIds = new Map<string, number>();
  const outPartitions: { name: string; symbols: PartitionSymbols; tree: StackTree }[] = [];
  const partitionRemap: Int32Array[] = [];
  const nodeRemap: Int32Array[][] = [];
  for (const [i, input] of inputs.entries()) {
    const pRemap = new Int32Array(input.partitions.length).fill(-1);
    const nRemap: Int32Array[] = [];
    for (const [p, part] of input.partitions.entries()) {
      nRemap.push(new Int32Array(0));
      if (!used[i][p]) continue;
      let id = partitionIds.get(part.name);
      if (id === undefined) {
        id = outPartitions.length;
        partitionIds.set(part.name, id);
        outPartitions.push({ name: part.name, symbols: new PartitionSymbols(), tree: new StackTree() });
      }
      const out = outPartitions[id];
      const locationRemap = out.symbols.importSymbols(columnsAsSource(part.symbols));
      nRemap[p] = importStackTree(out.tree, part.tree, locationRemap);
      pRemap[p] = id;
      await slice();
    }
    partitionRemap.push(pRemap);
    nodeRemap.push(nRemap);
  }

  const series: SeriesColumns = {
    labels: [],
    rowStart: new Uint32Array(keys.length + 1),
    minTimeMs: new Float64Array(keys.length),
    maxTimeMs: new Float64Array(keys.length),
  };
  const profiles: ProfileColumns & { total: Float64Array } = {
    timeMs: new Float64Array(rowCount),
    durationNanos: new Float64Array(rowCount),
    partition: new Uint32Array(rowCount),
    sampleStart: new Uint32Array(rowCount + 1),
    total: new Float64Array(rowCount),
    period: new Float64Array(rowCount),
  };
  const samples: SamplePage = { stack: new Uint32Array(sampleCount), value: new Float64Array(sampleCount) };

  let row = 0;
  let sample = 0;
  for (const [s, key] of keys.entries()) {
    const { labels, parts } = seriesByKey.get(key)!;
    series.labels.push(labels);
    series.rowStart[s] = row;
    // The series' rows of every input (each sorted by time), merged by time; ties keep input order.
    const rows: [input: number, row: number][] = [];
    for (const [i, inputSeries] of parts) {
      const { rowStart } = inputs[i].series;
      for (let r = rowStart[inputSeries]; r < rowStart[inputSeries + 1]; r++) rows.push([i, r]);
    }
    if (parts.length > 1) {
      rows.sort(
        (a, b) =>
          inputs[a[0]].profiles.timeMs[a[1]] - inputs[b[0]].profiles.timeMs[b[1]] ||
          a[0] - b[0] ||
          a[1] - b[1],
      );
    }
    for (const [i, r] of rows) {
      const input = inputs[i];
      const p = input.profiles;
      const inputPartition = p.partition[r];
      const remap = nodeRemap[i][inputPartition];
      profiles.timeMs[row] = p.timeMs[r];
      profiles.durationNanos[row] = p.durationNanos[r];
      profiles.partition[row] = partitionRemap[i][inputPartition];
      profiles.total[row] = p.total[r];
      profiles.period[row] = p.period[r];
      profiles.sampleStart[row] = sample;
      const { stack, value } = input.samples;
      for (let k = p.sampleStart[r]; k < p.sampleStart[r + 1]; k++, sample++) {
        samples.stack[sample] = remap[stack[k]];
        samples.value[sample] = value[k];
      }
      row++;
      await slice();
    }
    series.minTimeMs[s] = profiles.timeMs[series.rowStart[s]];
    series.maxTimeMs[s] = profiles.timeMs[row - 1];
  }
  series.rowStart[keys.length] = row;
  profiles.sampleStart[rowCount] = sample;
  if (row !== rowCount || sample !== sampleCount) throw new Error('compaction: row or sample count mismatch');

  const partitions: BlockPartition[] = outPartitions.map((p) => ({
    name: p.name,
    symbols: p.symbols.columns(),
    tree: p.tree.arrays(),
  }));
  // Sources are transitive: a block deleted late (a crash) stays superseded by every later result.
  const sources = new Set<string>();
  for (const input of inputs) {
    sources.add(input.toc.id);
    for (const id of input.toc.sources ?? []) sources.add(id);
  }
  return {
    tenant: inputs[0].toc.tenant,
    series,
    profiles,
    samples: (firstRow, endRow) => ({
      stack: samples.stack.subarray(profiles.sampleStart[firstRow], profiles.sampleStart[endRow]),
      value: samples.value.subarray(profiles.sampleStart[firstRow], profiles.sampleStart[endRow]),
    }),
    partitions,
    walSegment: Math.max(...inputs.map((input) => input.toc.walSegment)),
    level,
    sources: [...sources].sort(),
  };
}
