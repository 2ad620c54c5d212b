/**
 * Authentication and tenant isolation end to end: keys made by the `emberscope` command line (offline on
 * the data directory, then through the running server), a real server process with --auth-enabled and
 * multi-tenancy, and the unchanged Go, Python and Node SDKs sending with those keys (Basic auth for Go and
 * Python, Bearer for Node) into two tenants. Every read surface of one tenant is then checked for the
 * other tenant's service names and function names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { type ClientOptions, runGoClient, runNodeClient, runPythonClient } from '../support/clients.js';
import { type RunningServer, startServer } from '../support/server.js';

const suffix = Math.random().toString(36).slice(2, 8);
/** Tenant A: the Go and Node clients. Tenant B: the Python client. */
const APPS = { goA: `go-a-${suffix}`, nodeA: `node-a-${suffix}`, pyB: `py-b-${suffix}` };
/** Function names only one tenant's programs have (see testdata/clients). */
const ONLY_A = [APPS.goA, APPS.nodeA, 'main.burnCPU', 'hashLoop'];
const ONLY_B = [APPS.pyB, 'burn_fib'];
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

let server: RunningServer;
let dataDir: string;
const keys: Record<string, string> = {};

async function createKey(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const run = await cli(['admin', 'keys', 'create', ...args], env);
  expect(run.code, run.stderr).toBe(0);
  const key = run.stdout.trim();
  expect(key).toMatch(/^emb_[0-9a-f]{16}_[A-Za-z0-9_-]{32}$/);
  return key;
}

function clientOptions(appName: string, apiKey: string, tenantId?: string): ClientOptions {
  return { serverAddress: server.url, appName, runSeconds: 5, uploadMs: 1000, apiKey, tenantId };
}

const range = () => ({ start: Date.now() - 3_600_000, end: Date.now() + 600_000 });

async function call(
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  // pprof exports are gzip'd: look inside them.
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return { status: res.status, text: plain.toString('latin1') };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-auth-'));
  // The first admin key is made offline, before the server runs.
  keys.admin = await createKey(['--role', 'admin', '--data-dir', dataDir, '--description', 'bootstrap']);
  server = await startServer({
    name: 'e2e-auth',
    dataDir,
    args: ['--auth-enabled', '--multitenancy-enabled'],
  });
  // The rest through the running server, with the admin key.
  const online = (role: string, tenant: string) =>
    createKey(['--role', role, '--tenant', tenant, '--url', server.url, '--api-key', keys.admin]);
  keys.ingestA = await online('ingest', 'tenant-a');
  keys.ingestB = await online('ingest', 'tenant-b');
  keys.readA = await online('read', 'tenant-a');
  keys.readB = await online('read', 'tenant-b');
  keys.adminA = await online('admin', 'tenant-a');
  keys.adminB = await online('admin', 'tenant-b');

  const runs = await Promise.all([
    runGoClient(clientOptions(APPS.goA, keys.ingestA, 'tenant-a')),
    runNodeClient(clientOptions(APPS.nodeA, keys.ingestA)), // bound key: no X-Scope-OrgID needed
    runPythonClient(clientOptions(APPS.pyB, keys.ingestB, 'tenant-b')),
  ]);
  for (const run of runs) expect(run.code, run.stderr.slice(-2000)).toBe(0);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('tenant isolation with the real clients', () => {
  it('each tenant received its own clients data', async () => {
    const apps = (key: string) =>
      call(key, 'POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() });
    const a = await apps(keys.readA);
    const b = await apps(keys.readB);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text).names).toEqual([APPS.goA, APPS.nodeA].sort());
    expect(JSON.parse(b.text).names).toEqual([APPS.pyB]);
  });

  it('no read surface of one tenant carries a byte of the other tenant', async () => {
    /** Every read route, as [method, url, body?, whether the answer must show the tenant's own data]. */
    const surfaces = (app: string, type: string) => {
      const own = encodeURIComponent(`${type}{service_name="${app}"}`);
      const og = encodeURIComponent(`${app}.cpu{}`);
      const span = 'from=now-1h&until=now%2B10m';
      const r = range();
      const merge = { profileTypeID: type, labelSelector: '{}', ...r };
      return [
        ['POST', '/querier.v1.QuerierService/ProfileTypes', r, false],
        ['POST', '/querier.v1.QuerierService/LabelNames', { matchers: [], ...r }, false],
        ['POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...r }, true],
        ['POST', '/querier.v1.QuerierService/Series', { matchers: [], ...r }, true],
        ['POST', '/querier.v1.QuerierService/SelectMergeStacktraces', merge, true],
        ['POST', '/querier.v1.QuerierService/SelectMergeProfile', merge, true],
        [
          'POST',
          '/querier.v1.QuerierService/SelectSeries',
          { ...merge, groupBy: ['service_name'], step: 60 },
          true,
        ],
        ['POST', '/querier.v1.QuerierService/GetProfileStats', {}, false],
        ['GET', `/pyroscope/render?query=${own}&${span}`, undefined, true],
        ['GET', `/pyroscope/render?query=${own}&${span}&format=dot`, undefined, true],
        [
          'GET',
          `/pyroscope/render-diff?leftQuery=${own}&rightQuery=${own}&leftFrom=now-1h&leftUntil=now%2B10m&rightFrom=now-1h&rightUntil=now%2B10m`,
          undefined,
          true,
        ],
        ['GET', `/pyroscope/label-values?label=service_name&${span}`, undefined, true],
        ['GET', `/api/v1/functions?query=${own}&${span}`, undefined, true],
        ['GET', `/render?query=${og}&${span}&format=collapsed`, undefined, true],
        ['GET', `/render?query=${og}&${span}&format=pprof`, undefined, true],
        ['GET', `/render?query=${og}&${span}&format=html`, undefined, true],
        ['GET', `/labels?${span}`, undefined, false],
        ['GET', `/label-values?label=service_name&${span}`, undefined, true],
        ['GET', '/api/apps', undefined, true],
        ['GET', '/api/v1/targets', undefined, false],
      ] as Array<[string, string, unknown, boolean]>;
    };
    const leaks: string[] = [];
    const failures: string[] = [];
    const check = async (
      key: string,
      role: string,
      app: string,
      type: string,
      own: string[],
      foreign: string[],
    ) => {
      for (const [method, url, body, showsData] of surfaces(app, type)) {
        const { status, text } = await call(key, method, url, body);
        if (status !== 200) failures.push(`${role} ${method} ${url}: ${status} ${text.slice(0, 200)}`);
        else if (showsData && !own.some((word) => text.includes(word)))
          failures.push(`${role} ${method} ${url}: none of its own data (${own.join(', ')})`);
        for (const word of foreign)
          if (text.includes(word)) leaks.push(`${role} ${method} ${url} contains ${word}`);
      }
    };
    await check(keys.readA, 'reader A', APPS.goA, CPU, ONLY_A, ONLY_B);
    await check(keys.readB, 'reader B', APPS.pyB, CPU, ONLY_B, ONLY_A);
    // The admin report of each tenant, too.
    for (const [key, role, foreign] of [
      [keys.adminA, 'admin A', ONLY_B],
      [keys.adminB, 'admin B', ONLY_A],
    ] as const) {
      const { status, text } = await call(key, 'GET', '/api/v1/status/storage');
      if (status !== 200) failures.push(`${role} storage report: ${status}`);
      for (const word of [...foreign, role === 'admin A' ? 'tenant-b' : 'tenant-a'])
        if (text.includes(word)) leaks.push(`${role} storage report contains ${word}`);
    }
    expect(failures).toEqual([]);
    expect(leaks).toEqual([]);
  });

  it('a key cannot write to or read from another tenant by naming it', async () => {
    const read = await fetch(`${server.url}/api/apps`, {
      headers: { authorization: `Bearer ${keys.readA}`, 'x-scope-orgid': 'tenant-b' },
    });
    expect(read.status).toBe(403);
    const write = await fetch(`${server.url}/ingest?name=intruder&format=folded`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ingestA}`, 'x-scope-orgid': 'tenant-b' },
      body: 'main;intruder 1\n',
    });
    expect(write.status).toBe(403);
    const b = await call(keys.readB, 'GET', '/api/apps');
    expect(b.text).not.toContain('intruder');
  });

  it('the CLI lists keys without secrets and a revoked key is refused on the next request', async () => {
    // The key from the environment this time.
    const list = await cli(['admin', 'keys', 'list', '--output', 'json', '--url', server.url], {
      EMBERSCOPE_API_KEY: keys.admin,
    });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {
      keys: Array<{ id: string; role: string; tenant: string | null }>;
    };
    expect(listed.keys).toHaveLength(7);
    for (const key of Object.values(keys)) expect(list.stdout).not.toContain(key.slice(-32));

    const idB = keys.ingestB.split('_')[1];
    const before = await fetch(`${server.url}/ingest?name=late&format=folded`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ingestB}` },
      body: 'main;late 1\n',
    });
    expect(before.status).toBe(200);
    // Revoked offline on the data directory while the server runs.
    const revoke = await cli(['admin', 'keys', 'revoke', idB, '--data-dir', dataDir]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const after = await fetch(`${server.url}/ingest?name=late&format=folded`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`x:${keys.ingestB}`).toString('base64')}` },
      body: 'main;late 1\n',
    });
    expect(after.status).toBe(401);
  });
});
