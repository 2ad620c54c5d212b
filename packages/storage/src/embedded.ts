import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LabelName,
  type Labels,
  labelsKey,
  type Matcher,
  matchLabels,
  type StackValues,
} from '@emberscope/model';
import { numSampleTypes, type Profile } from '@emberscope/pprof';
import {
  BLOCKS_PREFIX,
  type BlockData,
  BlockReader,
  headBlockData,
  isBlockKey,
  type SectionCache,
  tenantDirName,
  writeBlock,
} from './block.js';
import { type CompactionPlan, type CompactionPolicy, mergeBlocks, planCompaction } from './compaction.js';
import { lockDataDir } from './dir-lock.js';
import type {
  AppendRequest,
  ProfileStats,
  RetentionResult,
  SelectSeriesOptions,
  SeriesPoints,
  StorageEngine,
  StorageReport,
  StorageStats,
  TenantStorageReport,
  TimeRange,
  WalBacklog,
} from './engine.js';
import { StorageLimitError } from './errors.js';
import { Head } from './head.js';
import { LruCache } from './lru.js';
import { LocalFsObjectStore, type ObjectStore } from './object-store.js';
import { buildMergedProfile } from './profile-export.js';
import { overlaps, type Queryable } from './queryable.js';
import { SeriesBucketer } from './series-query.js';
import { encodeRecord, WalWriter } from './wal.js';
import { replayWal } from './wal-replay.js';

/**
 * A head is never reported full below this: memory is not at risk there, and with a tiny max_head_size
 * (tests, small machines) heads are flushed back to back and would refuse nearly every write.
 */
const MIN_FULL_HEAD_BYTES = 32 * 1024 * 1024;
export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EmbeddedStorageOptions {
  dataDir: string;
  /** Flush the head to blocks once its data spans, or it has been open, this long. Default 1 h. */
  blockDurationMs?: number;
  /**
   * Flush earlier when the head's estimated size passes this. Default 1 GiB: every partition (service)
   * in the head holds its symbols and stack tree, so a limit below the working set of all active
   * services makes flushes back to back, each rewriting every partition.
   */
  maxHeadBytes?: number;
  /**
   * Flush earlier when the head's WAL holds this much. The WAL keeps uploads as received (gzipped
   * pprof, ~4x the head's growth per profile), and a restart after a crash replays all of it: this
   * bounds both the disk it takes and the recovery time. Default 1 GiB; 0 = no limit.
   */
  maxWalBytes?: number;
  /** Active (head) series per tenant, a number or a function of the tenant; 0 or absent: no limit. */
  maxSeriesPerTenant?: number | ((tenant: string) => number);
  /** Deeper stacks keep their leaf-side frames. Default 1024. */
  maxStackDepth?: number;
  /** fdatasync the WAL before acknowledging an append. Default true. */
  walSync?: boolean;
  /** Write the head to blocks on close (else the WAL is replayed on the next open). Default true. */
  flushOnClose?: boolean;
  /** Budget for decoded block sections kept in memory. Default 256 MiB. */
  blockCacheBytes?: number;
  logger?: StorageLogger;
  /** Where blocks go; default: the local filesystem under dataDir. */
  objectStore?: ObjectStore;
  /** How often background compaction runs; 0 disables the timer (`compact()` still works). Default 60 s. */
  compactionIntervalMs?: number;
  /** Aligned windows of compaction levels 1, 2, …, ascending. Default [6 h, 24 h]. */
  compactionWindowsMs?: readonly number[];
  /** A window is compacted once it ended this long ago. Default: blockDurationMs. */
  compactionGraceMs?: number;
  /** Most decoded block bytes one compaction may load into memory. Default 1 GiB. */
  compactionMaxInputBytes?: number;
  /** Blocks whose newest profile is older than this are deleted; 0 keeps data forever. Default 30 days. */
  retentionMs?: number;
  /** Disk budget for blocks + WAL: the blocks with the oldest data go first. 0 (default) = no budget. */
  maxDiskBytes?: number;
  /** How often retention is enforced in the background; 0 disables the timer. Default 60 s. */
  retentionIntervalMs?: number;
  /** The clock of retention and compaction windows, ms since epoch (for tests). Default Date.now. */
  now?: () => number;
}

export type EmbeddedStorage = StorageEngine & {
  /** Tenants with data in the head or in blocks, sorted. */
  tenants(): string[];
};

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const silentLogger: StorageLogger = { info() {}, warn() {}, error() {} };

/** Opens (or creates) the data directory: loads block metadata and replays the WAL into the head. */
export async function openEmbeddedStorage(opts: EmbeddedStorageOptions): Promise<EmbeddedStorage> {
  const logger = opts.logger ?? silentLogger;
  const walDir = join(opts.dataDir, 'wal');
  await mkdir(walDir, { recursive: true });
  const unlock = await lockDataDir(opts.dataDir);
  try {
    const store = opts.objectStore ?? new LocalFsObjectStore(opts.dataDir);
    const cache: SectionCache = new LruCache(opts.blockCacheBytes ?? 256 * 1024 * 1024);
    const blocks = await loadBlocks(store, cache, logger);
    const head = new Head(opts.maxStackDepth ?? 1024);
    const covered = new Map<string, number>();
    for (const [tenant, list] of blocks) covered.set(tenant, Math.max(...list.map((b) => b.toc.walSegment)));
    const walSync = opts.walSync ?? true;
    const replay = await replayWal(
      walDir,
      (t) => covered.get(t) ?? 0,
      (p) => head.insert(p),
      logger,
    );
    // Segment numbers never go back, even when every segment was deleted: a new segment numbered at
    // or below a block's walSegment would have its records skipped by the next replay.
    const nextSegment = Math.max(replay.lastSegment, ...covered.values()) + 1;
    const wal = await WalWriter.create(walDir, nextSegment, walSync, replay.keptSegmentBytes);
    logger.info(
      {
        blocks: [...blocks.values()].reduce((n, l) => n + l.length, 0),
        replayedProfiles: replay.replayedRecords,
      },
      'storage opened',
    );
    return new EmbeddedEngine(opts, logger, store, cache, blocks, head, wal, unlock, replay.keptTenantBytes);
  } catch (err) {
    await unlock();
    throw err;
  }
}

/**
 * Opens every block. A block listed as a source of another durable block was compacted into it (a
 * crash came between writing the result and deleting the sources): it is ignored and deleted.
 */
async function loadBlocks(
  store: ObjectStore,
  cache: SectionCache,
  logger: StorageLogger,
): Promise<Map<string, BlockReader[]>> {
  const opened: BlockReader[] = [];
  for (const info of await store.list(BLOCKS_PREFIX)) {
    if (!isBlockKey(info.key)) continue;
    try {
      const block = await BlockReader.open(store, info, cache);
      // A block filed under another tenant's directory must never answer that tenant's queries.
      if (info.key.split('/')[1] !== tenantDirName(block.toc.tenant)) {
        throw new Error(`block of tenant ${JSON.stringify(block.toc.tenant)} is filed under ${info.key}`);
      }
      opened.push(block);
    } catch (err) {
      logger.error({ key: info.key, err }, 'skipping unreadable block');
    }
  }
  const superseded = new Set<string>();
  for (const block of opened) {
    for (const source of block.sources) superseded.add(`${block.toc.tenant}\u0000${source}`);
  }
  const blocks = new Map<string, BlockReader[]>();
  for (const block of opened) {
    if (superseded.has(`${block.toc.tenant}\u0000${block.id}`)) {
      logger.warn({ key: block.key }, 'deleting block left over from an interrupted compaction');
      await store.delete(block.key).catch((err: unknown) => {
        logger.error({ key: block.key, err }, 'could not delete compacted block; ignoring it');
      });
      continue;
    }
    getOrCreate(blocks, block.toc.tenant, () => []).push(block);
  }
  return blocks;
}

/** A head that takes no more writes and is being written to blocks, one tenant at a time. */
interface FrozenHead {
  head: Head;
  /** Last WAL segment holding its records. */
  walSegment: number;
}

class EmbeddedEngine implements EmbeddedStorage {
  private readonly frozen: FrozenHead[] = [];
  /** The head's estimated size after the last append (computing it walks every partition). */
  private headBytes = 0;
  /** WAL bytes of the records the live head holds (since the last freeze, or replayed at open). */
  private headWalBytes: number;
  /** Serializes flushes: each waits for the previous one. */
  private flushChain: Promise<void> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  /** Serializes compaction and retention, which both remove blocks. */
  private maintenanceChain: Promise<unknown> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly blockDurationMs: number;
  private readonly maxHeadBytes: number;
  private readonly maxWalBytes: number;
  private readonly maxStackDepth: number;
  private readonly compactionPolicy: CompactionPolicy;
  private readonly retentionMs: number;
  private readonly maxDiskBytes: number;
  private readonly now: () => number;
  /** Queries in flight per block: a removed block's file is deleted only once none reads it. */
  private readonly pins = new Map<BlockReader, number>();
  private readonly unpinWaiters = new Map<BlockReader, (() => void)[]>();
  /** Removed blocks whose file could not be deleted yet; retried by the next maintenance run. */
  private readonly pendingDeletes: BlockReader[] = [];
  /** New series of appends still waiting for their WAL write, per tenant (see `reserveSeries`). */
  private readonly pendingSeries = new Map<string, Set<string>>();
  /** Bytes of each tenant's records in each live WAL segment. */
  private readonly walTenantBytes: Map<number, Map<string, number>>;
  private compactions = 0;
  private retentionDeletedBlocks = 0;
  private retentionDeletedBytes = 0;

  constructor(
    private readonly opts: EmbeddedStorageOptions,
    private readonly logger: StorageLogger,
    private readonly store: ObjectStore,
    private readonly cache: SectionCache,
    private readonly blocks: Map<string, BlockReader[]>,
    private head: Head,
    private readonly wal: WalWriter,
    private readonly unlock: () => Promise<void>,
    walTenantBytes: Map<number, Map<string, number>>,
  ) {
    this.blockDurationMs = opts.blockDurationMs ?? HOUR_MS;
    this.maxHeadBytes = opts.maxHeadBytes ?? 1024 * 1024 * 1024;
    this.maxWalBytes = opts.maxWalBytes ?? 1024 * 1024 * 1024;
    this.maxStackDepth = opts.maxStackDepth ?? 1024;
    this.compactionPolicy = {
      windowsMs: [...(opts.compactionWindowsMs ?? [6 * HOUR_MS, DAY_MS])],
      graceMs: opts.compactionGraceMs ?? this.blockDurationMs,
      maxInputBytes: opts.compactionMaxInputBytes ?? 1024 * 1024 * 1024,
    };
    this.retentionMs = opts.retentionMs ?? 30 * DAY_MS;
    this.maxDiskBytes = opts.maxDiskBytes ?? 0;
    this.now = opts.now ?? Date.now;
    this.walTenantBytes = walTenantBytes;
    this.headBytes = head.byteSize; // the replayed WAL
    this.headWalBytes = 0;
    for (const perTenant of walTenantBytes.values())
      for (const bytes of perTenant.values()) this.headWalBytes += bytes;
    const checkEveryMs = Math.min(60_000, Math.max(100, this.blockDurationMs / 10));
    this.every(checkEveryMs, () => {
      if (this.headIsDue()) this.flushInBackground();
    });
    this.every(opts.compactionIntervalMs ?? 60_000, () => {
      this.compact().catch((err: unknown) => this.logger.error({ err }, 'compaction failed; will retry'));
    });
    this.every(opts.retentionIntervalMs ?? 60_000, () => {
      this.enforceRetention().catch((err: unknown) =>
        this.logger.error({ err }, 'retention failed; will retry'),
      );
    });
  }

  private every(ms: number, fn: () => void): void {
    if (!(ms > 0)) return;
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  async append(requests: AppendRequest[]): Promise<void> {
    if (this.closed) throw new Error('storage is closed');
    if (requests.length === 0) return;
    for (const req of requests) validateRequest(req);
    const newSeries = this.reserveSeries(requests);
    const records = requests.map((req) => req.walRecord ?? encodeRecord(req));
    // The records go to the head of the WAL segment they are queued in, which is what lets a flush
    // delete exactly the segments it covered. They are inserted only once durable, so a write the
    // WAL refused (disk full, I/O error) is not stored and the client's retry is the only copy. A
    // flush of that head waits for the rotation, which completes only after these records are
    // durable and this continuation has run.
    const head = this.head;
    const segmentBytes = getOrCreate(this.walTenantBytes, this.wal.currentSegment, () => new Map());
    requests.forEach((req, i) => {
      segmentBytes.set(req.tenant, (segmentBytes.get(req.tenant) ?? 0) + records[i].length);
      this.headWalBytes += records[i].length;
    });
    try {
      await this.wal.append(records);
      for (const req of requests) head.insert(req);
    } finally {
      if (newSeries) this.releaseSeries(newSeries);
    }
    if (head !== this.head) return;
    this.headBytes = head.byteSize;
    if (this.headOverLimits()) this.flushInBackground();
  }

  headFull(): boolean {
    return this.frozen.length > 0 && this.headBytes >= Math.max(this.maxHeadBytes, MIN_FULL_HEAD_BYTES);
  }

  /**
   * Throws before anything is written if the call would give a tenant too many head series;
   * otherwise counts its new series as pending until `releaseSeries`, so that appends waiting for
   * the WAL (not in the head yet) count too. Undefined when there is no limit.
   */
  private reserveSeries(requests: AppendRequest[]): Map<string, Set<string>> | undefined {
    const option = this.opts.maxSeriesPerTenant;
    if (!option) return undefined;
    const limitOf = typeof option === 'number' ? () => option : option;
    const added = new Map<string, Set<string>>();
    for (const req of requests) {
      const index = this.head.tenants.get(req.tenant)?.index;
      const pending = this.pendingSeries.get(req.tenant);
      for (const { labels } of req.series) {
        if (index?.get(labels) !== undefined) continue;
        const key = labelsKey(labels);
        if (!pending?.has(key)) getOrCreate(added, req.tenant, () => new Set()).add(key);
      }
    }
    for (const [tenant, keys] of added) {
      const limit = limitOf(tenant);
      const total =
        (this.head.tenants.get(tenant)?.index.size ?? 0) +
        (this.pendingSeries.get(tenant)?.size ?? 0) +
        keys.size;
      if (limit > 0 && total > limit) {
        throw new StorageLimitError(
          'series_limit',
          `tenant ${JSON.stringify(tenant)} would have ${total} active series, over the limit of ${limit}`,
        );
      }
    }
    for (const [tenant, keys] of added) {
      const pending = getOrCreate(this.pendingSeries, tenant, () => new Set());
      for (const key of keys) pending.add(key);
    }
    return added;
  }

  private releaseSeries(reserved: Map<string, Set<string>>): void {
    for (const [tenant, keys] of reserved) {
      const pending = this.pendingSeries.get(tenant);
      if (!pending) continue;
      for (const key of keys) pending.delete(key);
      if (pending.size === 0) this.pendingSeries.delete(tenant);
    }
  }

  private headIsDue(): boolean {
    const { head } = this;
    if (head.isEmpty) return false;
    const age = Date.now() - (head.firstInsertAtMs ?? Date.now());
    return age >= this.blockDurationMs || head.timeSpanMs >= this.blockDurationMs || this.headOverLimits();
  }

  private headOverLimits(): boolean {
    return (
      this.headBytes >= this.maxHeadBytes || (this.maxWalBytes > 0 && this.headWalBytes >= this.maxWalBytes)
    );
  }

  private flushInBackground(): void {
    this.flush().catch((err: unknown) => this.logger.error({ err }, 'flush failed; will retry'));
  }

  flush(): Promise<void> {
    // A flush that has not started yet will freeze everything appended so far: share it, so that a
    // burst of appends over the size limit during a long flush queues one flush, not one each.
    if (this.queuedFlush) return this.queuedFlush;
    const run = this.flushChain.then(() => {
      this.queuedFlush = undefined;
      return this.flushHeads();
    });
    this.queuedFlush = run;
    this.flushChain = run.catch(() => {});
    return run;
  }

  /**
   * Freezes the head (new writes go to a fresh head and WAL segment), then writes every frozen head
   * to blocks, oldest first, and deletes the WAL segments they covered. A failure leaves the rest
   * frozen, still queryable and still in the WAL, for the next flush.
   */
  private async flushHeads(): Promise<void> {
    if (!this.head.isEmpty) {
      const sealed = this.wal.rotate();
      this.frozen.push({ head: this.head, walSegment: this.wal.currentSegment - 1 });
      this.head = new Head(this.maxStackDepth);
      this.headBytes = 0;
      this.headWalBytes = 0;
      await sealed;
    }
    while (this.frozen.length > 0) {
      const { head, walSegment } = this.frozen[0];
      for (const [tenant, tenantHead] of head.tenants) {
        const started = Date.now();
        const { info } = await writeBlock(this.store, headBlockData(tenantHead, walSegment));
        const block = await BlockReader.open(this.store, info, this.cache);
        // Swapped in one tick: a query sees the tenant's data either in the frozen head or in the block.
        getOrCreate(this.blocks, tenant, () => []).push(block);
        head.tenants.delete(tenant);
        this.logger.info(
          {
            tenant,
            key: info.key,
            bytes: info.size,
            profiles: block.toc.profileCount,
            ms: Date.now() - started,
          },
          'wrote block',
        );
      }
      this.frozen.shift();
      await this.wal.deleteThrough(walSegment);
      for (const segment of [...this.walTenantBytes.keys()]) {
        if (segment <= walSegment) this.walTenantBytes.delete(segment);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    try {
      // A compaction in progress stops before writing its result (see runCompaction).
      await this.maintenanceChain;
      // A failed flush loses nothing: the WAL still holds the data for the next open.
      if (this.opts.flushOnClose ?? true) await this.flush();
      else await this.flushChain;
    } finally {
      try {
        await this.wal.close();
      } finally {
        await this.unlock();
      }
    }
  }

  // --- block lifecycle -------------------------------------------------------------------------

  /** Runs `fn` after every maintenance task queued before it; tasks never run concurrently. */
  private maintenance<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenanceChain.then(fn);
    this.maintenanceChain = run.catch(() => {});
    return run;
  }

  /** Removes blocks from the query set (in this tick) and deletes their files once no query reads them. */
  private async removeBlocks(tenant: string, removed: readonly BlockReader[]): Promise<void> {
    const list = this.blocks.get(tenant) ?? [];
    const kept = list.filter((b) => !removed.includes(b));
    if (kept.length > 0) this.blocks.set(tenant, kept);
    else this.blocks.delete(tenant);
    await this.deleteBlockFiles(removed);
  }

  private async deleteBlockFiles(removed: readonly BlockReader[]): Promise<void> {
    await Promise.all(removed.map((b) => this.unpinned(b)));
    for (const block of removed) {
      block.evictFromCache();
      try {
        await this.store.delete(block.key);
      } catch (err) {
        this.logger.error({ key: block.key, err }, 'could not delete a removed block; will retry');
        if (!this.pendingDeletes.includes(block)) this.pendingDeletes.push(block);
      }
    }
  }

  private async retryPendingDeletes(): Promise<void> {
    const pending = this.pendingDeletes.splice(0);
    if (pending.length > 0) await this.deleteBlockFiles(pending);
  }

  private unpinned(block: BlockReader): Promise<void> {
    if (!this.pins.get(block)) return Promise.resolve();
    return new Promise((resolve) => getOrCreate(this.unpinWaiters, block, () => []).push(resolve));
  }

  /** Runs a query over the tenant's queryables in range; blocks stay on disk until it is done. */
  private async query<T>(
    tenant: string,
    range: TimeRange,
    fn: (queryables: Queryable[]) => Promise<T>,
  ): Promise<T> {
    const queryables = this.queryables(tenant, range);
    const blocks = queryables.filter((q): q is BlockReader => q instanceof BlockReader);
    for (const b of blocks) this.pins.set(b, (this.pins.get(b) ?? 0) + 1);
    try {
      return await fn(queryables);
    } finally {
      for (const b of blocks) {
        const n = this.pins.get(b)! - 1;
        if (n > 0) this.pins.set(b, n);
        else {
          this.pins.delete(b);
          for (const resolve of this.unpinWaiters.get(b) ?? []) resolve();
          this.unpinWaiters.delete(b);
        }
      }
    }
  }

  // --- compaction ------------------------------------------------------------------------------

  compact(): Promise<void> {
    return this.maintenance(async () => {
      if (this.closed) return;
      await this.retryPendingDeletes();
      for (const tenant of [...this.blocks.keys()].sort()) {
        for (;;) {
          if (this.closed) return;
          const plan = planCompaction(this.blocks.get(tenant) ?? [], this.compactionPolicy, this.now());
          if (!plan) break;
          if (!(await this.runCompaction(tenant, plan))) return;
        }
      }
    });
  }

  /**
   * Writes the merged block (its TOC lists the sources), swaps it for the sources in one tick, then
   * deletes the sources. A crash before the write leaves the sources; after it, the next open deletes
   * the sources still present. Returns false when the engine closed before the result was written.
   */
  private async runCompaction(tenant: string, plan: CompactionPlan): Promise<boolean> {
    const started = Date.now();
    const contents = [];
    for (const block of plan.inputs) contents.push(await block.readAll());
    const data = await mergeBlocks(contents, plan.level);
    if (this.closed) return false;
    const block = await this.replaceBlocks(tenant, plan.inputs, data, () => {
      this.compactions++;
    });
    this.logger.info(
      {
        tenant,
        level: plan.level,
        sources: plan.inputs.map((b) => b.id),
        key: block?.key,
        profiles: block?.toc.profileCount,
        inputBytes: plan.inputs.reduce((n, b) => n + b.sizeBytes, 0),
        bytes: block?.sizeBytes,
        ms: Date.now() - started,
      },
      'compacted blocks',
    );
    return true;
  }

  /**
   * Writes `data` as a block whose TOC lists the inputs as sources, swaps it for the inputs in one
   * tick (`onSwap` runs in that tick), then deletes the inputs once no query reads them. Without
   * data (nothing left), the inputs are just removed.
   */
  private async replaceBlocks(
    tenant: string,
    inputs: readonly BlockReader[],
    data: BlockData | undefined,
    onSwap: () => void = () => {},
  ): Promise<BlockReader | undefined> {
    let block: BlockReader | undefined;
    if (data) {
      const { info } = await writeBlock(this.store, data);
      block = await BlockReader.open(this.store, info, this.cache);
    }
    const kept = (this.blocks.get(tenant) ?? []).filter((b) => !inputs.includes(b));
    if (block) kept.push(block);
    if (kept.length > 0) this.blocks.set(tenant, kept);
    else this.blocks.delete(tenant);
    onSwap();
    await this.deleteBlockFiles(inputs);
    return block;
  }

  // --- deletion --------------------------------------------------------------------------------

  async deleteSeries(tenant: string, matchers: readonly Matcher[]): Promise<{ deletedProfiles: number }> {
    if (this.closed) throw new Error('storage is closed');
    // What was appended before this call is in blocks once this flush is done.
    await this.flush();
    return this.maintenance(async () => {
      let deletedProfiles = 0;
      for (const block of [...(this.blocks.get(tenant) ?? [])]) {
        const rows = await block.countRows(matchers);
        if (rows === 0) continue;
        const contents = await block.readAll();
        const data = await mergeBlocks([contents], block.level, (labels) => !matchLabels(labels, matchers));
        const result = await this.replaceBlocks(tenant, [block], data);
        deletedProfiles += rows;
        this.logger.info(
          { tenant, key: block.key, replacedBy: result?.key, deletedProfiles: rows },
          'deleted series from block',
        );
      }
      return { deletedProfiles };
    });
  }

  // --- retention -------------------------------------------------------------------------------

  enforceRetention(): Promise<RetentionResult> {
    return this.maintenance(async () => {
      const result: RetentionResult = { deletedBlocks: 0, deletedBytes: 0 };
      if (this.closed) return result;
      await this.retryPendingDeletes();
      const remove = async (block: BlockReader, reason: string, extra: object) => {
        const tenant = block.toc.tenant;
        this.logger.info(
          {
            tenant,
            key: block.key,
            minTimeMs: block.minTimeMs,
            maxTimeMs: block.maxTimeMs,
            bytes: block.sizeBytes,
            profiles: block.toc.profileCount,
            ...extra,
          },
          `retention: deleting block (${reason})`,
        );
        result.deletedBlocks++;
        result.deletedBytes += block.sizeBytes;
        this.retentionDeletedBlocks++;
        this.retentionDeletedBytes += block.sizeBytes;
        await this.removeBlocks(tenant, [block]);
      };
      if (this.retentionMs > 0) {
        const cutoff = this.now() - this.retentionMs;
        for (const block of this.allBlocks()) {
          if (block.maxTimeMs < cutoff) await remove(block, 'older than the retention period', { cutoff });
        }
      }
      if (this.maxDiskBytes > 0) {
        const oldestFirst = this.allBlocks().sort(
          (a, b) => a.maxTimeMs - b.maxTimeMs || a.minTimeMs - b.minTimeMs || (a.id < b.id ? -1 : 1),
        );
        let used = this.diskBytes();
        for (const block of oldestFirst) {
          if (used <= this.maxDiskBytes) break;
          used -= block.sizeBytes;
          await remove(block, 'over the disk budget', { maxDiskBytes: this.maxDiskBytes });
        }
      }
      return result;
    });
  }

  private allBlocks(): BlockReader[] {
    return [...this.blocks.values()].flat();
  }

  private diskBytes(): number {
    return this.allBlocks().reduce((n, b) => n + b.sizeBytes, 0) + this.wal.totalBytes;
  }

  // --- queries -------------------------------------------------------------------------------

  /** The tenant's blocks, frozen heads and head that hold data in range. */
  private queryables(tenant: string, range: TimeRange): Queryable[] {
    const out: Queryable[] = [];
    for (const block of this.blocks.get(tenant) ?? []) if (overlaps(block, range)) out.push(block);
    for (const head of [...this.frozen.map((f) => f.head), this.head]) {
      const t = head.tenants.get(tenant);
      if (t && overlaps(t, range)) out.push(t);
    }
    return out;
  }

  private async matchingSeries(
    tenant: string,
    matchers: readonly Matcher[],
    range: TimeRange,
  ): Promise<Labels[]> {
    const parts = await this.query(tenant, range, (qs) =>
      Promise.all(qs.map((q) => q.matchingSeries(matchers, range))),
    );
    return parts.flat();
  }

  profileTypes(tenant: string, range: TimeRange): Promise<string[]> {
    return this.labelValues(tenant, LabelName.ProfileType, [], range);
  }

  async labelNames(tenant: string, matchers: readonly Matcher[], range: TimeRange): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of await this.matchingSeries(tenant, matchers, range))
      for (const l of labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(
    tenant: string,
    name: string,
    matchers: readonly Matcher[],
    range: TimeRange,
  ): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of await this.matchingSeries(tenant, matchers, range)) {
      for (const l of labels) if (l.name === name && l.value !== '') values.add(l.value);
    }
    return [...values].sort();
  }

  async series(
    tenant: string,
    matchers: readonly Matcher[],
    labelNames: readonly string[],
    range: TimeRange,
  ): Promise<Labels[]> {
    const keep = labelNames.length > 0 ? new Set(labelNames) : undefined;
    const unique = new Map<string, Labels>();
    for (const labels of await this.matchingSeries(tenant, matchers, range)) {
      const restricted = keep ? labels.filter((l) => keep.has(l.name)) : labels;
      if (restricted.length > 0) unique.set(labelsKey(restricted), restricted);
    }
    return [...unique.keys()].sort().map((key) => unique.get(key)!);
  }

  async mergeStacks(tenant: string, matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]> {
    const parts = await this.query(tenant, range, (qs) =>
      Promise.all(qs.map((q) => q.mergeStacks(matchers, range))),
    );
    return parts.flat();
  }

  async selectSeries(
    tenant: string,
    matchers: readonly Matcher[],
    range: TimeRange,
    opts: SelectSeriesOptions,
  ): Promise<SeriesPoints[]> {
    const bucketer = new SeriesBucketer(range, opts);
    await this.query(tenant, range, (qs) =>
      Promise.all(qs.map((q) => q.seriesTotals(matchers, range, bucketer))),
    );
    return bucketer.finish();
  }

  async mergeProfile(
    tenant: string,
    matchers: readonly Matcher[],
    range: TimeRange,
  ): Promise<Profile | null> {
    const parts = await this.query(tenant, range, (qs) =>
      Promise.all(qs.map((q) => q.mergeProfile(matchers, range))),
    );
    return buildMergedProfile(parts.flat(), range);
  }

  async profileStats(tenant: string): Promise<ProfileStats> {
    const sources = this.tenantQueryables(tenant);
    const [oldestProfileMs, newestProfileMs] = this.timeBounds(sources);
    return { dataIngested: sources.length > 0, oldestProfileMs, newestProfileMs };
  }

  /** Every block and head part of the tenant, whatever their time. */
  private tenantQueryables(tenant: string): Queryable[] {
    return this.queryables(tenant, { startMs: Number.NEGATIVE_INFINITY, endMs: Number.POSITIVE_INFINITY });
  }

  /** [oldest, newest] profile time over the given sources; [0, 0] when there is none. */
  private timeBounds(sources: readonly Queryable[]): [number, number] {
    if (sources.length === 0) return [0, 0];
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const q of sources) {
      min = Math.min(min, q.minTimeMs);
      max = Math.max(max, q.maxTimeMs);
    }
    return [min, max];
  }

  // --- introspection -------------------------------------------------------------------------

  stats(): StorageStats {
    const heads = [...this.frozen.map((f) => f.head), this.head];
    const blocks = this.allBlocks();
    const [oldestProfileMs, newestProfileMs] = this.timeBounds(
      this.tenants().flatMap((t) => this.tenantQueryables(t)),
    );
    return {
      headBytes: heads.reduce((n, h) => n + h.byteSize, 0),
      headProfiles: heads.reduce((n, h) => n + h.profileCount, 0),
      headSeries: heads.reduce((n, h) => n + h.seriesCount, 0),
      walBytes: this.wal.totalBytes,
      blocks: blocks.length,
      blockBytes: blocks.reduce((n, b) => n + b.sizeBytes, 0),
      compactions: this.compactions,
      retentionDeletedBlocks: this.retentionDeletedBlocks,
      retentionDeletedBytes: this.retentionDeletedBytes,
      oldestProfileMs,
      newestProfileMs,
    };
  }

  walBacklog(): WalBacklog {
    return this.wal.backlog;
  }

  async report(): Promise<StorageReport> {
    const tenants: TenantStorageReport[] = [];
    for (const tenant of this.tenants()) {
      const blocks = [...(this.blocks.get(tenant) ?? [])].sort(
        (a, b) => a.minTimeMs - b.minTimeMs || (a.id < b.id ? -1 : 1),
      );
      const heads = [...this.frozen.map((f) => f.head), this.head].flatMap(
        (h) => h.tenants.get(tenant) ?? [],
      );
      let walBytes = 0;
      for (const perTenant of this.walTenantBytes.values()) walBytes += perTenant.get(tenant) ?? 0;
      const blockBytes = blocks.reduce((n, b) => n + b.sizeBytes, 0);
      const [oldestProfileMs, newestProfileMs] = this.timeBounds([...blocks, ...heads]);
      tenants.push({
        tenant,
        blocks: blocks.map((b) => ({
          id: b.id,
          minTimeMs: b.minTimeMs,
          maxTimeMs: b.maxTimeMs,
          profiles: b.toc.profileCount,
          series: b.toc.seriesCount,
          bytes: b.sizeBytes,
          level: b.level,
        })),
        blockBytes,
        headProfiles: heads.reduce((n, h) => n + h.rowCount, 0),
        headBytes: heads.reduce((n, h) => n + h.byteSize, 0),
        walBytes,
        diskBytes: blockBytes + walBytes,
        oldestProfileMs,
        newestProfileMs,
      });
    }
    const stats = this.stats();
    return {
      tenants,
      totals: {
        blocks: stats.blocks,
        blockBytes: stats.blockBytes,
        headProfiles: stats.headProfiles,
        headBytes: stats.headBytes,
        walBytes: stats.walBytes,
        diskBytes: stats.blockBytes + stats.walBytes,
        oldestProfileMs: stats.oldestProfileMs,
        newestProfileMs: stats.newestProfileMs,
      },
      retentionMs: this.retentionMs,
      maxDiskBytes: this.maxDiskBytes,
      compactions: this.compactions,
      retentionDeletedBlocks: this.retentionDeletedBlocks,
      retentionDeletedBytes: this.retentionDeletedBytes,
    };
  }

  tenants(): string[] {
    const names = new Set(this.blocks.keys());
    for (const head of [...this.frozen.map((f) => f.head), this.head])
      for (const t of head.tenants.keys()) names.add(t);
    return [...names].sort();
  }
}

/** Rejects requests a replay could not reproduce, before anything is written. */
function validateRequest(req: AppendRequest): void {
  if (!req.tenant) throw new TypeError('append: tenant must not be empty');
  const types = numSampleTypes(req.profile);
  for (const plan of req.series) {
    if (!Number.isInteger(plan.sampleType) || plan.sampleType < 0 || plan.sampleType >= types) {
      throw new RangeError(`append: sample type ${plan.sampleType} out of range (profile has ${types})`);
    }
    if (plan.samples?.some((s) => s >= req.profile.sampleCount)) {
      throw new RangeError(`append: sample index out of range (profile has ${req.profile.sampleCount})`);
    }
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = create();
    map.set(key, v);
  }
  return v;
}
