import { ApiError } from '@emberscope/api';
import type { StorageEngine } from '@emberscope/storage';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { BodyBudget } from './body-budget.js';
import { ConfigError, type ServerConfig } from './config.js';
import { DiskGuard } from './disk-guard.js';
import { formatBytes } from './format-bytes.js';

type SheddingConfig = Pick<
  ServerConfig,
  | 'data_dir'
  | 'max_request_body'
  | 'max_inflight_body_bytes'
  | 'max_wal_pending_bytes'
  | 'max_wal_pending_appends'
  | 'min_free_disk_bytes'
>;

/** Seconds a writer refused for a WAL backlog is told to wait: a slow fsync, not an outage. */
const WAL_RETRY_AFTER_S = 1;
/** Seconds a writer refused for a full head is told to wait: about what writing a block takes. */
const HEAD_RETRY_AFTER_S = 5;

/** Throws a ConfigError for limits that contradict each other. */
export function checkLoadSheddingConfig(
  config: Pick<ServerConfig, 'max_request_body' | 'max_inflight_body_bytes'>,
): void {
  // A body the budget could never hold would be refused forever with a "retry" status.
  if (config.max_inflight_body_bytes > 0 && config.max_inflight_body_bytes < config.max_request_body)
    throw new ConfigError(
      `--max-inflight-body-bytes (${formatBytes(config.max_inflight_body_bytes)}) must be at least --max-request-body (${formatBytes(config.max_request_body)}), or 0 for no limit`,
    );
}

/**
 * Refusing work the server cannot take right now, with a status and Retry-After a client can act on,
 * instead of queueing it without bound: request bodies beyond the in-flight budget (503), writes while
 * the WAL cannot keep up (503) and writes while the disk is nearly full (507). Every refusal is counted
 * by reason in `emberscope_shed_requests_total`.
 */
export class LoadShedding {
  readonly bodyBudget: BodyBudget;
  readonly disk: DiskGuard;
  private readonly shed: Counter<'reason'>;

  constructor(
    private readonly config: SheddingConfig,
    private readonly storage: Pick<StorageEngine, 'walBacklog' | 'headFull'>,
    registry: Registry,
    log: Pick<Logger, 'warn'>,
  ) {
    checkLoadSheddingConfig(config);
    this.bodyBudget = new BodyBudget(config.max_inflight_body_bytes);
    this.disk = new DiskGuard(config.data_dir, config.min_free_disk_bytes, log);
    this.shed = new Counter({
      name: 'emberscope_shed_requests_total',
      help: 'Requests refused to protect the server, by reason: body_budget (503), head_full (503), wal_backlog (503), low_disk (507).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    const budget = this.bodyBudget;
    new Gauge({
      name: 'emberscope_inflight_body_bytes',
      help: 'Request body bytes held in memory by requests in flight (bounded by max_inflight_body_bytes).',
      registers: [registry],
      collect() {
        this.set(budget.inUse);
      },
    });
    const disk = this.disk;
    new Gauge({
      name: 'emberscope_disk_free_bytes',
      help: "Bytes available on the data directory's filesystem (writes are refused below min_free_disk_bytes).",
      registers: [registry],
      async collect() {
        const free = await disk.freeBytes();
        if (free !== undefined) this.set(free);
      },
    });
    new Gauge({
      name: 'emberscope_wal_pending_bytes',
      help: 'Bytes of writes waiting for the write-ahead log write and fsync.',
      registers: [registry],
      collect() {
        this.set(storage.walBacklog().bytes);
      },
    });
    new Gauge({
      name: 'emberscope_wal_pending_appends',
      help: 'Writes waiting for the write-ahead log write and fsync.',
      registers: [registry],
      collect() {
        this.set(storage.walBacklog().appends);
      },
    });
  }

  /** Counts a refusal made elsewhere (the body budget hook). */
  refused(reason: string): void {
    this.shed.inc({ reason });
  }

  /**
   * Throws the ApiError a write must be answered with when the server cannot take it: 507 when the disk
   * is nearly full, 503 with Retry-After when the WAL is behind. Call before decoding and appending.
   */
  async admitWrite(): Promise<void> {
    try {
      await this.disk.check();
    } catch (err) {
      this.refused('low_disk');
      throw err;
    }
    if (this.storage.headFull()) {
      this.refused('head_full');
      throw Object.assign(
        new ApiError(
          'unavailable',
          `the in-memory head is full (max_head_size) while the previous one is still being written to disk; retry in ${HEAD_RETRY_AFTER_S}s`,
          'head_full',
          503,
        ),
        { retryAfterS: HEAD_RETRY_AFTER_S },
      );
    }
    const { appends, bytes } = this.storage.walBacklog();
    const c = this.config;
    const overAppends = c.max_wal_pending_appends > 0 && appends >= c.max_wal_pending_appends;
    const overBytes = c.max_wal_pending_bytes > 0 && bytes >= c.max_wal_pending_bytes;
    if (!overAppends && !overBytes) return;
    this.refused('wal_backlog');
    const limit = overAppends
      ? `max_wal_pending_appends (${c.max_wal_pending_appends})`
      : `max_wal_pending_bytes (${formatBytes(c.max_wal_pending_bytes)})`;
    throw Object.assign(
      new ApiError(
        'unavailable',
        `the disk is behind: ${appends} writes (${formatBytes(bytes)}) are waiting for the write-ahead log, at ${limit}; retry in ${WAL_RETRY_AFTER_S}s`,
        'wal_backlog',
        503,
      ),
      { retryAfterS: WAL_RETRY_AFTER_S },
    );
  }
}
