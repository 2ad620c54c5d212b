import type { ApiError } from '@emberscope/api';
import { type DecodeContext, DeltaState, type IngestContext, type IngestedProfile } from '@emberscope/ingest';
import type { StorageEngine } from '@emberscope/storage';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RouteAccess } from './auth/index.js';
import { KeyStore, keyFilePath } from './auth/keys.js';
import { ComputePool } from './compute/pool.js';
import type { ServerConfig } from './config.js';
import type { ConnectOptions } from './connect.js';
import { LoadShedding } from './load-shedding.js';
import type { Metrics } from './metrics.js';
import { QueryService } from './query.js';
import { QueryGate } from './query-gate.js';
import { IngestionRateLimiter } from './rate-limit.js';
import { type TenantLimits, tenantLimitsResolver } from './tenant-limits.js';

/** Uploads queued on one decoder thread at a time (see ComputePool's perWorker): decoding one takes ~1 ms. */
const DECODES_PER_WORKER = 8;

/** What route handlers share: configuration, storage, metrics and per-request helpers. */
export class ServerContext {
  state: 'starting' | 'ready' | 'stopping' = 'starting';
  /** A tenant's ingestion, series and query limits (tenant_limits overrides, else the options). */
  readonly limitsFor: (tenant: string) => TenantLimits;
  readonly rateLimiter: IngestionRateLimiter;
  readonly connectOptions: ConnectOptions;
  readonly queries: QueryGate;
  readonly compute: ComputePool;
  /** Decodes uploads off the event loop; the event loop keeps HTTP, the head and the WAL. */
  readonly decoders: ComputePool;
  readonly query: QueryService;
  /** Refuses work the server cannot take now: body budget, WAL backlog, low disk (load-shedding.ts). */
  readonly shedding: LoadShedding;
  readonly keys: KeyStore;
  /** Every registered route with its access level (filled by registerAuth as routes are added). */
  readonly routes: RouteAccess[] = [];
  /** Baselines of cumulative Push series (server-side deltas); state, so it stays on the main thread. */
  readonly deltas = new DeltaState();

  constructor(
    readonly config: ServerConfig,
    readonly storage: StorageEngine,
    readonly metrics: Metrics,
    readonly log: Logger,
  ) {
    this.limitsFor = tenantLimitsResolver(config);
    this.rateLimiter = new IngestionRateLimiter((tenant) => {
      const l = this.limitsFor(tenant);
      return { rateMB: l.ingestion_rate_mb, burstMB: l.ingestion_burst_mb };
    });
    this.queries = new QueryGate({
      maxRangeMs: config.max_query_range,
      maxConcurrent: (tenant) => this.limitsFor(tenant).max_query_concurrency,
      timeoutMs: config.query_timeout,
    });
    this.compute = new ComputePool(config.query_workers, config.query_timeout);
    this.decoders = new ComputePool(
      config.ingest_workers,
      config.http_request_timeout || 5 * 60_000,
      'decoding the upload',
      DECODES_PER_WORKER,
    );
    this.query = new QueryService(this);
    this.shedding = new LoadShedding(config, storage, metrics.registry, log.child({ component: 'shedding' }));
    this.keys = new KeyStore(keyFilePath(config.data_dir));
    this.connectOptions = {
      maxDecompressedBytes: config.max_request_body,
      onError: (route, err) => this.recordError(route, err),
    };
  }

  /** The tenant the request acts on, fixed by the auth hook before the handler runs. */
  tenantOf(request: FastifyRequest): string {
    const tenant = request.principal?.tenant;
    if (!tenant) throw new Error(`no tenant resolved for ${request.method} ${request.routeOptions.url}`);
    return tenant;
  }

  ingestContext(tenant: string): IngestContext {
    return { ...this.decodeContext(tenant), deltas: this.deltas };
  }

  /** `ingestContext` without the delta state: plain data that can be sent to a decoder thread. */
  decodeContext(tenant: string): DecodeContext {
    const c = this.config;
    return {
      tenant,
      nowMs: Date.now(),
      limits: {
        maxProfileBytes: c.max_profile_size,
        maxSamplesPerProfile: c.max_samples_per_profile,
        maxLabelsPerSeries: c.max_labels_per_series,
        maxLabelNameLength: c.max_label_name_length,
        maxLabelValueLength: c.max_label_value_length,
      },
    };
  }

  countIngested(tenant: string, route: string, bytes: number, profiles: readonly IngestedProfile[]): void {
    const m = this.metrics;
    m.ingestedBytes.inc({ tenant, route }, bytes);
    m.ingestedProfiles.inc({ tenant, route }, profiles.length);
    let samples = 0;
    for (const p of profiles) samples += p.profile.sampleCount;
    m.ingestedSamples.inc({ tenant, route }, samples);
  }

  private recordError(route: string, err: ApiError): void {
    this.metrics.errors.inc({ route, status: String(err.status), reason: err.reason });
    // A 5xx with Retry-After is a deliberate, counted refusal (load shedding, low disk): logging each
    // one at error, with its stack, would add cost exactly when the server is overloaded.
    const refusal = err.status < 500 || (err as { retryAfterS?: number }).retryAfterS !== undefined;
    if (!refusal) this.log.error({ err: err.cause ?? err, route }, 'request failed');
    else
      this.log.debug(
        { route, status: err.status, reason: err.reason, error: err.message },
        'request refused',
      );
  }
}
