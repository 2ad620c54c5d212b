import { statfs } from 'node:fs/promises';
import { ApiError } from '@emberscope/api';
import type { Logger } from 'pino';
import { formatBytes } from './format-bytes.js';

export interface DiskGuardOptions {
  /** How long one statfs answer is reused. Default 1 s: a check per write would cost a syscall each. */
  ttlMs?: number;
  now?: () => number;
  statfs?: (dir: string) => Promise<{ bavail: number; bsize: number }>;
}

/** Seconds a refused writer is told to wait: freeing disk space takes an operator or a retention run. */
const RETRY_AFTER_S = 60;

/** The 507 a write gets when the disk is (nearly) full: `what` says why. */
export function lowDiskError(what: string): ApiError {
  return Object.assign(
    new ApiError(
      'resource_exhausted',
      `${what}; writes are refused until space is freed, reads keep working`,
      'low_disk',
      507,
    ),
    { retryAfterS: RETRY_AFTER_S },
  );
}

/**
 * Low-disk protection: writes are refused (507) while the filesystem holding the data directory has less
 * than `minFreeBytes` available, so a full disk stops ingest cleanly instead of failing WAL writes, block
 * flushes and compactions half-way. Reads are never refused.
 */
export class DiskGuard {
  private free: number | undefined;
  private checkedAtMs = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private lastErrorCode: string | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly statfs: (dir: string) => Promise<{ bavail: number; bsize: number }>;

  constructor(
    private readonly dir: string,
    readonly minFreeBytes: number,
    private readonly log: Pick<Logger, 'warn'>,
    opts: DiskGuardOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.statfs = opts.statfs ?? statfs;
  }

  /** Bytes available to the server on the data directory's filesystem; undefined if statfs fails. */
  async freeBytes(): Promise<number | undefined> {
    if (this.now() - this.checkedAtMs >= this.ttlMs) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    return this.free;
  }

  /** Throws a 507 ApiError when free space is below the minimum. */
  async check(): Promise<void> {
    if (this.minFreeBytes <= 0) return;
    const free = await this.freeBytes();
    if (free === undefined || free >= this.minFreeBytes) return;
    throw lowDiskError(
      `low disk space: ${formatBytes(free)} free on the data directory's filesystem, below min_free_disk_bytes (${formatBytes(this.minFreeBytes)})`,
    );
  }

  private async refresh(): Promise<void> {
    try {
      const s = await this.statfs(this.dir);
      this.free = s.bavail * s.bsize;
      this.lastErrorCode = undefined;
    } catch (err) {
      // Unknown free space never blocks writes (storage reports real write errors itself); warn once per cause.
      this.free = undefined;
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== this.lastErrorCode)
        this.log.warn({ err, dir: this.dir }, 'cannot read free disk space; the low-disk check is skipped');
      this.lastErrorCode = code;
    }
    this.checkedAtMs = this.now();
  }
}
