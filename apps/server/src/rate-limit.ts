import { ApiError } from '@emberscope/api';

/** A tenant's ingestion rate and burst, MB/s and MB; a rate of 0 disables the limit. */
export interface RateLimit {
  rateMB: number;
  burstMB: number;
}

/** Per-tenant token bucket over request bytes. */
export class IngestionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(private readonly limitOf: (tenant: string) => RateLimit) {}

  take(tenant: string, bytes: number, nowMs = Date.now()): void {
    const { rateMB, burstMB } = this.limitOf(tenant);
    if (rateMB === 0) return;
    const bytesPerMs = (rateMB * 1e6) / 1000;
    const burstBytes = Math.max(burstMB, rateMB) * 1e6;
    if (bytes > burstBytes)
      throw new ApiError(
        'resource_exhausted',
        `a request of ${bytes} bytes can never fit tenant ${tenant}'s ingestion burst of ${burstBytes / 1e6} MB; raise --ingestion-burst-mb`,
        'rate_limited',
      );
    let bucket = this.buckets.get(tenant);
    if (!bucket) {
      bucket = { tokens: burstBytes, updatedMs: nowMs };
      this.buckets.set(tenant, bucket);
    }
    bucket.tokens = Math.min(burstBytes, bucket.tokens + (nowMs - bucket.updatedMs) * bytesPerMs);
    bucket.updatedMs = nowMs;
    if (bucket.tokens < bytes) {
      const retryAfterS = Math.ceil((bytes - bucket.tokens) / bytesPerMs / 1000);
      throw Object.assign(
        new ApiError(
          'resource_exhausted',
          `tenant ${tenant} is over its ingestion rate limit of ${bytesPerMs / 1000} MB/s (burst ${burstBytes / 1e6} MB); retry in ${retryAfterS}s`,
          'rate_limited',
        ),
        { retryAfterS },
      );
    }
    bucket.tokens -= bytes;
  }
}
