import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LabelName, type Labels, labelsKey, type Matcher, type StackValues } from '@emberscope/model';
import { numSampleTypes } from '@emberscope/pprof';
import {
  BLOCKS_PREFIX,
  BlockReader,
  isBlockKey,
  type SectionCache,
  tenantDirName,
  writeBlock,
} from './block.js';
import { lockDataDir } from './dir-lock.js';
import type { AppendRequest, StorageEngine, StorageStats, TimeRange } from './engine.js';
import { StorageLimitError } from './errors.js';
import { Head } from './head.js';
import { LruCache } from './lru.js';
import { LocalFsObjectStore, type ObjectStore } from './object-store.js';
import { overlaps, type Queryable } from './queryable.js';
import { encodeRecord, WalWriter } from './wal.js';
import { replayWal } from './wal-replay.js';

export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EmbeddedStorageOptions {
  dataDir: string;
  /** Flush the head to blocks once its data spans, or it has been open, this long. Default 1 h. */
  blockDurationMs?: number;
  /** Flush earlier when the head's estimated size passes this. Default 256 MiB. */
  maxHeadBytes?: number;
  /** Most series a tenant may have in the head; 0 or absent = unlimited. */
  maxSeriesPerTenant?: number;
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
}

export type EmbeddedStorage = StorageEngine & {
  /** Tenants with data in the head or in blocks, sorted. */
  tenants(): string[];
};

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
    return new EmbeddedEngine(opts, logger, store, cache, blocks, head, wal, unlock);
  } catch (err) {
    await unlock();
    throw err;
  }
}

async function loadBlocks(
  store: ObjectStore,
  cache: SectionCache,
  logger: StorageLogger,
): Promise<Map<string, BlockReader[]>> {
  const blocks = new Map<string, BlockReader[]>();
  for (const info of await store.list(BLOCKS_PREFIX)) {
    if (!isBlockKey(info.key)) continue;
    try {
      const block = await BlockReader.open(store, info, cache);
      // A block filed under another tenant's directory must never answer that tenant's queries.
      if (info.key.split('/')[1] !== tenantDirName(block.toc.tenant)) {
        throw new Error(`block of tenant ${JSON.stringify(block.toc.tenant)} is filed under ${info.key}`);
      }
      getOrCreate(blocks, block.toc.tenant, () => []).push(block);
    } catch (err) {
      logger.error({ key: info.key, err }, 'skipping unreadable block');
    }
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
  /** Serializes flushes: each waits for the previous one. */
  private flushChain: Promise<void> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly blockDurationMs: number;
  private readonly maxHeadBytes: number;
  private readonly maxStackDepth: number;

  constructor(
    private readonly opts: EmbeddedStorageOptions,
    private readonly logger: StorageLogger,
    private readonly store: ObjectStore,
    private readonly cache: SectionCache,
    private readonly blocks: Map<string, BlockReader[]>,
    private head: Head,
    private readonly wal: WalWriter,
    private readonly unlock: () => Promise<void>,
  ) {
    this.blockDurationMs = opts.blockDurationMs ?? 60 * 60 * 1000;
    this.maxHeadBytes = opts.maxHeadBytes ?? 256 * 1024 * 1024;
    this.maxStackDepth = opts.maxStackDepth ?? 1024;
    const checkEveryMs = Math.min(60_000, Math.max(100, this.blockDurationMs / 10));
    this.timer = setInterval(() => {
      if (this.headIsDue()) this.flushInBackground();
    }, checkEveryMs);
    this.timer.unref();
  }

  async append(requests: AppendRequest[]): Promise<void> {
    if (this.closed) throw new Error('storage is closed');
    if (requests.length === 0) return;
    for (const req of requests) validateRequest(req);
    this.checkSeriesLimit(requests);
    const records = requests.map(encodeRecord);
    // Inserting and queueing the WAL records in the same tick keeps every record in the segment of
    // the head that holds it, which is what lets a flush delete exactly the segments it covered.
    for (const req of requests) this.head.insert(req);
    const durable = this.wal.append(records);
    if (this.head.byteSize >= this.maxHeadBytes) this.flushInBackground();
    await durable;
  }

  /** Throws before anything is written if the call would give a tenant too many head series. */
  private checkSeriesLimit(requests: AppendRequest[]): void {
    const limit = this.opts.maxSeriesPerTenant;
    if (!limit) return;
    const added = new Map<string, Set<string>>();
    for (const req of requests) {
      const index = this.head.tenants.get(req.tenant)?.index;
      for (const { labels } of req.series) {
        if (index?.get(labels) === undefined)
          getOrCreate(added, req.tenant, () => new Set()).add(labelsKey(labels));
      }
    }
    for (const [tenant, keys] of added) {
      const total = (this.head.tenants.get(tenant)?.index.size ?? 0) + keys.size;
      if (total > limit) {
        throw new StorageLimitError(
          'series_limit',
          `tenant ${JSON.stringify(tenant)} would have ${total} active series, over the limit of ${limit}`,
        );
      }
    }
  }

  private headIsDue(): boolean {
    const { head } = this;
    if (head.isEmpty) return false;
    const age = Date.now() - (head.firstInsertAtMs ?? Date.now());
    return (
      age >= this.blockDurationMs ||
      head.timeSpanMs >= this.blockDurationMs ||
      head.byteSize >= this.maxHeadBytes
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
      await sealed;
    }
    while (this.frozen.length > 0) {
      const { head, walSegment } = this.frozen[0];
      for (const [tenant, tenantHead] of head.tenants) {
        const started = Date.now();
        const info = await writeBlock(this.store, tenantHead, walSegment);
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
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
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
    const parts = await Promise.all(
      this.queryables(tenant, range).map((q) => q.matchingSeries(matchers, range)),
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
    const parts = await Promise.all(
      this.queryables(tenant, range).map((q) => q.mergeStacks(matchers, range)),
    );
    return parts.flat();
  }

  // --- introspection -------------------------------------------------------------------------

  stats(): StorageStats {
    const heads = [...this.frozen.map((f) => f.head), this.head];
    const blocks = [...this.blocks.values()].flat();
    return {
      headBytes: heads.reduce((n, h) => n + h.byteSize, 0),
      headProfiles: heads.reduce((n, h) => n + h.profileCount, 0),
      headSeries: heads.reduce((n, h) => n + h.seriesCount, 0),
      walBytes: this.wal.totalBytes,
      blocks: blocks.length,
      blockBytes: blocks.reduce((n, b) => n + b.sizeBytes, 0),
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
