import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { IngestionRateLimiter } from '../src/rate-limit.js';
import { tenantLimitsResolver } from '../src/tenant-limits.js';

test('a token bucket per tenant: burst, refill, Retry-After, isolation', () => {
  const limiter = new IngestionRateLimiter(() => ({ rateMB: 1, burstMB: 2 }));
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
  const limiter = new IngestionRateLimiter(() => ({ rateMB: 0, burstMB: 0 }));
  expect(() => limiter.take('a', 1e12, 0)).not.toThrow();
});

function configFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'emberscope-limits-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

test('tenant_limits in the config file override the server-wide limits per tenant', () => {
  const file = configFile(
    'ingestion_rate_mb: 4\nmax_query_concurrency: 8\ntenant_limits:\n  small:\n    ingestion_rate_mb: 1\n    ingestion_burst_mb: 1\n    max_series_per_tenant: 100\n  big:\n    max_query_concurrency: 32\n',
  );
  const limitsFor = tenantLimitsResolver(loadConfig(['--config', file], {}));
  expect(limitsFor('small')).toMatchObject({
    ingestion_rate_mb: 1,
    ingestion_burst_mb: 1,
    max_series_per_tenant: 100,
  });
  expect(limitsFor('small').max_query_concurrency).toBe(8);
  expect(limitsFor('big')).toMatchObject({ ingestion_rate_mb: 4, max_query_concurrency: 32 });
  expect(limitsFor('other')).toMatchObject({ ingestion_rate_mb: 4, max_query_concurrency: 8 });
  expect(limitsFor('constructor')).toMatchObject({ ingestion_rate_mb: 4 }); // no prototype lookups

  const limiter = new IngestionRateLimiter((t) => ({
    rateMB: limitsFor(t).ingestion_rate_mb,
    burstMB: limitsFor(t).ingestion_burst_mb,
  }));
  expect(() => limiter.take('small', 1_500_000, 0)).toThrow(
    /can never fit tenant small's ingestion burst of 1 MB/,
  );
  expect(() => limiter.take('other', 1_500_000, 0)).not.toThrow();
});

test('tenant_limits entries are validated with the offending key named', () => {
  expect(() => loadConfig(['--config', configFile('tenant_limits:\n  a:\n    max_series: 3\n')], {})).toThrow(
    /tenant_limits.a: unknown key "max_series"/,
  );
  expect(() =>
    loadConfig(['--config', configFile('tenant_limits:\n  a:\n    ingestion_rate_mb: -1\n')], {}),
  ).toThrow(/tenant_limits.a.ingestion_rate_mb must be a non-negative integer/);
  expect(() => loadConfig(['--config', configFile('tenant_limits: [1]\n')], {})).toThrow(/must be a mapping/);
});
