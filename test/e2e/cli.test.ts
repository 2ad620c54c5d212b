/**
 * The `emberscope` command line against a real server process: every subcommand, fed with real profiles,
 * with its output, its error messages and its exit codes (0 ok, 1 server/network, 2 usage, 3 no data).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { retimePprof } from '../support/fixtures.js';
import { freePort } from '../support/ports.js';
import { cpuProfile } from '../support/profiles.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const ALLOC_SPACE = 'memory:alloc_space:bytes:space:bytes';

let server: RunningServer;
let dir: string;
let url: string;
const since = 'now-10m';

// Two services with known CPU stacks (values in samples; 10 ms each).
const apiStacks = {
  'main;serve;handler;json.Marshal': 30,
  'main;serve;handler;db.Query': 10,
  'main;idle': 5,
};
const workerStacks = {
  'main;serve;handler;json.Marshal': 10,
  'main;serve;handler;db.Query': 30,
  'main;gc': 5,
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-cli-'));
  server = await startServer({ name: 'cli' });
  url = server.url;
  writeFileSync(path.join(dir, 'api.pb'), cpuProfile(apiStacks));
  writeFileSync(path.join(dir, 'worker.pb.gz'), gzipSync(cpuProfile(workerStacks)));
  writeFileSync(path.join(dir, 'stacks.folded'), 'main;work 7\nmain;sleep 3\n');
  writeFileSync(path.join(dir, 'stacks.folded.gz'), gzipSync('main;work 5\n'));
  const allocs = readFileSync(path.join(REPO_ROOT, 'testdata', 'pprof', 'go-allocs.pb.gz'));
  writeFileSync(path.join(dir, 'allocs.pb.gz'), retimePprof(allocs, BigInt(Date.now()) * 1_000_000n));
  writeFileSync(path.join(dir, 'garbage.pb'), Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02, 0x03]));
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('help and usage', () => {
  it('prints the command list and exit codes with --help (0), and with no command (2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['server', 'ingest', 'query', 'export', 'diff', 'top', 'admin'])
      expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(help.stdout).toContain('Exit codes:');
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: emberscope');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it.each(['ingest', 'query', 'export', 'diff', 'top', 'admin'])(
    '%s --help exits 0 with usage, flags and exit codes',
    async (name) => {
      const res = await cli([name, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`Usage: emberscope ${name}`);
      expect(res.stdout).toContain('--url URL');
      expect(res.stdout).toContain('--tenant ID');
      expect(res.stdout).toMatch(/3 {2}not found \/ no data/);
      expect(res.stderr).toBe('');
    },
  );

  it('server --help still works', async () => {
    const res = await cli(['server', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('--listen');
  });

  it('bad flags and arguments exit 2 with one clear line and a pointer to --help', async () => {
    const cases: [string[], RegExp][] = [
      [['top', '--bogus'], /unknown flag --bogus/],
      [['top', '--url', url], /--query is required/],
      [['top', '--url', url, '--query', `${CPU}{}`, '--sort', 'name'], /--sort must be one of self, total/],
      [['top', '--url', url, '--query', `${CPU}{}`, '--from', 'yesterday'], /invalid --from "yesterday"/],
      [['top', '--url', url, '--query', `${CPU}{}`, '--from', 'now', '--until', 'now-1h'], /must be before/],
      [['top', '--url', url, '--query', `${CPU}{service_name="x"`], /selector must end with/],
      [['top', '--url', url, '--query', `${CPU}{}`, '--limit', '-3'], /--limit/],
      [['top', '--url', 'ftp://x', '--query', `${CPU}{}`], /invalid --url/],
      [['query', '--url', url], /say what to query/],
      [['query', 'label-values', '--url', url], /needs a label NAME/],
      [['ingest', '--url', url, path.join(os.tmpdir(), 'x')], /--name is required/],
      [['ingest', '--url', url, '--name', 'a'], /no FILE given/],
      [['export', '--url', url, '--query', `${CPU}{}`], /--out is required/],
      [['admin', 'delete-service', 'api', '--url', url], /needs --yes/],
      [
        ['top', '--url', url, '--query', `${CPU}{}`, '--basic-auth', 'a:b', '--bearer-token', 't'],
        /use only one of --basic-auth, --bearer-token and --api-key/,
      ],
    ];
    for (const [args, message] of cases) {
      const res = await cli(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(message);
      expect(res.stderr).toMatch(/Run "emberscope \w+ --help" for usage\./);
      expect(res.stdout).toBe('');
    }
  });
});

describe('against a server with data', () => {
  it('ingest sends pprof (raw and gzip) and folded (raw and gzip) files, with a progress line per file', async () => {
    const api = await cli(['ingest', '--url', url, '--name', 'cli-api{env=test}', path.join(dir, 'api.pb')]);
    expect(api.code, api.stderr).toBe(0);
    expect(api.stderr).toMatch(/\[1\/1\] .*api\.pb: .* pprof sent in \d+ ms/);
    const worker = await cli(
      ['ingest', '--name', 'cli-worker{env=test}', path.join(dir, 'worker.pb.gz'), '--output', 'json'],
      {
        EMBERSCOPE_URL: url,
      },
    );
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stderr).toContain('pprof (gzip)');
    expect(JSON.parse(worker.stdout)).toMatchObject({
      name: 'cli-worker{env=test}',
      files: [{ format: 'pprof' }],
    });
    const folded = await cli([
      'ingest',
      '--url',
      url,
      '--name',
      'cli-folded.cpu',
      '--from',
      'now-1m',
      '--until',
      'now',
      path.join(dir, 'stacks.folded'),
      path.join(dir, 'stacks.folded.gz'),
    ]);
    expect(folded.code, folded.stderr).toBe(0);
    expect(folded.stderr).toMatch(/\[1\/2\] .*stacks\.folded: .* folded sent/);
    expect(folded.stderr).toMatch(/\[2\/2\] .*stacks\.folded\.gz: .* folded \(gzip\) sent/);
    expect(folded.stdout).toContain('ingested 2 files as cli-folded.cpu');
    const mem = await cli(['ingest', '--url', url, '--name', 'cli-mem', path.join(dir, 'allocs.pb.gz')]);
    expect(mem.code, mem.stderr).toBe(0);
  });

  it('ingest reports the server error of an unparsable file (1) and a missing file (2)', async () => {
    const bad = await cli([
      'ingest',
      '--url',
      url,
      '--name',
      'cli-bad',
      '--format',
      'pprof',
      path.join(dir, 'garbage.pb'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^emberscope ingest: POST \/ingest: server answered HTTP 422 invalid_argument: .+/m,
    );
    const missing = await cli(['ingest', '--url', url, '--name', 'cli-bad', path.join(dir, 'nope.pb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(missing.stderr).toContain('ENOENT');
  });

  it('query profile-types, label-names, label-values and series', async () => {
    const types = await cli(['query', 'profile-types', '--url', url, '--from', since]);
    expect(types.code, types.stderr).toBe(0);
    expect(types.stdout.split('\n')).toContain(CPU);
    expect(types.stdout.split('\n')).toContain(ALLOC_SPACE);
    const ofApi = await cli([
      'query',
      'profile-types',
      '--url',
      url,
      '--selector',
      '{service_name="cli-api"}',
      '--output',
      'json',
    ]);
    expect(JSON.parse(ofApi.stdout)).toEqual([CPU, 'process_cpu:samples:count:cpu:nanoseconds']);

    const names = await cli(['query', 'label-names', '--url', url, '--selector', '{service_name="cli-api"}']);
    expect(names.code).toBe(0);
    expect(names.stdout.split('\n')).toEqual(
      expect.arrayContaining(['env', 'service_name', '__profile_type__']),
    );

    const values = await cli(['query', 'label-values', 'service_name', '--url', url, '--output', 'json']);
    expect(values.code).toBe(0);
    expect(JSON.parse(values.stdout)).toEqual(
      expect.arrayContaining(['cli-api', 'cli-worker', 'cli-folded', 'cli-mem']),
    );

    const series = await cli([
      'query',
      'series',
      '--url',
      url,
      '--selector',
      `{service_name="cli-api", __profile_type__="${CPU}"}`,
      '--label',
      'service_name',
      '--label',
      'env',
    ]);
    expect(series.code, series.stderr).toBe(0);
    expect(series.stdout.trim()).toBe('{env="test", service_name="cli-api"}');
  });

  it('query exits 3 when there is nothing, and 2 for an unknown query', async () => {
    const none = await cli([
      'query',
      'label-values',
      'service_name',
      '--url',
      url,
      '--selector',
      '{service_name="nope"}',
    ]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no label values for service_name in this range');
    const old = await cli([
      'query',
      'series',
      '--url',
      url,
      '--from',
      '2001-01-01T00:00:00Z',
      '--until',
      '2001-01-02T00:00:00Z',
    ]);
    expect(old.code).toBe(3);
    const unknown = await cli(['query', 'apps', '--url', url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown query "apps"');
  });

  it('top prints flat, flat%, sum%, cum, cum% and name in the profile units', async () => {
    const res = await cli(['top', '--url', url, '--query', 'cpu{service_name="cli-api"}', '--from', since]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toBe('Showing top 6 of 6 functions by flat; total 450.0ms');
    expect(lines[1].trim().split(/\s+/)).toEqual(['flat', 'flat%', 'sum%', 'cum', 'cum%', 'name']);
    expect(lines[2].trim().split(/\s+/)).toEqual([
      '300.0ms',
      '66.67%',
      '66.67%',
      '300.0ms',
      '66.67%',
      'json.Marshal',
    ]);
    expect(lines[3].trim().split(/\s+/)).toEqual([
      '100.0ms',
      '22.22%',
      '88.89%',
      '100.0ms',
      '22.22%',
      'db.Query',
    ]);

    const byTotal = await cli([
      'top',
      '--url',
      url,
      '--query',
      `${CPU}{service_name=~"cli-(api|worker)"}`,
      '--from',
      since,
      '--sort',
      'total',
      '--limit',
      '3',
      '--output',
      'json',
    ]);
    expect(byTotal.code, byTotal.stderr).toBe(0);
    const json = JSON.parse(byTotal.stdout);
    expect(json.total).toBe(900_000_000);
    expect(json.functions).toEqual([
      { name: 'main', self: 0, total: 900_000_000 },
      { name: 'handler', self: 0, total: 800_000_000 },
      { name: 'serve', self: 0, total: 800_000_000 },
    ]);

    const mem = await cli([
      'top',
      '--url',
      url,
      '--query',
      'alloc_space{service_name="cli-mem"}',
      '--from',
      since,
      '--limit',
      '3',
    ]);
    expect(mem.code, mem.stderr).toBe(0);
    expect(mem.stdout.split('\n')[0]).toMatch(/total [\d.]+(MB|kB|GB)$/);
  });

  it('top exits 3 without data and 1 with the server message for a bad selector', async () => {
    const none = await cli(['top', '--url', url, '--query', `${CPU}{service_name="nope"}`]);
    expect(none.code).toBe(3);
    expect(none.stderr.trim()).toBe(`emberscope top: no data for ${CPU}{service_name="nope"} in this range`);
    const unknownType = await cli(['top', '--url', url, '--query', 'nosuchtype{}']);
    expect(unknownType.code).toBe(3);
    expect(unknownType.stderr).toContain('no profile type matches "nosuchtype"');
    const bad = await cli(['top', '--url', url, '--query', `${CPU}{service_name=~"(("}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/server answered HTTP 400 invalid_argument: .*invalid regular expression/);
  });

  it('export writes pprof, collapsed, flamebearer and html', async () => {
    const q = ['--url', url, '--query', `cpu{service_name="cli-api"}`, '--from', since];
    const pprofFile = path.join(dir, 'out.pb.gz');
    const pprof = await cli(['export', ...q, '--format', 'pprof', '-o', pprofFile]);
    expect(pprof.code, pprof.stderr).toBe(0);
    expect(pprof.stderr).toMatch(/emberscope export: merging .* over 10 min/);
    expect(pprof.stderr).toMatch(/emberscope export: wrote .* of pprof to .*out\.pb\.gz/);
    const profile = Profile.decode(gunzipSync(readFileSync(pprofFile)));
    const total = profile.sample.reduce((s, x) => s + Number(x.value[0]), 0);
    expect(total).toBe(450_000_000);

    const collapsed = await cli(['export', ...q, '--format', 'collapsed', '-o', '-']);
    expect(collapsed.code, collapsed.stderr).toBe(0);
    expect(collapsed.stdout.trim().split('\n')).toEqual([
      'main;idle 50000000',
      'main;serve;handler;db.Query 100000000',
      'main;serve;handler;json.Marshal 300000000',
    ]);

    // The same merged window by window on the client.
    const chunked = await cli(['export', ...q, '--format', 'collapsed', '--chunk', '3m', '-o', '-']);
    expect(chunked.code, chunked.stderr).toBe(0);
    expect(chunked.stderr).toMatch(/chunk 4\/4: /);
    expect(chunked.stdout).toBe(collapsed.stdout);
    const chunkedPprof = path.join(dir, 'chunked.pb.gz');
    expect((await cli(['export', ...q, '--chunk', '3m', '-o', chunkedPprof])).code).toBe(0);
    const merged = Profile.decode(gunzipSync(readFileSync(chunkedPprof)));
    expect(merged.sample.reduce((s, x) => s + Number(x.value[0]), 0)).toBe(450_000_000);

    const fbFile = path.join(dir, 'out.json');
    expect((await cli(['export', ...q, '--format', 'flamebearer', '-o', fbFile])).code).toBe(0);
    const fb = JSON.parse(readFileSync(fbFile, 'utf8'));
    expect(fb.flamebearer.numTicks).toBe(450_000_000);
    expect(fb.flamebearer.names).toContain('json.Marshal');

    const htmlFile = path.join(dir, 'out.html');
    expect((await cli(['export', ...q, '--format', 'html', '-o', htmlFile])).code).toBe(0);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('json.Marshal');

    const none = await cli([
      'export',
      '--url',
      url,
      '--query',
      `${CPU}{service_name="nope"}`,
      '-o',
      path.join(dir, 'none.pb.gz'),
    ]);
    expect(none.code).toBe(3);
    const unwritable = await cli(['export', ...q, '-o', path.join(dir, 'no', 'such', 'dir.pb.gz')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain('cannot write');
  });

  it('diff prints baseline, comparison and change per function, or writes an HTML page', async () => {
    const res = await cli([
      'diff',
      '--url',
      url,
      '--left',
      'cpu{service_name="cli-api"}',
      '--right',
      'cpu{service_name="cli-worker"}',
      '--from',
      since,
      '--limit',
      '4',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[1].trim().split(/\s+/)).toEqual(['baseline', 'comparison', 'change', 'name']);
    const rows = lines.slice(2).map((l) => l.trim().split(/\s+/));
    expect(rows).toContainEqual(['66.67%', '22.22%', '-44.44%', 'json.Marshal']);
    expect(rows).toContainEqual(['22.22%', '66.67%', '+44.44%', 'db.Query']);

    const json = await cli([
      'diff',
      '--url',
      url,
      '--left',
      `${CPU}{service_name="cli-api"}`,
      '--right',
      `${CPU}{service_name="cli-worker"}`,
      '--left-from',
      since,
      '--right-from',
      since,
      '--absolute',
      '--output',
      'json',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.normalized).toBe(false);
    expect(out.rows.find((r: { name: string }) => r.name === 'db.Query')).toMatchObject({
      baseline: 100_000_000,
      comparison: 300_000_000,
      change: 200_000_000,
    });

    const htmlFile = path.join(dir, 'diff.html');
    const html = await cli([
      'diff',
      '--url',
      url,
      '--left',
      'cpu{service_name="cli-api"}',
      '--right',
      'cpu{service_name="cli-worker"}',
      '--from',
      since,
      '--format',
      'html',
      '-o',
      htmlFile,
    ]);
    expect(html.code, html.stderr).toBe(0);
    const page = readFileSync(htmlFile, 'utf8');
    expect(page).toContain('Baseline: ');
    expect(page).toContain('Comparison: ');

    const none = await cli([
      'diff',
      '--url',
      url,
      '--left',
      `${CPU}{service_name="cli-api"}`,
      '--right',
      `${CPU}{service_name="nope"}`,
    ]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no data for the comparison');
    const mixed = await cli(['diff', '--url', url, '--left', `${CPU}{}`, '--right', `${ALLOC_SPACE}{}`]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('cannot compare different profile types');
  });

  it('admin storage reports; retention runs; delete-service deletes the service', async () => {
    const text = await cli(['admin', 'storage', '--url', url]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^retention: \S+, disk limit: \S+/);
    expect(text.stdout).toMatch(/^anonymous\s+[\d.]+ (B|kB|MB)/m);
    const json = await cli(['admin', 'storage', '--url', url, '--output', 'json']);
    expect(JSON.parse(json.stdout).tenants[0].tenant).toBe('anonymous');

    const retention = await cli(['admin', 'retention', '--url', url, '--output', 'json']);
    expect(retention.code, retention.stderr).toBe(0);
    // Everything here is recent: retention deletes nothing.
    expect(JSON.parse(retention.stdout)).toEqual({ deletedBlocks: 0, deletedBytes: 0 });
    const posted = await fetch(`${url}/ingest?name=cli-doomed.cpu`, {
      method: 'POST',
      body: 'main;work 5\n',
    });
    expect(posted.status).toBe(200);
    const del = await cli([
      'admin',
      'delete-service',
      'cli-doomed',
      '--yes',
      '--url',
      url,
      '--output',
      'json',
    ]);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toEqual({ deletedProfiles: 1 });
    const gone = await cli(['top', '--url', url, '--query', `${CPU}{service_name="cli-doomed"}`]);
    expect(gone.code).toBe(3);
    const kept = await cli(['top', '--url', url, '--query', `${CPU}{service_name="cli-api"}`]);
    expect(kept.code, kept.stderr).toBe(0);
    const unknown = await cli(['admin', 'compact', '--url', url]);
    expect(unknown.code).toBe(2);
  });
});

describe('servers that are down, multi-tenant or Grafana Pyroscope', () => {
  it('an unreachable server exits 1 with "cannot reach"', async () => {
    const port = await freePort();
    const res = await cli(['query', 'profile-types', '--url', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      `emberscope query: cannot reach http://127.0.0.1:${port}: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('export merges ranges longer than the server allows window by window; other commands report the limit', async () => {
    const limited = await startServer({ name: 'cli-range', args: ['--max-query-range', '4m'] });
    try {
      expect(
        (await cli(['ingest', '--url', limited.url, '--name', 'cli-api', path.join(dir, 'api.pb')])).code,
      ).toBe(0);
      const q = ['--url', limited.url, '--query', `${CPU}{service_name="cli-api"}`, '--from', since];
      const res = await cli(['export', ...q, '--format', 'collapsed', '-o', '-']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toMatch(/exceeds the limit of 4m .*; merging in chunks of 4 min instead/);
      expect(res.stdout.trim().split('\n')).toEqual([
        'main;idle 50000000',
        'main;serve;handler;db.Query 100000000',
        'main;serve;handler;json.Marshal 300000000',
      ]);
      const top = await cli(['top', ...q]);
      expect(top.code).toBe(1);
      expect(top.stderr).toMatch(
        /server answered HTTP 400 invalid_argument: the query range of 10m exceeds the limit of 4m/,
      );
    } finally {
      await limited.stop();
    }
  });

  it('--tenant sends X-Scope-OrgID; without it a multi-tenant server answers 401 (exit 1)', async () => {
    const mt = await startServer({ name: 'cli-mt', args: ['--multitenancy-enabled'] });
    try {
      const file = path.join(dir, 'api.pb');
      const denied = await cli(['ingest', '--url', mt.url, '--name', 'mt-app', file]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/HTTP 401 unauthenticated/);
      expect(
        (await cli(['ingest', '--url', mt.url, '--tenant', 'team-a', '--name', 'mt-app', file])).code,
      ).toBe(0);
      const a = await cli(['query', 'label-values', 'service_name', '--url', mt.url, '--tenant', 'team-a']);
      expect(a.stdout.trim()).toBe('mt-app');
      const b = await cli(['query', 'label-values', 'service_name', '--url', mt.url, '--tenant', 'team-b']);
      expect(b.code).toBe(3);
    } finally {
      await mt.stop();
    }
  });

  it('falls back to Pyroscope APIs where Emberscope-only routes are missing, and sends credentials', async () => {
    // A stand-in for Grafana Pyroscope: no /api/v1/* routes (Go's "404 page not found"), the rest proxied.
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      if (req.url?.startsWith('/api/v1/')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        return;
      }
      const target = new URL(req.url ?? '/', url);
      const up = http.request(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const args = [
        '--query',
        `${CPU}{service_name=~"cli-(api|worker)"}`,
        '--from',
        since,
        '--sort',
        'total',
        '--output',
        'json',
      ];
      const direct = JSON.parse((await cli(['top', '--url', url, ...args])).stdout);
      const viaProxy = await cli(['top', '--url', proxyUrl, '--basic-auth', 'alice:secret', ...args]);
      expect(viaProxy.code, viaProxy.stderr).toBe(0);
      const fallback = JSON.parse(viaProxy.stdout);
      expect(fallback.total).toBe(direct.total);
      expect(fallback.functions).toEqual(direct.functions);
      expect(seen).toContain(`Basic ${Buffer.from('alice:secret').toString('base64')}`);

      const diff = await cli([
        'diff',
        '--url',
        proxyUrl,
        '--bearer-token',
        'tok',
        '--left',
        `${CPU}{service_name="cli-api"}`,
        '--right',
        `${CPU}{service_name="cli-worker"}`,
        '--from',
        since,
        '--output',
        'json',
      ]);
      expect(diff.code, diff.stderr).toBe(0);
      expect(
        JSON.parse(diff.stdout).rows.find((r: { name: string }) => r.name === 'json.Marshal'),
      ).toMatchObject({
        baselineTotal: 300_000_000,
        comparisonTotal: 100_000_000,
      });
      expect(seen).toContain('Bearer tok');

      const storage = await cli(['admin', 'storage', '--url', proxyUrl]);
      expect(storage.code).toBe(1);
      expect(storage.stderr.trim()).toBe(
        'emberscope admin: storage: not supported by this server (no GET /api/v1/status/storage)',
      );
    } finally {
      proxy.close();
    }
  });
});
