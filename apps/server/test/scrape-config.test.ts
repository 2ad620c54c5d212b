import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeProfile, type Profile, ProfileBuilder } from '@emberscope/pprof';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';
import {
  CumulativeDelta,
  parseScrapeConfigs,
  parseTargetFile,
  scrapeOffset,
  type TargetHealth,
} from '../src/scrape/index.js';
import { startTestServer } from './helpers.js';

const parse = (yamlObject: unknown) => parseScrapeConfigs(yamlObject, 'cfg.yaml', '/etc/emberscope');

describe('scrape_configs', () => {
  test('defaults: 15s interval, 10s timeout, http, the five Alloy default profiles', () => {
    const [job] = parse([{ job_name: 'app', static_configs: [{ targets: ['localhost:6060'] }] }]);
    expect(job).toMatchObject({
      jobName: 'app',
      tenantId: 'anonymous',
      intervalMs: 15_000,
      timeoutMs: 10_000,
      scheme: 'http',
    });
    expect(job.profiles).toEqual([
      {
        name: 'process_cpu',
        metric: 'process_cpu',
        path: '/debug/pprof/profile',
        timed: true,
        cumulative: false,
      },
      { name: 'memory', metric: 'memory', path: '/debug/pprof/allocs', timed: false, cumulative: true },
      {
        name: 'goroutine',
        metric: 'goroutine',
        path: '/debug/pprof/goroutine',
        timed: false,
        cumulative: false,
      },
      { name: 'mutex', metric: 'mutex', path: '/debug/pprof/mutex', timed: false, cumulative: true },
      { name: 'block', metric: 'block', path: '/debug/pprof/block', timed: false, cumulative: true },
    ]);
    // A short interval caps the default timeout.
    expect(
      parse([
        {
          job_name: 'a',
          scrape_interval: '2s',
          static_configs: [],
          file_sd_configs: [{ files: ['t.json'] }],
        },
      ])[0],
    ).toMatchObject({
      timeoutMs: 2000,
      fileSdConfigs: [{ files: ['/etc/emberscope/t.json'], refreshIntervalMs: 300_000 }],
    });
  });

  test('profile selection: switch off, godeltaprof, custom paths', () => {
    const [job] = parse([
      {
        job_name: 'app',
        tenant_id: 'team-a',
        static_configs: [{ targets: ['app:6060'] }],
        profiling_config: {
          pprof_config: {
            memory: { enabled: false },
            godeltaprof_memory: { enabled: true },
            block: { enabled: false },
            mutex: { path: '/pprof/mutex' },
            fgprof: { enabled: true },
            heap_custom: { path: '/debug/pprof/heap', cumulative: true },
            trace_like: { path: '/debug/custom', delta: true },
          },
        },
      },
    ]);
    expect(job.tenantId).toBe('team-a');
    expect(job.profiles.map((p) => [p.name, p.metric, p.path, p.timed, p.cumulative])).toEqual([
      ['process_cpu', 'process_cpu', '/debug/pprof/profile', true, false],
      ['goroutine', 'goroutine', '/debug/pprof/goroutine', false, false],
      ['mutex', 'mutex', '/pprof/mutex', false, true],
      ['fgprof', 'fgprof', '/debug/fgprof', true, false],
      ['godeltaprof_memory', 'memory', '/debug/pprof/delta_heap', false, false],
      ['heap_custom', 'heap_custom', '/debug/pprof/heap', false, true],
      ['trace_like', 'trace_like', '/debug/custom', true, false],
    ]);
  });

  test.each([
    [[{ static_configs: [] }], /scrape_configs\[0\]: job_name: expected a non-empty string/],
    [[{ job_name: 'a' }], /scrape_configs\[0\]: one of static_configs and file_sd_configs is required/],
    [
      [{ job_name: 'a', static_configs: [], scrape_interval: 'fast' }],
      /scrape_interval: expected a duration/,
    ],
    [
      [{ job_name: 'a', static_configs: [], scrape_interval: '5s', scrape_timeout: '6s' }],
      /scrape_timeout \(6s\) must not be greater than scrape_interval \(5s\)/,
    ],
    [[{ job_name: 'a', static_configs: [], scheme: 'ftp' }], /scheme: expected http or https, got "ftp"/],
    [
      [{ job_name: 'a', static_configs: [{ targets: ['http://x:1'] }] }],
      /static_configs\[0\]\.targets\[0\]: expected host:port/,
    ],
    [[{ job_name: 'a', static_configs: [{ target: ['x:1'] }] }], /unknown key "static_configs\[0\]\.target"/],
    [[{ job_name: 'a', static_configs: [], scrape_intervall: '1s' }], /unknown key "scrape_intervall"/],
    [
      [
        { job_name: 'a', static_configs: [] },
        { job_name: 'a', static_configs: [] },
      ],
      /scrape_configs\[1\]: job_name: duplicate/,
    ],
    [
      [{ job_name: 'a', static_configs: [], basic_auth: { password: 'x' } }],
      /basic_auth\.username: expected a non-empty string/,
    ],
    [
      [
        {
          job_name: 'a',
          static_configs: [],
          basic_auth: { username: 'u', password: 'p', password_file: 'f' },
        },
      ],
      /basic_auth: at most one of password and password_file/,
    ],
    [
      [{ job_name: 'a', static_configs: [], authorization: { type: 'Bearer' } }],
      /authorization: one of credentials and credentials_file is required/,
    ],
    [
      [{ job_name: 'a', static_configs: [], tls_config: { cert_file: 'c.pem' } }],
      /tls_config: cert_file and key_file must be set together/,
    ],
    [
      [{ job_name: 'a', static_configs: [], tls_config: { insecure_skip_verify: 'yes' } }],
      /tls_config\.insecure_skip_verify: expected true or false/,
    ],
    [
      [{ job_name: 'a', file_sd_configs: [{ files: ['targets.txt'] }] }],
      /file_sd_configs\[0\]\.files\[0\]: must end in \.json, \.yml or \.yaml/,
    ],
    [
      [{ job_name: 'a', file_sd_configs: [{ files: ['*/t.json'] }] }],
      /patterns are only allowed in the last path element/,
    ],
    [
      [
        {
          job_name: 'a',
          static_configs: [],
          profiling_config: { pprof_config: { custom: { enabled: true } } },
        },
      ],
      /pprof_config\.custom\.path: required for a custom profile/,
    ],
    [
      [
        {
          job_name: 'a',
          static_configs: [],
          profiling_config: { pprof_config: { memory: { enabld: true } } },
        },
      ],
      /unknown key "profiling_config\.pprof_config\.memory\.enabld"/,
    ],
    [
      [
        {
          job_name: 'a',
          static_configs: [],
          profiling_config: { pprof_config: { godeltaprof_memory: { enabled: true } } },
        },
      ],
      /memory and godeltaprof_memory both produce __name__="memory"/,
    ],
  ])('refuses %j', (config, message) => {
    expect(() => parse(config)).toThrow(message);
  });

  test('the config file accepts scrape_configs and still refuses other unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emberscope-scfg-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(
        file,
        'scrape_configs:\n  - job_name: app\n    static_configs: [{ targets: ["127.0.0.1:6060"] }]\n',
      );
      expect(loadConfig(['--config', file], {}).scrape_configs?.[0].jobName).toBe('app');
      writeFileSync(
        file,
        'scrape_configs:\n  - job_name: app\n    static_configs: [{ targets: ["127.0.0.1:6060"], lables: {} }]\n',
      );
      expect(() => loadConfig(['--config', file], {})).toThrow(ConfigError);
      expect(() => loadConfig(['--config', file], {})).toThrow(
        `${file}: scrape_configs[0]: unknown key "static_configs[0].lables"`,
      );
      writeFileSync(file, 'scrape_config: []\n');
      expect(() => loadConfig(['--config', file], {})).toThrow('unknown key "scrape_config"');
      expect(loadConfig([], {}).scrape_configs).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('file_sd files: JSON and YAML target groups', () => {
    expect(parseTargetFile('[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}]', 'x.json')).toEqual([
      { targets: ['a:1', 'b:2'], labels: { env: 'prod' }, source: 'x.json' },
    ]);
    expect(parseTargetFile('- targets: [c:3]\n', 'x.yml')).toEqual([
      { targets: ['c:3'], labels: {}, source: 'x.yml' },
    ]);
    expect(() => parseTargetFile('{"targets": []}', 'x.json')).toThrow(
      'x.json: expected a list of target groups',
    );
    expect(() => parseTargetFile('[{"targets": ["a:1"], "label": {}}]', 'x.json')).toThrow(
      'x.json: [0]: unknown key "label"',
    );
  });
});

const heap = (values: Record<string, [number, number, number, number]>): Profile => {
  const b = new ProfileBuilder({
    sampleTypes: [
      ['alloc_objects', 'count'],
      ['alloc_space', 'bytes'],
      ['inuse_objects', 'count'],
      ['inuse_space', 'bytes'],
    ],
    periodType: ['space', 'bytes'],
    period: 524288,
  });
  for (const [stack, v] of Object.entries(values)) b.addSample(stack.split(';'), v);
  return b.build();
};
const rows = (p: Profile | null) =>
  p ? Array.from({ length: p.sampleCount }, (_, s) => Array.from(p.values.subarray(s * 4, s * 4 + 4))) : null;

describe('CumulativeDelta', () => {
  test('baseline first, then per-stack deltas of alloc_*; inuse_* as is; a decrease is a reset', () => {
    const d = new CumulativeDelta();
    expect(d.next(heap({ 'main;a': [10, 1000, 1, 100], 'main;b': [5, 500, 5, 500] }))).toBeNull();
    expect(
      rows(
        d.next(heap({ 'main;a': [15, 1500, 2, 200], 'main;b': [5, 500, 0, 0], 'main;c': [1, 64, 1, 64] })),
      ),
    ).toEqual([
      [5, 500, 2, 200],
      [0, 0, 0, 0],
      [1, 64, 1, 64],
    ]);
    // The process restarted: counters went down, the new values are the delta.
    expect(rows(d.next(heap({ 'main;a': [3, 300, 3, 300] })))).toEqual([[3, 300, 3, 300]]);
  });

  test('mutex/block: every sample type is a counter; duplicate stacks add up', () => {
    const profile = (v: number) =>
      new ProfileBuilder({
        sampleTypes: [
          ['contentions', 'count'],
          ['delay', 'nanoseconds'],
        ],
        periodType: ['contentions', 'count'],
      })
        .addSample(['main', 'lock'], [v, v * 1000])
        .addSample(['main', 'lock'], [1, 1000])
        .build();
    const d = new CumulativeDelta();
    expect(d.next(profile(10))).toBeNull();
    const out = d.next(profile(14))!;
    expect(Array.from(out.values)).toEqual([4, 4000, 0, 0]);
  });
});

describe('targets API', () => {
  let secured: Server;
  let address: string;
  let dir: string;
  let s: Awaited<ReturnType<typeof startTestServer>>;
  const seen: (string | undefined)[] = [];
  const agents = new Set<string>();

  beforeAll(async () => {
    const body = encodeProfile(
      new ProfileBuilder({
        sampleTypes: [['goroutine', 'count']],
        periodType: ['goroutine', 'count'],
        period: 1,
      })
        .addSample(['runtime.main', 'main.main'], [3])
        .build(),
      { gzip: true },
    );
    secured = createServer((req, res) => {
      seen.push(req.headers.authorization);
      agents.add(req.headers['user-agent'] ?? '');
      if (req.headers.authorization !== 'Bearer s3cret') {
        res.statusCode = 401;
        return void res.end('unauthorized');
      }
      res.end(body);
    });
    await new Promise<void>((r) => secured.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(secured.address() as AddressInfo).port}`;
    // A port nobody listens on: the server is closed right after binding it.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadAddress = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    dir = mkdtempSync(join(tmpdir(), 'emberscope-sauth-'));
    writeFileSync(join(dir, 'token'), 's3cret\n');
    const only = (name: string) => ({
      pprof_config: Object.fromEntries(
        ['process_cpu', 'memory', 'goroutine', 'mutex', 'block'].map((p) => [p, { enabled: p === name }]),
      ),
    });
    const scrape_configs = parseScrapeConfigs(
      [
        {
          job_name: 'secured',
          tenant_id: 'team-a',
          scrape_interval: '1s',
          authorization: { credentials_file: 'token' },
          static_configs: [{ targets: [address] }],
          profiling_config: only('goroutine'),
        },
        {
          job_name: 'wrong-token',
          tenant_id: 'team-b',
          scrape_interval: '1s',
          basic_auth: { username: 'u', password: 'p' },
          static_configs: [{ targets: [address] }],
          profiling_config: only('goroutine'),
        },
        {
          job_name: 'dead',
          tenant_id: 'team-b',
          scrape_interval: '1s',
          static_configs: [{ targets: [deadAddress] }],
          profiling_config: only('goroutine'),
        },
      ],
      'test',
      dir,
    );
    s = await startTestServer({ scrape_configs, multitenancy_enabled: true });
  });

  afterAll(async () => {
    await s?.stop();
    secured?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const list = async (tenant: string, query = '') => {
    const res = await fetch(`${s.url}/api/v1/targets${query}`, { headers: { 'x-scope-orgid': tenant } });
    return ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets;
  };

  test('auth headers, refused connections, HTTP errors, and tenants', async () => {
    const deadline = Date.now() + 10_000;
    let a: TargetHealth[] = [];
    let b: TargetHealth[] = [];
    while (Date.now() < deadline) {
      a = await list('team-a');
      b = await list('team-b');
      if ([...a, ...b].every((t) => t.health !== 'unknown')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(a.map((t) => [t.job, t.health, t.lastError])).toEqual([['secured', 'up', '']]);
    expect(b.map((t) => [t.job, t.health])).toEqual([
      ['wrong-token', 'down'],
      ['dead', 'down'],
    ]);
    expect(b[0].lastError).toBe('goroutine: server returned HTTP 401: unauthorized');
    expect(b[1].lastError).toMatch(/^goroutine: connection refused \(127\.0\.0\.1:\d+\)$/);
    expect(seen).toContain('Bearer s3cret');
    expect([...agents]).toEqual([expect.stringMatching(/^Emberscope-scraper\/\d+\.\d+\.\d+/)]);
    expect(seen).toContain(`Basic ${Buffer.from('u:p').toString('base64')}`);
    // The profile went to the job's tenant.
    const res = await fetch(`${s.url}/pyroscope/label-values?label=service_name`, {
      headers: { 'x-scope-orgid': 'team-a' },
    });
    expect(await res.json()).toContain('secured');
    expect(await list('team-c')).toEqual([]);
    expect((await list('team-b', '?job=dead')).map((t) => t.job)).toEqual(['dead']);
  });
});

describe('https targets', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let s: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emberscope-stls-'));
    // One self-signed certificate serves as CA, server and client certificate.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=scrape.test',
        '-addext',
        'subjectAltName=DNS:scrape.test',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const key = readFileSync(join(dir, 'key.pem'));
    const body = encodeProfile(
      new ProfileBuilder({
        sampleTypes: [['goroutine', 'count']],
        periodType: ['goroutine', 'count'],
        period: 1,
      })
        .addSample(['runtime.main', 'main.main'], [1])
        .build(),
    );
    server = createHttpsServer(
      { cert, key, ca: cert, requestCert: true, rejectUnauthorized: true },
      (_req, res) => res.end(body),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const job = (name: string, tls: Record<string, unknown>) => ({
      job_name: name,
      scheme: 'https',
      scrape_interval: '1s',
      tls_config: tls,
      static_configs: [{ targets: [address] }],
      profiling_config: {
        pprof_config: Object.fromEntries(
          ['process_cpu', 'memory', 'mutex', 'block'].map((p) => [p, { enabled: false }]),
        ),
      },
    });
    const scrape_configs = parseScrapeConfigs(
      [
        job('verified', {
          ca_file: 'cert.pem',
          cert_file: 'cert.pem',
          key_file: 'key.pem',
          server_name: 'scrape.test',
        }),
        job('insecure', { insecure_skip_verify: true, cert_file: 'cert.pem', key_file: 'key.pem' }),
        job('untrusted', { cert_file: 'cert.pem', key_file: 'key.pem', server_name: 'scrape.test' }),
        job('no-client-cert', { ca_file: 'cert.pem', server_name: 'scrape.test' }),
      ],
      'test',
      dir,
    );
    s = await startTestServer({ scrape_configs });
  });

  afterAll(async () => {
    await s?.stop();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('ca_file, cert_file/key_file, server_name and insecure_skip_verify', async () => {
    const deadline = Date.now() + 10_000;
    let targets: TargetHealth[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${s.url}/api/v1/targets`);
      targets = ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets;
      if (targets.every((t) => t.health !== 'unknown')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const byJob = Object.fromEntries(targets.map((t) => [t.job, t]));
    expect(byJob.verified).toMatchObject({ health: 'up', lastError: '' });
    expect(byJob.insecure).toMatchObject({ health: 'up', lastError: '' });
    expect(byJob.untrusted.health).toBe('down');
    expect(byJob.untrusted.lastError).toMatch(
      /^goroutine: TLS certificate of 127\.0\.0\.1:\d+ not accepted: self-signed certificate$/,
    );
    expect(byJob['no-client-cert'].health).toBe('down');
    expect(byJob['no-client-cert'].lastError).toMatch(
      /TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate required/,
    );
  });
});

describe('scheduling', () => {
  test('targets are spread over the interval by a stable offset', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => scrapeOffset('job', `10.0.0.${i}:6060`, 15_000));
    expect(offsets).toEqual(
      Array.from({ length: 200 }, (_, i) => scrapeOffset('job', `10.0.0.${i}:6060`, 15_000)),
    );
    const buckets = new Set(offsets.map((o) => Math.floor(o / 1500)));
    expect(buckets.size).toBe(10);
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(15_000);
  });

  test('a slow target skips ticks instead of piling up scrapes', async () => {
    const body = encodeProfile(
      new ProfileBuilder({
        sampleTypes: [
          ['samples', 'count'],
          ['cpu', 'nanoseconds'],
        ],
        periodType: ['cpu', 'nanoseconds'],
        period: 10_000_000,
      })
        .addSample(['main', 'work'], [1, 10_000_000])
        .build(),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    const seconds: string[] = [];
    // Answers the CPU profile after 2.5 s: longer than the 2 s interval, within the 2 s + 1 s timeout.
    const slow = createServer((req, res) => {
      seconds.push(new URL(req.url ?? '/', 'http://x').searchParams.get('seconds') ?? '');
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(body);
      }, 2500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const scrape_configs = parseScrapeConfigs(
      [
        {
          job_name: 'slow',
          scrape_interval: '2s',
          static_configs: [{ targets: [address] }],
          profiling_config: {
            pprof_config: Object.fromEntries(
              ['memory', 'goroutine', 'mutex', 'block'].map((p) => [p, { enabled: false }]),
            ),
          },
        },
      ],
      'test',
      '.',
    );
    const s = await startTestServer({ scrape_configs });
    try {
      let cpu: TargetHealth['profiles'][number] | undefined;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const res = await fetch(`${s.url}/api/v1/targets`);
        cpu = ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets[0]
          ?.profiles[0];
        if (cpu && cpu.scrapes >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(cpu).toMatchObject({ name: 'process_cpu', health: 'up', lastError: '' });
      expect(cpu!.skippedTicks).toBeGreaterThanOrEqual(1);
      expect(cpu!.lastScrapeDurationMs).toBeGreaterThanOrEqual(2400);
      expect(maxInFlight).toBe(1);
      expect(seconds.every((v) => v === '1')).toBe(true);
    } finally {
      await s.stop();
      slow.closeAllConnections();
      slow.close();
    }
  });
});

describe('config file reload', () => {
  test('a change of scrape_configs in the config file adds, changes and removes jobs without restart', async () => {
    const body = encodeProfile(
      new ProfileBuilder({
        sampleTypes: [['goroutine', 'count']],
        periodType: ['goroutine', 'count'],
        period: 1,
      })
        .addSample(['runtime.main', 'main.main'], [2])
        .build(),
    );
    const target = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(target.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'emberscope-sreload-'));
    const file = join(dir, 'emberscope.yaml');
    const jobYaml = (name: string, labels: string) => `
  - job_name: ${name}
    scrape_interval: 1s
    static_configs: [{ targets: ['${address}'], labels: ${labels} }]
    profiling_config:
      pprof_config: { process_cpu: { enabled: false }, memory: { enabled: false }, mutex: { enabled: false }, block: { enabled: false } }`;
    writeFileSync(file, `scrape_configs:${jobYaml('first', '{}')}${jobYaml('kept', '{}')}\n`);
    const { scrape_configs, config_file } = loadConfig(['--config', file], {});
    expect(config_file).toBe(file);
    const s = await startTestServer({ scrape_configs, config_file });
    const jobs = async () => {
      const res = await fetch(`${s.url}/api/v1/targets`);
      const list = ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets;
      return list.map((t) => `${t.job}${t.labels.env ? `/${t.labels.env}` : ''}:${t.health}`);
    };
    const waitFor = async (expected: string[]) => {
      const deadline = Date.now() + 8_000;
      let got: string[] = [];
      while (Date.now() < deadline) {
        got = await jobs();
        if (JSON.stringify(got) === JSON.stringify(expected)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got).toEqual(expected);
    };
    try {
      await waitFor(['first:up', 'kept:up']);
      const keptScrapes = async () =>
        (
          (await (await fetch(`${s.url}/api/v1/targets?job=kept`)).json()) as {
            data: { activeTargets: TargetHealth[] };
          }
        ).data.activeTargets[0].profiles[0].scrapes;
      let before = await keptScrapes();
      while (before < 3) {
        await new Promise((r) => setTimeout(r, 200));
        before = await keptScrapes();
      }
      writeFileSync(file, `scrape_configs:${jobYaml('kept', '{}')}${jobYaml('second', '{ env: b }')}\n`);
      await waitFor(['kept:up', 'second/b:up']);
      // The unchanged job kept running: its scrape count went on instead of starting over.
      expect(await keptScrapes()).toBeGreaterThanOrEqual(before);
      writeFileSync(file, `scrape_configs:${jobYaml('kept', '{}')}${jobYaml('second', '{ env: c }')}\n`);
      await waitFor(['kept:up', 'second/c:up']);
      // An invalid file keeps the current jobs.
      writeFileSync(file, 'scrape_configs:\n  - job_name: broken\n');
      await new Promise((r) => setTimeout(r, 500));
      expect(await jobs()).toEqual(['kept:up', 'second/c:up']);
      writeFileSync(file, 'data_dir: ./data\n');
      await waitFor([]);
    } finally {
      await s.stop();
      target.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
