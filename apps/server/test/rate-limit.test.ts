import { expect, test } from 'vitest';
import { IngestionRateLimiter } from '../src/rate-limit.js';

test('a token bucket per tenant: burst, refill, Retry-After, isolation', () => {
  const limiter = new IngestionRateLimiter(1, 2); // 1 MB/s, 2 MB burst
  limiter.take('a', 1_500_000, 0);
  expect(() => limiter.take('a', 1_000_000, 0)).toThrow(
    expect.objectContaining({ status: 429, retryAfterS: 1 }),
  );
  limiter.take('b', 2_000_000, 0); // other tenants have their own bucket
  limiter.take('a', 1_000_000, 500); // 0.5 MB left + 0.5 s × 1 MB/s
  expect(() => limiter.take('a', 1, 500)).toThrow(/over its ingestion rate limit of 1 MB\/s/);
  limiter.take('a', 2_000_000, 10_000); // refilled, but never above the burst
  expect(() => limiter.take('a', 1, 10_000)).toThrow();
});

test('a rate of 0 disables the limit', () => {
  const limiter = new IngestionRateLimiter(0, 0);
  expect(() => limiter.take('a', 1e12, 0)).not.toThrow();
});
