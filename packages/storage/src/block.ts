import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { crc32, deflate, inflate } from 'node:zlib';
import { type Labels, labelsKey, type Matcher, type StackValues } from '@emberscope/model';
import { ByteReader, ByteWriter } from './bytes.js';
import type { TimeRange } from './engine.js';
import { BlockCorruptError } from './errors.js';
import type { TenantHead } from './head.js';
import type { LruCache } from './lru.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import {
  countPeriod,
  PartitionSums,
  type ProfilePart,
  type Queryable,
  type SeriesTotalsSink,
} from './queryable.js';
import { SeriesPostings } from './series-index.js';
import { decodeStackTree, encodeStackTree, type StackTreeArrays } from './stack-tree.js';
import { decodeSymbols, encodeSymbols, type Frames, FrameTable, type SymbolColumns } from './symbols.js';
import { timeSlicer } from './time-slice.js';

/*
 * Block file (see docs/storage.md): deflated sections, then a JSON table of contents, then a fixed
 * 16-byte trailer [u32 TOC length][u32 TOC crc32][8-byte magic], so a reader fetches the tail, the
 * TOC, and then only the byte ranges a query needs.
 */

/** Format written. 2 added per-row totals and periods, the compaction level and the source blocks. */
export const BLOCK_FORMAT = 2;
const READABLE_FORMATS = new Set([1, 2]);
export const BLOCKS_PREFIX = 'blocks/';
const BLOCK_FILE = 'block.bin';
const MAGIC = Buffer.from('EMBRBLK1', 'latin1');
const TRAILER_BYTES = 16;
/** First read of a block: trailer plus, usually, the whole TOC, in one request. */
const TAIL_READ_BYTES = 64 * 1024;
/** Sample pages are cut at row boundaries once they hold this many samples (~768 KiB raw). */
const PAGE_SAMPLES = 1 << 16;
const DEFLATE_LEVEL = 1;
/**
 * Sections compressed at once, each on a thread of libuv's pool. One: the next section is encoded on the
 * event loop while the previous one compresses, so a flush takes at most one more core from ingestion
 * (the decoder threads, the event loop) and one pool thread from the WAL's writes and fsyncs.
 */
const MAX_DEFLATES_IN_FLIGHT = 1;

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

export type SectionKind = 'series' | 'profiles' | 'samples' | 'symbols' | 'stacks';

export interface BlockSection {
  kind: SectionKind;
  /** Partition index, for symbols and stacks. */
  partition?: number;
  /** First row and row count of a sample page. */
  firstRow?: number;
  rowCount?: number;
  offset: number;
  /** Stored (deflated) length; crc32 is over these bytes. */
  length: number;
  rawLength: number;
  crc32: number;
}

export interface BlockToc {
  format: number;
  id: string;
  tenant: string;
  minTimeMs: number;
  maxTimeMs: number;
  seriesCount: number;
  profileCount: number;
  sampleCount: number;
  /** Highest WAL segment whose records of this tenant are in this block or an older one. */
  walSegment: number;
  /** 0 for a block written by a flush, k + 1 for one compacted from blocks of level ≤ k (format 2). */
  level?: number;
  /** Ids of the blocks this one was compacted from: deleted once this one is durable (format 2). */
  sources?: string[];
  partitions: { name: string; stackNodes: number }[];
  sections: BlockSection[];
}

export function blockKey(tenant: string, id: string): string {
  return `${BLOCKS_PREFIX}${tenantDirName(tenant)}/${id}/${BLOCK_FILE}`;
}

export function isBlockKey(key: string): boolean {
  return key.startsWith(BLOCKS_PREFIX) && key.endsWith(`/${BLOCK_FILE}`);
}

/**
 * A reversible, path-safe directory name: bytes outside [a-z0-9_-] become %XX. Upper case is escaped
 * too, so tenants differing only in case stay apart on case-insensitive filesystems.
 */
export function tenantDirName(tenant: string): string {
  let out = '';
  for (const b of Buffer.from(tenant, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[a-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48-bit millisecond time then 80 random bits, so ids sort by creation time. */
export function newBlockId(nowMs = Date.now()): string {
  let id = '';
  for (let i = 9, t = nowMs; i >= 0; i--, t = Math.floor(t / 32)) id = CROCKFORD[t % 32] + id;
  for (const b of randomBytes(16)) id += CROCKFORD[b % 32];
  return id;
}

// --- writing -------------------------------------------------------------------------------

/** One partition of a block: its symbols and stack tree. */
export interface BlockPartition {
  name: string;
  symbols: SymbolColumns;
  tree: StackTreeArrays;
}

/** What a block is written from: a tenant's head data, or the merged contents of compacted blocks. */
export interface BlockData {
  tenant: string;
  /** Series sorted by labelsKey; rows of series s are rowStart[s] .. rowStart[s+1], sorted by time. */
  series: SeriesColumns;
  profiles: ProfileColumns;
  /** The samples of rows [firstRow, endRow), concatenated. */
  samples(firstRow: number, endRow: number): SamplePage;
  partitions: readonly BlockPartition[];
  walSegment: number;
  level: number;
  sources: readonly string[];
}

export interface WriteBlockOptions {
  /** Only for tests of the reader's compatibility with blocks of an older format. */
  format?: 1 | 2;
}

/** A flushed head's data as block input. */
export function headBlockData(head: TenantHead, walSegment: number): BlockData {
  const { series, rowOrder } = sortSeriesAndRows(head);
  const profiles = profileColumns(head, rowOrder);
  return {
    tenant: head.tenant,
    series,
    profiles,
    samples: (firstRow, endRow) => headSamples(head, rowOrder.slice(firstRow, endRow)),
    partitions: head.partitions.map((p) => ({
      name: p.name,
      symbols: p.symbols.columns(),
      tree: p.tree.arrays(),
    })),
    walSegment,
    level: 0,
    sources: [],
  };
}

/** Writes a block; returns its object info and table of contents. */
export async function writeBlock(
  store: ObjectStore,
  data: BlockData,
  opts: WriteBlockOptions = {},
): Promise<{ info: ObjectInfo; toc: BlockToc }> {
  const format = opts.format ?? BLOCK_FORMAT;
  const sections: { meta: Omit<BlockSection, 'offset' | 'length' | 'crc32'>; stored: Promise<Buffer> }[] = [];
  const slice = timeSlicer();
  const add = async (
    meta: Omit<BlockSection, 'offset' | 'length' | 'crc32' | 'rawLength'>,
    raw: Uint8Array,
  ) => {
    if (sections.length >= MAX_DEFLATES_IN_FLIGHT)
      await sections[sections.length - MAX_DEFLATES_IN_FLIGHT].stored;
    sections.push({
      meta: { ...meta, rawLength: raw.length },
      stored: deflateAsync(raw, { level: DEFLATE_LEVEL }),
    });
    // Encoding is synchronous: let ingest and queries run between slices of it.
    await slice();
  };

  const { series, profiles } = data;
  await add({ kind: 'series' }, encodeSeries(series));
  await add({ kind: 'profiles' }, encodeProfiles(profiles, format));
  const rows = profiles.timeMs.length;
  for (let firstRow = 0, end = 1; firstRow < rows; firstRow = end, end = firstRow + 1) {
    while (end < rows && profiles.sampleStart[end] - profiles.sampleStart[firstRow] < PAGE_SAMPLES) end++;
    await add(
      { kind: 'samples', firstRow, rowCount: end - firstRow },
      encodeSamplePage(data.samples(firstRow, end)),
    );
  }
  for (const [partition, p] of data.partitions.entries()) {
    const symbols = new ByteWriter();
    encodeSymbols(p.symbols, symbols);
    await add({ kind: 'symbols', partition }, symbols.finish());
    const stacks = new ByteWriter();
    encodeStackTree(p.tree, stacks);
    await add({ kind: 'stacks', partition }, stacks.finish());
  }

  let minTimeMs = Number.POSITIVE_INFINITY;
  let maxTimeMs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < series.labels.length; i++) {
    minTimeMs = Math.min(minTimeMs, series.minTimeMs[i]);
    maxTimeMs = Math.max(maxTimeMs, series.maxTimeMs[i]);
  }
  const id = newBlockId();
  const toc: BlockToc = {
    format,
    id,
    tenant: data.tenant,
    minTimeMs,
    maxTimeMs,
    seriesCount: series.labels.length,
    profileCount: rows,
    sampleCount: profiles.sampleStart[rows],
    walSegment: data.walSegment,
    ...(format >= 2 ? { level: data.level, sources: [...data.sources] } : {}),
    partitions: data.partitions.map((p) => ({ name: p.name, stackNodes: p.tree.parent.length })),
    sections: [],
  };
  const stored = await Promise.all(sections.map((s) => s.stored));
  let offset = 0;
  sections.forEach((s, i) => {
    toc.sections.push({ ...s.meta, offset, length: stored[i].length, crc32: crc32(stored[i]) });
    offset += stored[i].length;
  });
  const tocBytes = Buffer.from(JSON.stringify(toc), 'utf8');
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(tocBytes.length, 0);
  trailer.writeUInt32LE(crc32(tocBytes), 4);
  MAGIC.copy(trailer, 8);
  const file = Buffer.concat([...stored, tocBytes, trailer]);
  const key = blockKey(data.tenant, id);
  await store.put(key, file);
  return { info: { key, size: file.length }, toc };
}

/**
 * Orders series by labels and rows by (series, time), so that a series' rows are one contiguous run
 * that range queries binary-search. Returns the series section and the head rows in block order.
 */
function sortSeriesAndRows(head: TenantHead): { series: SeriesColumns; rowOrder: number[] } {
  const seriesOrder = Array.from({ length: head.index.size }, (_, i) => i);
  const keys = seriesOrder.map((id) => labelsKey(head.index.labelsOf(id)));
  seriesOrder.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
  const time = head.rowTimeMs.array;
  const rowOrder: number[] = [];
  const series: SeriesColumns = {
    labels: seriesOrder.map((s) => head.index.labelsOf(s)),
    rowStart: new Uint32Array(seriesOrder.length + 1),
    minTimeMs: new Float64Array(seriesOrder.length),
    maxTimeMs: new Float64Array(seriesOrder.length),
  };
  seriesOrder.forEach((s, i) => {
    const sorted = [...head.seriesRows[s]].sort((a, b) => time[a] - time[b] || a - b);
    series.rowStart[i] = rowOrder.length;
    series.minTimeMs[i] = time[sorted[0]];
    series.maxTimeMs[i] = time[sorted[sorted.length - 1]];
    for (const row of sorted) rowOrder.push(row);
  });
  series.rowStart[seriesOrder.length] = rowOrder.length;
  return { series, rowOrder };
}

function profileColumns(head: TenantHead, rowOrder: number[]): ProfileColumns {
  const rows = rowOrder.length;
  const profiles: ProfileColumns = {
    timeMs: new Float64Array(rows),
    durationNanos: new Float64Array(rows),
    partition: new Uint32Array(rows),
    sampleStart: new Uint32Array(rows + 1),
    total: new Float64Array(rows),
    period: new Float64Array(rows),
  };
  let samples = 0;
  rowOrder.forEach((row, i) => {
    profiles.timeMs[i] = head.rowTimeMs.array[row];
    profiles.durationNanos[i] = head.rowDurationNanos.array[row];
    profiles.partition[i] = head.rowPartition.array[row];
    profiles.total![i] = head.rowTotal.array[row];
    profiles.period[i] = head.rowPeriod.array[row];
    profiles.sampleStart[i] = samples;
    samples += head.sampleEnd(row) - head.rowSampleStart.array[row];
  });
  profiles.sampleStart[rows] = samples;
  return profiles;
}

function headSamples(head: TenantHead, rows: number[]): SamplePage {
  let n = 0;
  for (const row of rows) n += head.sampleEnd(row) - head.rowSampleStart.array[row];
  const page: SamplePage = { stack: new Uint32Array(n), value: new Float64Array(n) };
  let i = 0;
  for (const row of rows) {
    const start = head.rowSampleStart.array[row];
    const end = head.sampleEnd(row);
    page.stack.set(head.sampleStack.array.subarray(start, end), i);
    page.value.set(head.sampleValue.array.subarray(start, end), i);
    i += end - start;
  }
  return page;
}

export interface SeriesColumns {
  labels: Labels[];
  /** Rows of series s are rowStart[s] .. rowStart[s+1], sorted by time (series + 1 entries). */
  rowStart: Uint32Array;
  /** Time of each series' first and last row: label queries skip the profiles section when a series is fully in or out of range. */
  minTimeMs: Float64Array;
  maxTimeMs: Float64Array;
}

function encodeSeries(c: SeriesColumns): Uint8Array {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string) => {
    let id = ids.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const refs = c.labels.map((ls) => ls.map((l) => [intern(l.name), intern(l.value)]));
  const w = new ByteWriter();
  w.strings(strings);
  w.varint(refs.length);
  for (const series of refs) {
    w.varint(series.length);
    for (const [name, value] of series) {
      w.varint(name);
      w.varint(value);
    }
  }
  w.array(c.rowStart);
  w.array(c.minTimeMs);
  w.array(c.maxTimeMs);
  return w.finish();
}

function decodeSeries(r: ByteReader): SeriesColumns {
  const strings = r.strings();
  const labels: Labels[] = [];
  for (let n = r.varint(); n > 0; n--) {
    const ls = [];
    for (let k = r.varint(); k > 0; k--) ls.push({ name: strings[r.varint()], value: strings[r.varint()] });
    labels.push(ls);
  }
  return {
    labels,
    rowStart: r.array(Uint32Array),
    minTimeMs: r.array(Float64Array),
    maxTimeMs: r.array(Float64Array),
  };
}

export interface ProfileColumns {
  timeMs: Float64Array;
  durationNanos: Float64Array;
  partition: Uint32Array;
  /** Row r owns samples sampleStart[r] .. sampleStart[r+1] (rows + 1 entries). */
  sampleStart: Uint32Array;
  /**
   * Sum of each row's sample values. Stored since format 2; for a format-1 block it is computed from
   * the samples on first use (see BlockReader.totals).
   */
  total: Float64Array | undefined;
  /** Sampling period of each row's profile; 0 in format-1 blocks. */
  period: Float64Array;
}

function encodeProfiles(p: ProfileColumns, format: number): Uint8Array {
  const w = new ByteWriter();
  w.array(p.timeMs);
  w.array(p.durationNanos);
  w.array(p.partition);
  w.array(p.sampleStart);
  if (format >= 2) {
    w.array(p.total!);
    w.array(p.period);
  }
  return w.finish();
}

function decodeProfiles(r: ByteReader, format: number): ProfileColumns {
  const timeMs = r.array(Float64Array);
  const durationNanos = r.array(Float64Array);
  const partition = r.array(Uint32Array);
  const sampleStart = r.array(Uint32Array);
  if (format < 2) {
    return {
      timeMs,
      durationNanos,
      partition,
      sampleStart,
      total: undefined,
      period: new Float64Array(timeMs.length),
    };
  }
  return {
    timeMs,
    durationNanos,
    partition,
    sampleStart,
    total: r.array(Float64Array),
    period: r.array(Float64Array),
  };
}

export interface SamplePage {
  stack: Uint32Array;
  value: Float64Array;
}

function encodeSamplePage(page: SamplePage): Uint8Array {
  const w = new ByteWriter(page.stack.length * 12 + 32);
  w.array(page.stack);
  w.array(page.value);
  return w.finish();
}

function decodeSamplePage(r: ByteReader): SamplePage {
  return { stack: r.array(Uint32Array), value: r.array(Float64Array) };
}

// --- reading -------------------------------------------------------------------------------

/** A whole block, decoded: the input of a compaction. */
export interface BlockContents {
  toc: BlockToc;
  series: SeriesColumns;
  profiles: ProfileColumns & { total: Float64Array };
  samples: SamplePage;
  partitions: BlockPartition[];
}

/** Decoded sections of all open blocks, bounded by their decoded size. */
export type SectionCache = LruCache<object>;

interface SamplePageRef {
  section: number;
  firstRow: number;
  endRow: number;
}

/**
 * Queries one block. It keeps the TOC and the series section in memory and reads the other sections
 * by byte range on demand, through the shared section cache.
 */
export class BlockReader implements Queryable {
  private readonly seriesSection: number;
  private readonly profilesSection: number;
  private readonly symbolsSections: number[] = [];
  private readonly stacksSections: number[] = [];
  private readonly pages: SamplePageRef[] = [];

  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    readonly sizeBytes: number,
    readonly toc: BlockToc,
    private readonly cache: SectionCache,
  ) {
    let seriesSection = -1;
    let profilesSection = -1;
    toc.sections.forEach((s, i) => {
      if (s.kind === 'series') seriesSection = i;
      else if (s.kind === 'profiles') profilesSection = i;
      else if (s.kind === 'symbols') this.symbolsSections[s.partition!] = i;
      else if (s.kind === 'stacks') this.stacksSections[s.partition!] = i;
      else if (s.kind === 'samples') {
        this.pages.push({ section: i, firstRow: s.firstRow!, endRow: s.firstRow! + s.rowCount! });
      }
    });
    this.seriesSection = seriesSection;
    this.profilesSection = profilesSection;
    this.pages.sort((a, b) => a.firstRow - b.firstRow);
  }

  /**
   * Reads and checks the trailer and the TOC; throws BlockCorruptError when they fail. Sections, the series
   * too, are read when a query first needs them (an open block costs memory for its TOC only).
   */
  static async open(
    store: ObjectStore,
    { key, size }: ObjectInfo,
    cache: SectionCache,
  ): Promise<BlockReader> {
    if (size < TRAILER_BYTES) throw new BlockCorruptError(key, `file of ${size} bytes has no trailer`);
    const tailLength = Math.min(size, TAIL_READ_BYTES);
    const tail = Buffer.from(await store.getRange(key, size - tailLength, tailLength));
    const trailer = tail.subarray(tailLength - TRAILER_BYTES);
    if (!trailer.subarray(8).equals(MAGIC)) {
      throw new BlockCorruptError(key, 'trailer magic missing (not a block file, or truncated)');
    }
    const tocLength = trailer.readUInt32LE(0);
    if (tocLength + TRAILER_BYTES > size) {
      throw new BlockCorruptError(key, `TOC length ${tocLength} exceeds the file size ${size}`);
    }
    const tocStart = size - TRAILER_BYTES - tocLength;
    const tocBytes =
      tocLength + TRAILER_BYTES <= tailLength
        ? tail.subarray(tailLength - TRAILER_BYTES - tocLength, tailLength - TRAILER_BYTES)
        : await store.getRange(key, tocStart, tocLength);
    if (crc32(tocBytes) !== trailer.readUInt32LE(4))
      throw new BlockCorruptError(key, 'TOC checksum mismatch');
    const toc = parseToc(key, Buffer.from(tocBytes).toString('utf8'), tocStart);
    return new BlockReader(store, key, size, toc, cache);
  }

  get minTimeMs(): number {
    return this.toc.minTimeMs;
  }

  get maxTimeMs(): number {
    return this.toc.maxTimeMs;
  }

  async matchingSeries(matchers: readonly Matcher[], range: TimeRange): Promise<Labels[]> {
    const { series, index } = await this.seriesIndex();
    const { labels, minTimeMs, maxTimeMs } = series;
    const out: Labels[] = [];
    let profiles: ProfileColumns | undefined;
    for (const id of index.select(matchers)) {
      if (minTimeMs[id] > range.endMs || maxTimeMs[id] < range.startMs) continue;
      if (minTimeMs[id] < range.startMs || maxTimeMs[id] > range.endMs) {
        profiles ??= await this.profiles();
        const [lo, hi] = rowsInRange(series, profiles, id, range);
        if (lo === hi) continue;
      }
      out.push(labels[id]);
    }
    return out;
  }

  async mergeStacks(matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]> {
    const { series, index } = await this.seriesIndex();
    const ids = index.select(matchers);
    if (ids.length === 0) return [];
    const profiles = await this.profiles();
    const sums = new PartitionSums((p) => this.toc.partitions[p].stackNodes);
    await this.visitRows(series, ids, range, profiles, (row, page, start, end) => {
      sums.add(profiles.partition[row], page.stack, page.value, start, end);
    });
    return Promise.all(
      sums.touched().map(async ([p, values]) => ({ ...(await this.partitionStacks(p)), values })),
    );
  }

  async seriesTotals(matchers: readonly Matcher[], range: TimeRange, sink: SeriesTotalsSink): Promise<void> {
    const { series, index } = await this.seriesIndex();
    const { labels, minTimeMs, maxTimeMs } = series;
    const ids = index
      .select(matchers)
      .filter((id) => minTimeMs[id] <= range.endMs && maxTimeMs[id] >= range.startMs);
    if (ids.length === 0) return;
    const profiles = await this.profiles();
    const total = await this.totals(profiles);
    const time = profiles.timeMs;
    for (const id of ids) {
      const [lo, hi] = rowsInRange(series, profiles, id, range);
      if (lo === hi) continue;
      const handle = sink.series(labels[id]);
      for (let row = lo; row < hi; row++) sink.add(handle, time[row], total[row]);
    }
  }

  async mergeProfile(matchers: readonly Matcher[], range: TimeRange): Promise<ProfilePart[]> {
    const { series: seriesColumns, index } = await this.seriesIndex();
    const ids = index.select(matchers);
    if (ids.length === 0) return [];
    const profiles = await this.profiles();
    const sums = new PartitionSums((p) => this.toc.partitions[p].stackNodes);
    const info = new Map<number, { periods: Map<number, number>; labels: Labels }>();
    let series = 0;
    await this.visitRows(
      seriesColumns,
      ids,
      range,
      profiles,
      (row, page, start, end) => {
        const partition = profiles.partition[row];
        let part = info.get(partition);
        if (!part) {
          part = { periods: new Map(), labels: seriesColumns.labels[series] };
          info.set(partition, part);
        }
        countPeriod(part.periods, profiles.period[row]);
        sums.add(partition, page.stack, page.value, start, end);
      },
      (id) => {
        series = id;
      },
    );
    return Promise.all(
      sums.touched().map(async ([p, values]) => {
        const [tree, symbols] = await Promise.all([
          this.cached(this.stacksSections[p], decodeStackTree),
          this.cached(this.symbolsSections[p], decodeSymbols),
        ]);
        return { symbols, tree, values, ...info.get(p)! };
      }),
    );
  }

  /**
   * Calls `visit` with the samples of every row of the given series (ascending ids) in range, loading
   * the sample pages in order (a series' rows follow the previous series' rows).
   */
  private async visitRows(
    series: SeriesColumns,
    ids: readonly number[],
    range: TimeRange,
    profiles: ProfileColumns,
    visit: (row: number, page: SamplePage, start: number, end: number) => void,
    enterSeries?: (id: number) => void,
  ): Promise<void> {
    let pageIndex = 0;
    let page: SamplePage | undefined;
    for (const id of ids) {
      let [row, end] = rowsInRange(series, profiles, id, range);
      if (row < end) enterSeries?.(id);
      while (row < end) {
        let ref = this.pages[pageIndex];
        if (row >= ref.endRow || !page) {
          while (row >= this.pages[pageIndex].endRow) pageIndex++;
          ref = this.pages[pageIndex];
          page = await this.cached(ref.section, decodeSamplePage);
        }
        const pageEnd = Math.min(end, ref.endRow);
        const base = profiles.sampleStart[ref.firstRow];
        for (; row < pageEnd; row++) {
          visit(row, page, profiles.sampleStart[row] - base, profiles.sampleStart[row + 1] - base);
        }
      }
    }
  }

  /** The row totals; a format-1 block computes them once from its samples. */
  private async totals(profiles: ProfileColumns): Promise<Float64Array> {
    if (profiles.total) return profiles.total;
    const total = new Float64Array(profiles.timeMs.length);
    for (const ref of this.pages) {
      const page = await this.cached(ref.section, decodeSamplePage);
      const base = profiles.sampleStart[ref.firstRow];
      for (let row = ref.firstRow; row < ref.endRow; row++) {
        let sum = 0;
        for (let i = profiles.sampleStart[row] - base; i < profiles.sampleStart[row + 1] - base; i++) {
          sum += page.value[i];
        }
        total[row] = sum;
      }
    }
    // The profiles section is cached decoded, so later queries find the totals there.
    profiles.total = total;
    return total;
  }

  /**
   * Everything in the block, decoded (bypassing the section cache): what compaction merges. Sample
   * pages are concatenated into one pair of columns indexed like `profiles.sampleStart`.
   */
  async readAll(): Promise<BlockContents> {
    const format = this.toc.format;
    const profiles = decodeProfiles(await this.readSection(this.profilesSection), format);
    const sampleCount = profiles.sampleStart[profiles.timeMs.length];
    const samples: SamplePage = { stack: new Uint32Array(sampleCount), value: new Float64Array(sampleCount) };
    for (const ref of this.pages) {
      const page = decodeSamplePage(await this.readSection(ref.section));
      const base = profiles.sampleStart[ref.firstRow];
      samples.stack.set(page.stack, base);
      samples.value.set(page.value, base);
    }
    let total = profiles.total;
    if (!total) {
      total = new Float64Array(profiles.timeMs.length);
      for (let row = 0; row < total.length; row++) {
        let sum = 0;
        for (let i = profiles.sampleStart[row]; i < profiles.sampleStart[row + 1]; i++)
          sum += samples.value[i];
        total[row] = sum;
      }
    }
    const partitions: BlockPartition[] = [];
    for (const [p, { name }] of this.toc.partitions.entries()) {
      partitions.push({
        name,
        symbols: decodeSymbols(await this.readSection(this.symbolsSections[p])),
        tree: decodeStackTree(await this.readSection(this.stacksSections[p])),
      });
    }
    const series = decodeSeries(await this.readSection(this.seriesSection));
    return { toc: this.toc, series, profiles: { ...profiles, total }, samples, partitions };
  }

  /** Number of rows (profiles) of the matching series. */
  async countRows(matchers: readonly Matcher[]): Promise<number> {
    const { series, index } = await this.seriesIndex();
    const { rowStart } = series;
    let rows = 0;
    for (const id of index.select(matchers)) rows += rowStart[id + 1] - rowStart[id];
    return rows;
  }

  /** Decoded size of every section: the memory a compaction needs to load this block. */
  get rawBytes(): number {
    let n = 0;
    for (const s of this.toc.sections) n += s.rawLength;
    return n;
  }

  get id(): string {
    return this.toc.id;
  }

  get level(): number {
    return this.toc.level ?? 0;
  }

  get sources(): readonly string[] {
    return this.toc.sources ?? [];
  }

  /** Drops this block's sections from the shared cache (after the block was removed). */
  evictFromCache(): void {
    this.cache.deleteWithPrefix(`${this.key}#`);
  }

  /**
   * The series section and its postings, through the shared cache: the labels of thousands of series
   * weigh far more decoded than their bytes, so only the blocks being queried hold them.
   */
  private seriesIndex(): Promise<BlockSeries> {
    return this.cached(
      this.seriesSection,
      decodeBlockSeries,
      'index',
      (b) => b.series.labels.length * SERIES_BYTES,
    );
  }

  private profiles(): Promise<ProfileColumns> {
    const format = this.toc.format;
    return this.cached(this.profilesSection, (r) => decodeProfiles(r, format));
  }

  private async partitionStacks(p: number): Promise<StackTreeArrays & Frames> {
    const [tree, frames] = await Promise.all([
      this.cached(this.stacksSections[p], decodeStackTree),
      this.cached(this.symbolsSections[p], (r) => new FrameTable().update(decodeSymbols(r)), 'frames'),
    ]);
    return { ...tree, ...frames };
  }

  /**
   * A decoded section through the shared cache; `view` names a decoding other than the plain one, and
   * `sizeOf` estimates its memory when that is not about the section's decoded length.
   */
  private cached<T extends object>(
    section: number,
    decode: (r: ByteReader) => T,
    view = '',
    sizeOf: (value: T) => number = () => this.toc.sections[section].rawLength,
  ): Promise<T> {
    const load = async () => decode(await this.readSection(section));
    return this.cache.getOrLoad(
      `${this.key}#${section}${view}`,
      load,
      sizeOf as (v: object) => number,
    ) as Promise<T>;
  }

  private async readSection(i: number): Promise<ByteReader> {
    const s = this.toc.sections[i];
    const stored = await this.store.getRange(this.key, s.offset, s.length);
    if (crc32(stored) !== s.crc32)
      throw new BlockCorruptError(this.key, `${s.kind} section #${i} checksum mismatch`);
    const raw = await inflateAsync(stored);
    if (raw.length !== s.rawLength) {
      throw new BlockCorruptError(
        this.key,
        `${s.kind} section #${i} inflates to ${raw.length} bytes, not ${s.rawLength}`,
      );
    }
    return new ByteReader(raw);
  }
}

interface BlockSeries {
  series: SeriesColumns;
  index: SeriesPostings;
}

/** Memory of one decoded series with its postings, estimated (labels, label objects, posting entries). */
const SERIES_BYTES = 1024;

function decodeBlockSeries(r: ByteReader): BlockSeries {
  const series = decodeSeries(r);
  const index = new SeriesPostings();
  for (const labels of series.labels) index.add(labels);
  return { series, index };
}

/** Rows [lo, hi) of series `id` whose time is in range (rows of a series are sorted by time). */
function rowsInRange(
  series: SeriesColumns,
  profiles: ProfileColumns,
  id: number,
  range: TimeRange,
): [number, number] {
  const { rowStart } = series;
  const time = profiles.timeMs;
  const lo = firstAtLeast(time, rowStart[id], rowStart[id + 1], range.startMs);
  // Row times are whole milliseconds.
  const hi = firstAtLeast(time, lo, rowStart[id + 1], Math.floor(range.endMs) + 1);
  return [lo, hi];
}

/** Index of the first element in sorted `a[lo..hi)` that is >= x, or hi. */
function firstAtLeast(a: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseToc(key: string, json: string, tocStart: number): BlockToc {
  let toc: BlockToc;
  try {
    toc = JSON.parse(json);
  } catch (err) {
    throw new BlockCorruptError(key, `TOC is not JSON (${(err as Error).message})`);
  }
  if (!READABLE_FORMATS.has(toc.format))
    throw new BlockCorruptError(key, `unsupported format version ${toc.format}`);
  const count = (kind: SectionKind) => toc.sections.filter((s) => s.kind === kind).length;
  if (count('series') !== 1 || count('profiles') !== 1) {
    throw new BlockCorruptError(key, 'TOC must list exactly one series and one profiles section');
  }
  for (const s of toc.sections) {
    if (!(s.offset >= 0 && s.length >= 0 && s.offset + s.length <= tocStart)) {
      throw new BlockCorruptError(key, `${s.kind} section lies outside the data area`);
    }
    if ((s.kind === 'symbols' || s.kind === 'stacks') && !toc.partitions[s.partition!]) {
      throw new BlockCorruptError(key, `${s.kind} section names unknown partition ${s.partition}`);
    }
  }
  return toc;
}
