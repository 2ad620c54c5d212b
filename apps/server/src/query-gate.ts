import { ApiError } from '@emberscope/api';
import type { TimeRange } from '@emberscope/storage';

export interface QueryLimits {
  /** Longest range a query may cover, ms; 0 = unlimited. */
  maxRangeMs: number;
  /** Queries a tenant may run at once. */
  maxConcurrent: (tenant: string) => number;
  timeoutMs: number;
}

/**
 * Admission control for queries: a per-tenant concurrency limit (429 beyond it), a range limit and a
 * timeout (504). Heavy computation additionally runs in the compute pool, whose workers are terminated
 * at the same timeout, so a runaway query cannot hold the server.
 */
export class QueryGate {
  private readonly running = new Map<string, number>();

  constructor(private readonly limits: QueryLimits) {}

  checkRange(range: TimeRange): void {
    const { maxRangeMs } = this.limits;
    if (maxRangeMs > 0 && range.endMs - range.startMs > maxRangeMs)
      throw new ApiError(
        'invalid_argument',
        `the query range of ${formatDuration(range.endMs - range.startMs)} exceeds the limit of ${formatDuration(maxRangeMs)} (--max-query-range)`,
        'range_limit',
      );
  }

  async run<T>(tenant: string, query: () => Promise<T>): Promise<T> {
    const running = this.running.get(tenant) ?? 0;
    const limit = this.limits.maxConcurrent(tenant);
    if (running >= limit)
      throw Object.assign(
        new ApiError(
          'resource_exhausted',
          `tenant ${tenant} already has ${running} queries running (limit ${limit}, --max-query-concurrency or tenant_limits); retry shortly`,
          'query_concurrency',
        ),
        { retryAfterS: 1 },
      );
    this.running.set(tenant, running + 1);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ApiError(
                'deadline_exceeded',
                `query took longer than ${this.limits.timeoutMs} ms (--query-timeout)`,
                'query_timeout',
              ),
            ),
          this.limits.timeoutMs,
        );
      });
      return await Promise.race([query(), timeout]);
    } finally {
      clearTimeout(timer);
      const left = (this.running.get(tenant) ?? 1) - 1;
      if (left === 0) this.running.delete(tenant);
      else this.running.set(tenant, left);
    }
  }
}

function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) if (ms >= size) return `${+(ms / size).toFixed(1)}${unit}`;
  return `${ms}ms`;
}
