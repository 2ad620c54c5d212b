import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/index.js';
import type { TargetHealth } from '../src/scrape/index.js';
import { connectJson, startTestServer } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const goTarget = resolve(here, '../../../testdata/scrape/target');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** Starts the Go test program and resolves with its host:port. */
function startGo(binary: string): Promise<{ proc: ChildProcess; address: string }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(binary, ['-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolvePromise({ proc, address: m[1] });
    });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`Go target exited with ${code}`)));
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => r(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

describe('pull mode against real Go programs', () => {
  let dir: string;
  let go: { proc: ChildProcess; address: string };
  let hang: Server;
  let garbage: Server;
  let hangAddress: string;
  let garbageAddress: string;
  let sdFile: string;
  let s: Awaited<ReturnType<typeof startTestServer>>;

  const targets = async (query = ''): Promise<TargetHealth[]> => {
    const res = await fetch(`${s.url}/api/v1/targets${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets;
  };
  const target = async (job: string) => (await targets(`?job=${job}`))[0];
  const profileOf = (t: TargetHealth | undefined, name: string) => t?.profiles.find((p) => p.name === name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emberscope-scrape-'));
    const binary = join(dir, 'target');
    execFileSync('go', ['build', '-o', binary, '.'], {
      cwd: goTarget,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: 'inherit',
    });
    go = await startGo(binary);
    // Accepts connections and never answers.
    hang = createServer(() => {});
    hangAddress = await listen(hang);
    garbage = createServer((_req, res) => res.end('this is not a profile'));
    garbageAddress = await listen(garbage);

    sdFile = join(dir, 'targets.json');
    writeFileSync(sdFile, '[]');
    const configFile = join(dir, 'emberscope.yaml');
    writeFileSync(
      configFile,
      `
scrape_configs:
  - job_name: go-app
    scrape_interval: 2s
    static_configs:
      - targets: ['${go.address}']
        labels: { env: test }
  - job_name: broken
    scrape_interval: 2s
    scrape_timeout: 1s
    static_configs:
      - targets: ['${hangAddress}']
        labels: { service_name: hanging-service }
      - targets: ['${garbageAddress}']
    profiling_config:
      pprof_config:
        process_cpu: { enabled: false }
        mutex: { enabled: false }
        block: { enabled: false }
  - job_name: discovered
    scrape_interval: 1s
    file_sd_configs:
      - files: ['${join(dir, '*.json')}']
        refresh_interval: 1s
    profiling_config:
      pprof_config:
        process_cpu: { enabled: false }
        memory: { enabled: false }
        mutex: { enabled: false }
        block: { enabled: false }
`,
    );
    const { scrape_configs } = loadConfig(['--config', configFile], {});
    s = await startTestServer({ scrape_configs });
  }, 60_000);

  afterAll(async () => {
    await s?.stop();
    go?.proc.removeAllListeners('exit');
    go?.proc.kill();
    hang?.closeAllConnections();
    hang?.close();
    garbage?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('all five default profile types arrive with Pyroscope profile type IDs and target labels', async () => {
    const t = await until('every profile of the Go target scraped twice', async () => {
      const t = await target('go-app');
      return t?.profiles.every((p) => p.scrapes >= 2) && t;
    });
    expect(t).toMatchObject({
      job: 'go-app',
      tenant: 'anonymous',
      url: `http://${go.address}`,
      instance: go.address,
      health: 'up',
      lastError: '',
      labels: { job: 'go-app', instance: go.address, service_name: 'go-app', env: 'test' },
    });
    expect(t.profiles.map((p) => [p.name, p.health, p.lastError])).toEqual([
      ['process_cpu', 'up', ''],
      ['memory', 'up', ''],
      ['goroutine', 'up', ''],
      ['mutex', 'up', ''],
      ['block', 'up', ''],
    ]);
    expect(profileOf(t, 'process_cpu')?.url).toBe(`http://${go.address}/debug/pprof/profile?seconds=1`);
    expect(profileOf(t, 'memory')?.url).toBe(`http://${go.address}/debug/pprof/allocs`);

    const now = Date.now();
    const range = { start: now - 3_600_000, end: now + 60_000 };
    const types = await connectJson(s.url, 'ProfileTypes', range);
    const ids = (types.body.profileTypes as { ID: string }[]).map((p) => p.ID);
    expect(ids).toEqual(
      expect.arrayContaining([
        'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
        'process_cpu:samples:count:cpu:nanoseconds',
        'memory:alloc_space:bytes:space:bytes',
        'memory:alloc_objects:count:space:bytes',
        'memory:inuse_space:bytes:space:bytes',
        'memory:inuse_objects:count:space:bytes',
        'goroutine:goroutine:count:goroutine:count',
        'mutex:contentions:count:contentions:count',
        'mutex:delay:nanoseconds:contentions:count',
        'block:contentions:count:contentions:count',
        'block:delay:nanoseconds:contentions:count',
      ]),
    );
    const series = await connectJson(s.url, 'Series', {
      matchers: ['{service_name="go-app"}'],
      labelNames: ['__name__', 'service_name', 'job', 'instance', 'env'],
      ...range,
    });
    expect(series.status).toBe(200);
    const sets = new Set(
      (series.body.labelsSet as { labels: { name: string; value: string }[] }[]).map((s) =>
        JSON.stringify(Object.fromEntries(s.labels.map((l) => [l.name, l.value]))),
      ),
    );
    for (const name of ['process_cpu', 'memory', 'goroutine', 'mutex', 'block'])
      expect(sets).toContain(
        JSON.stringify({
          __name__: name,
          env: 'test',
          instance: go.address,
          job: 'go-app',
          service_name: 'go-app',
        }),
      );
    // `__delta__` is consumed by ingestion, never stored.
    const names = await connectJson(s.url, 'LabelNames', { matchers: ['{service_name="go-app"}'], ...range });
    expect(names.body.names).not.toContain('__delta__');
  });

  test('the allocs delta between two scrapes equals what the program allocated in between', async () => {
    // The memory baseline exists once the first scrape is done.
    const before = await until('a memory baseline', async () => {
      const m = profileOf(await target('go-app'), 'memory');
      return m && m.scrapes >= 1 && m.lastError === '' && m;
    });
    const bytes = 8 * 1024 * 1024;
    const res = await fetch(`http://${go.address}/alloc?bytes=${bytes}`);
    expect(res.status).toBe(200);
    await res.text();
    // Two more scrapes: the second one certainly started after the allocation.
    await until('two memory scrapes after the allocation', async () => {
      const m = profileOf(await target('go-app'), 'memory');
      return m && m.scrapes >= before.scrapes + 2;
    });
    const now = Date.now();
    const query = new URLSearchParams({
      query: 'memory:alloc_space:bytes:space:bytes{service_name="go-app"}',
      from: String(now - 3_600_000),
      until: String(now + 60_000),
      sort: 'total',
      limit: '1000',
    });
    const allocated = async (from: number) => {
      query.set('from', String(from));
      query.set('until', String(Date.now() + 60_000));
      const table = await (await fetch(`${s.url}/api/v1/functions?${query}`)).json();
      return (table as { functions: { name: string; self: number }[] }).functions.find(
        (f) => f.name === 'main.allocate',
      )?.self;
    };
    // MemProfileRate = 1 in the program: every allocation is recorded, so the delta is exact.
    const all = await allocated(now - 3_600_000);
    expect(all).toBeGreaterThanOrEqual(bytes * 0.99);
    expect(all).toBeLessThanOrEqual(bytes * 1.01);

    // A second allocation appears only in the profiles scraped after it, on top of the first.
    const mark = Date.now();
    const afterFirst = profileOf(await target('go-app'), 'memory')!.scrapes;
    const more = 3 * 1024 * 1024;
    await (await fetch(`http://${go.address}/alloc?bytes=${more}`)).text();
    await until('two memory scrapes after the second allocation', async () => {
      const m = profileOf(await target('go-app'), 'memory');
      return m && m.scrapes >= afterFirst + 2;
    });
    const recent = await allocated(mark);
    expect(recent).toBeGreaterThanOrEqual(more * 0.99);
    expect(recent).toBeLessThanOrEqual(more * 1.01);
    const total = await allocated(now - 3_600_000);
    expect(total).toBeGreaterThanOrEqual((bytes + more) * 0.99);
    expect(total).toBeLessThanOrEqual((bytes + more) * 1.01);

    // The mutex counters are stored as deltas too.
    const objects = new URLSearchParams({
      ...Object.fromEntries(query),
      query: 'mutex:contentions:count:contentions:count{service_name="go-app"}',
    });
    const mutex = (await (await fetch(`${s.url}/api/v1/functions?${objects}`)).json()) as { total: number };
    expect(mutex.total).toBeGreaterThan(0);
  });

  test('a hanging target and a target returning garbage are down, and do not delay the others', async () => {
    // Generous waits and bounds: the property is "cut off, not hanging", not a speed (the machine may be loaded).
    let seen = '';
    const broken = await until(
      'both broken targets scraped',
      async () => {
        const list = await targets('?job=broken');
        // What the targets API said last, for the timeout message.
        seen = JSON.stringify(list.map((t) => [t.instance, t.health, t.profiles.map((p) => p.scrapes)]));
        return list.length === 2 && list.every((t) => t.profiles.every((p) => p.scrapes >= 1)) && list;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${seen}`);
    });
    const hanging = broken.find((t) => t.instance === hangAddress)!;
    const bad = broken.find((t) => t.instance === garbageAddress)!;
    expect(hanging.health).toBe('down');
    expect(hanging.labels.service_name).toBe('hanging-service');
    for (const p of hanging.profiles) {
      expect(p.health).toBe('down');
      expect(p.lastError).toMatch(/timed out after 1s/);
      expect(p.lastScrapeDurationMs).toBeGreaterThanOrEqual(900);
      expect(p.lastScrapeDurationMs).toBeLessThan(10_000);
    }
    expect(hanging.lastError).toMatch(/^memory: scrape of \/debug\/pprof\/allocs timed out after 1s$/);
    expect(bad.health).toBe('down');
    for (const p of bad.profiles) expect(p.lastError).toMatch(/^invalid pprof from \/debug\/pprof\//);
    expect((await targets('?health=down')).map((t) => t.instance).sort()).toEqual(
      [hangAddress, garbageAddress].sort(),
    );

    // Meanwhile the Go target is scraped on every tick, each scrape fast.
    const first = await target('go-app');
    await sleep(4_500);
    const later = await target('go-app');
    for (const name of ['memory', 'goroutine', 'mutex', 'block']) {
      const a = profileOf(first, name)!;
      const b = profileOf(later, name)!;
      expect(b.scrapes - a.scrapes).toBeGreaterThanOrEqual(2);
      expect(b.skippedTicks).toBe(0);
      expect(b.lastScrapeDurationMs).toBeLessThan(10_000);
      expect(b.health).toBe('up');
    }
    const cpu = profileOf(later, 'process_cpu')!;
    expect(cpu.health).toBe('up');
    expect(cpu.lastScrapeDurationMs).toBeGreaterThanOrEqual(900);
    expect(cpu.lastScrapeDurationMs).toBeLessThan(10_000);
  }, 150_000);

  test('a file_sd_configs file change adds and removes targets without restart', async () => {
    expect(await targets('?job=discovered')).toEqual([]);
    writeFileSync(
      sdFile,
      JSON.stringify([{ targets: [go.address], labels: { service_name: 'from-file', team: 'a' } }]),
    );
    const added = await until(
      'the discovered target scraped',
      async () => {
        const t = await target('discovered');
        return t?.health === 'up' && t;
      },
      10_000,
    );
    expect(added.labels).toEqual({
      job: 'discovered',
      instance: go.address,
      service_name: 'from-file',
      team: 'a',
    });
    expect(added.discoveredLabels).toMatchObject({ __address__: go.address, __meta_filepath: sdFile });
    const now = Date.now();
    const values = await connectJson(s.url, 'LabelValues', {
      name: 'service_name',
      start: now - 3_600_000,
      end: now + 60_000,
    });
    expect(values.body.names).toContain('from-file');

    // A second file matched by the glob adds its targets; emptying the first removes its target.
    writeFileSync(join(dir, 'more.json'), JSON.stringify([{ targets: [garbageAddress] }]));
    writeFileSync(sdFile, '[]');
    await until(
      'the file target replaced',
      async () => {
        const list = await targets('?job=discovered');
        return list.length === 1 && list[0].instance === garbageAddress;
      },
      10_000,
    );
    rmSync(join(dir, 'more.json'));
    await until(
      'all discovered targets gone',
      async () => (await targets('?job=discovered')).length === 0,
      10_000,
    );
  });
});
