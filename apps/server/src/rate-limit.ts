import { ApiError } from '@emberscope/api';

/** Per-tenant token bucket over request bytes; a rate of 0 disables it. */
export class IngestionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();
  private readonly bytesPerMs: number;
  private readonly burstBytes: number;

  constructor(rateMB: number, burstMB: number) {
    this.bytesPerMs = (rateMB * 1e6) / 1000;
    this.burstBytes = Math.max(burstMB, rateMB) * 1e6;
  }

  take(tenant: string, bytes: number, nowMs = Date.now()): void {
    if (this.bytesPerMs === 0) return;
    if (bytes > this.burstBytes)
      throw new ApiError(
        'resource_exhausted',
        `a request of ${bytes} bytes can never fit tenant ${tenant}'s ingestion burst of ${this.burstBytes / 1e6} MB; raise --ingestion-burst-mb`,
        'rate_limited',
      );
    let bucket = this.buckets.get(tenant);
    if (!bucket) {
      bucket = { tokens: this.burstBytes, updatedMs: nowMs };
      this.buckets.set(tenant, bucket);
    }
    bucket.tokens = Math.min(this.burstBytes, bucket.tokens + (nowMs - bucket.updatedMs) * this.bytesPerMs);
    bucket.updatedMs = nowMs;
    if (bucket.tokens < bytes) {
      const retryAfterS = Math.ceil((bytes - bucket.tokens) / this.bytesPerMs / 1000);
      throw Object.assign(
        new ApiError(
          'resource_exhausted',
          `tenant ${tenant} is over its ingestion rate limit of ${this.bytesPerMs / 1000} MB/s (burst ${this.burstBytes / 1e6} MB); retry in ${retryAfterS}s`,
          'rate_limited',
        ),
        { retryAfterS },
      );
    }
    bucket.tokens -= bytes;
  }
}
