import { describe, expect, it } from 'vitest';
import {
  countHealth,
  displayLabels,
  filterTargets,
  formatDurationMs,
  formatRelative,
  groupByJob,
  parseTargets,
  SCRAPE_CONFIG_EXAMPLE,
  summaryLine,
  type TargetHealth,
} from '../src/targets.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function target(job: string, instance: string, health: TargetHealth['health'], extra = {}): TargetHealth {
  return {
    job,
    tenant: 'anonymous',
    url: `http://${instance}`,
    instance,
    labels: { job, instance, service_name: job },
    discoveredLabels: { __address__: instance },
    health,
    lastError: health === 'down' ? 'goroutine: connection refused (127.0.0.1:1)' : '',
    lastScrape: health === 'unknown' ? null : ago(3000),
    profiles: [],
    ...extra,
  };
}

describe('relative times', () => {
  it('formats past times in s, min, h and d', () => {
    expect(formatRelative(ago(0), NOW)).toBe('just now');
    expect(formatRelative(ago(999), NOW)).toBe('just now');
    expect(formatRelative(ago(12_400), NOW)).toBe('12 s ago');
    expect(formatRelative(ago(59_999), NOW)).toBe('59 s ago');
    expect(formatRelative(ago(60_000), NOW)).toBe('1 min ago');
    expect(formatRelative(ago(5 * 60_000 + 30_000), NOW)).toBe('5 min ago');
    expect(formatRelative(ago(3 * 3600e3), NOW)).toBe('3 h ago');
    expect(formatRelative(ago(47 * 3600e3), NOW)).toBe('47 h ago');
    expect(formatRelative(ago(3 * 86400e3), NOW)).toBe('3 d ago');
  });

  it('formats future times (next scrape) and missing ones', () => {
    expect(formatRelative(NOW + 3200, NOW)).toBe('in 3 s');
    expect(formatRelative(NOW + 400, NOW)).toBe('now');
    expect(formatRelative(NOW + 120_000, NOW)).toBe('in 2 min');
    expect(formatRelative(null, NOW)).toBe('never');
    expect(formatRelative(undefined, NOW)).toBe('never');
    expect(formatRelative('not a date', NOW)).toBe('—');
  });
});

describe('durations', () => {
  it('formats scrape durations', () => {
    expect(formatDurationMs(0)).toBe('0 ms');
    expect(formatDurationMs(12.4)).toBe('12 ms');
    expect(formatDurationMs(850)).toBe('850 ms');
    expect(formatDurationMs(1000)).toBe('1 s');
    expect(formatDurationMs(1250)).toBe('1.25 s');
    expect(formatDurationMs(1500)).toBe('1.5 s');
    expect(formatDurationMs(10_000)).toBe('10 s');
    expect(formatDurationMs(12_440)).toBe('12.4 s');
    expect(formatDurationMs(70_000)).toBe('1 min 10 s');
    expect(formatDurationMs(120_000)).toBe('2 min');
    expect(formatDurationMs(null)).toBe('—');
    expect(formatDurationMs(undefined)).toBe('—');
  });
});

describe('grouping and sorting', () => {
  it('groups by job (by name) and sorts targets naturally by instance', () => {
    const groups = groupByJob([
      target('web', 'host:10', 'up'),
      target('api', 'b:6060', 'down'),
      target('web', 'host:9', 'unknown'),
      target('api', 'a:6060', 'up'),
      target('web', 'host:100', 'down'),
    ]);
    expect(groups.map((g) => g.job)).toEqual(['api', 'web']);
    expect(groups[0].targets.map((t) => t.instance)).toEqual(['a:6060', 'b:6060']);
    expect(groups[1].targets.map((t) => t.instance)).toEqual(['host:9', 'host:10', 'host:100']);
    expect(groups[1].counts).toEqual({ up: 1, down: 1, unknown: 1 });
    expect(groups[0].tenants).toEqual(['anonymous']);
  });

  it('orders the same instance by labels, and keeps the order whatever the health', () => {
    const a = target('j', 'h:1', 'up', { labels: { job: 'j', instance: 'h:1', zone: 'b' } });
    const b = target('j', 'h:1', 'down', { labels: { job: 'j', instance: 'h:1', zone: 'a' } });
    expect(groupByJob([a, b])[0].targets).toEqual([b, a]);
    const flipped = { ...b, health: 'up' as const };
    expect(groupByJob([a, flipped])[0].targets).toEqual([flipped, a]);
  });

  it('filters, counts and summarises', () => {
    const all = [target('a', 'x:1', 'up'), target('a', 'x:2', 'down'), target('b', 'y:1', 'unknown')];
    expect(filterTargets(all, 'unhealthy').map((t) => t.instance)).toEqual(['x:2', 'y:1']);
    expect(filterTargets(all, 'down').map((t) => t.instance)).toEqual(['x:2']);
    expect(filterTargets(all, 'all')).toHaveLength(3);
    expect(countHealth(all)).toEqual({ up: 1, down: 1, unknown: 1 });
    expect(summaryLine(all)).toBe('3 targets in 2 jobs · 1 up · 1 down · 1 unknown');
    expect(summaryLine([all[0]])).toBe('1 target in 1 job · 1 up');
    expect(groupByJob([])).toEqual([]);
  });

  it('shows labels besides job and instance, by name', () => {
    expect(
      displayLabels({
        labels: { zone: 'eu', job: 'j', instance: 'h:1', service_name: 'checkout', env: 'prod' },
      }),
    ).toEqual([
      ['env', 'prod'],
      ['service_name', 'checkout'],
      ['zone', 'eu'],
    ]);
  });
});

describe('the targets API answer', () => {
  it('reads the server JSON', () => {
    const body = {
      status: 'success',
      data: {
        activeTargets: [
          {
            job: 'checkout',
            tenant: 'anonymous',
            url: 'http://127.0.0.1:1',
            instance: '127.0.0.1:1',
            labels: { job: 'checkout', instance: '127.0.0.1:1', service_name: 'checkout' },
            discoveredLabels: { __address__: '127.0.0.1:1' },
            health: 'down',
            lastError: 'goroutine: connection refused (127.0.0.1:1)',
            lastScrape: ago(2000),
            profiles: [
              {
                name: 'goroutine',
                metric: 'goroutine',
                url: 'http://127.0.0.1:1/debug/pprof/goroutine',
                health: 'down',
                lastScrape: ago(2000),
                lastScrapeDurationMs: 3,
                lastError: 'connection refused (127.0.0.1:1)',
                nextScrape: ago(-1000),
                scrapes: 4,
                failures: 4,
                skippedTicks: 0,
              },
            ],
          },
        ],
      },
    };
    const [t] = parseTargets(body);
    expect(t.health).toBe('down');
    expect(t.profiles[0]).toMatchObject({ name: 'goroutine', lastScrapeDurationMs: 3, failures: 4 });
    expect(formatRelative(t.profiles[0].nextScrape, NOW)).toBe('in 1 s');
  });

  it('tolerates missing fields and rejects other answers', () => {
    const [t] = parseTargets({ data: { activeTargets: [{ job: 'j', health: 'weird', profiles: [{}] }] } });
    expect(t).toMatchObject({ job: 'j', health: 'unknown', lastScrape: null, labels: {} });
    expect(t.profiles[0]).toMatchObject({ health: 'unknown', lastScrapeDurationMs: null, scrapes: 0 });
    expect(parseTargets({ status: 'success', data: { activeTargets: [] } })).toEqual([]);
    expect(() => parseTargets({ message: 'nope' })).toThrow(/activeTargets/);
    expect(() => parseTargets(null)).toThrow();
  });

  it('has a scrape config example with the keys the empty state explains', () => {
    expect(SCRAPE_CONFIG_EXAMPLE).toMatch(/scrape_configs:/);
    expect(SCRAPE_CONFIG_EXAMPLE).toMatch(/job_name:/);
    expect(SCRAPE_CONFIG_EXAMPLE).toMatch(/static_configs:\n\s+- targets:/);
  });
});
