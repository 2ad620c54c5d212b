import type { StorageEngine } from '@emberscope/storage';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** The server's Prometheus metrics, one registry per server instance (tests run several in one process). */
export function createMetrics(storage: Pick<StorageEngine, 'stats'>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'emberscope_' });
  const ingestedBytes = new Counter({
    name: 'emberscope_ingested_bytes_total',
    help: 'Request body bytes of accepted profiles, before decompression.',
    labelNames: ['tenant', 'route'] as const,
    registers: [registry],
  });
  const ingestedProfiles = new Counter({
    name: 'emberscope_ingested_profiles_total',
    help: 'Profiles accepted (one per uploaded pprof or text body).',
    labelNames: ['tenant', 'route'] as const,
    registers: [registry],
  });
  const ingestedSamples = new Counter({
    name: 'emberscope_ingested_samples_total',
    help: 'Samples of accepted profiles, before duplicate stacks are summed.',
    labelNames: ['tenant', 'route'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'emberscope_request_errors_total',
    help: 'Requests answered with an error, by route and reason.',
    labelNames: ['route', 'status', 'reason'] as const,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'emberscope_auth_failures_total',
    help: 'Requests refused by authentication (401) or authorization (403), by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    'emberscope_head_bytes',
    'Estimated memory held by the in-memory head.',
    () => storage.stats().headBytes,
  );
  gauge('emberscope_head_profiles', 'Profiles held in the head.', () => storage.stats().headProfiles);
  gauge('emberscope_head_series', 'Series held in the head.', () => storage.stats().headSeries);
  gauge('emberscope_wal_bytes', 'Size of the write-ahead log on disk.', () => storage.stats().walBytes);
  gauge('emberscope_blocks', 'Immutable blocks on disk.', () => storage.stats().blocks);
  gauge('emberscope_block_bytes', 'Size of the blocks on disk.', () => storage.stats().blockBytes);
  gauge(
    'emberscope_compactions',
    'Block compactions completed since start.',
    () => storage.stats().compactions,
  );
  gauge(
    'emberscope_retention_deleted_blocks',
    'Blocks deleted by retention (age or disk budget) since start.',
    () => storage.stats().retentionDeletedBlocks,
  );
  gauge(
    'emberscope_retention_deleted_bytes',
    'Bytes deleted by retention (age or disk budget) since start.',
    () => storage.stats().retentionDeletedBytes,
  );
  gauge(
    'emberscope_oldest_profile_timestamp_seconds',
    'Time of the oldest stored profile (0 without data).',
    () => storage.stats().oldestProfileMs / 1000,
  );
  gauge(
    'emberscope_newest_profile_timestamp_seconds',
    'Time of the newest stored profile (0 without data).',
    () => storage.stats().newestProfileMs / 1000,
  );
  return { registry, ingestedBytes, ingestedProfiles, ingestedSamples, errors, authFailures };
}

export type Metrics = ReturnType<typeof createMetrics>;
