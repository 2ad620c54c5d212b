import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../src/auth/index.js';
import { KeyStore, keyFilePath } from '../src/auth/keys.js';
import { cpuProfile, cpuType, mergedTotal, startTestServer } from './helpers.js';

/**
 * The authorization table: every route the server registers, with the access it must require. The
 * matrix below is generated from the server's own route table and must match this list exactly, so a
 * new route cannot be added without being placed here (and so in the matrix).
 */
const EXPECTED_ACCESS: Record<string, Access> = {
  'GET /api/v1/auth/whoami': 'public',
  'GET /ready': 'public',
  'GET /api/v1/status/buildinfo': 'public',
  'GET /api/v1/status/storage': 'admin',
  'GET /metrics': 'server-admin',
  'POST /api/v1/admin/retention': 'server-admin',
  'DELETE /api/v1/admin/services/:name': 'admin',
  'GET /api/v1/admin/keys': 'server-admin',
  'POST /api/v1/admin/keys': 'server-admin',
  'DELETE /api/v1/admin/keys/:id': 'server-admin',
  'POST /ingest': 'ingest',
  'POST /pyroscope/ingest': 'ingest',
  'POST /push.v1.PusherService/Push': 'ingest',
  'POST /querier.v1.QuerierService/ProfileTypes': 'read',
  'POST /querier.v1.QuerierService/LabelValues': 'read',
  'POST /querier.v1.QuerierService/LabelNames': 'read',
  'POST /querier.v1.QuerierService/Series': 'read',
  'POST /querier.v1.QuerierService/SelectMergeStacktraces': 'read',
  'POST /querier.v1.QuerierService/SelectMergeSpanProfile': 'read',
  'POST /querier.v1.QuerierService/SelectMergeProfile': 'read',
  'POST /querier.v1.QuerierService/SelectSeries': 'read',
  'POST /querier.v1.QuerierService/Diff': 'read',
  'POST /querier.v1.QuerierService/GetProfileStats': 'read',
  'GET /pyroscope/render': 'read',
  'GET /pyroscope/render-diff': 'read',
  'GET /pyroscope/label-values': 'read',
  'GET /api/v1/functions': 'read',
  'GET /api/v1/diff-table': 'read',
  'GET /render': 'read',
  'GET /render-diff': 'read',
  'GET /labels': 'read',
  'GET /label-values': 'read',
  'GET /api/apps': 'read',
  'GET /api/v1/targets': 'read',
  'GET /': 'public',
  'GET /single': 'public',
  'GET /comparison': 'public',
  'GET /diff': 'public',
  'GET /explore': 'public',
  'GET /adhoc': 'public',
  'GET /targets': 'public',
  'GET /assets/*': 'public',
};

/** cpuProfile records each sample as n × 10 ms of CPU. */
const SAMPLE_NS = 10_000_000;

type Caller = 'no key' | 'ingest key' | 'read key' | 'admin key' | 'other tenant key';
const CALLERS: Caller[] = ['no key', 'ingest key', 'read key', 'admin key', 'other tenant key'];

/** What each caller gets on a route of each access level: a status, or "allowed" (anything but 401/403). */
function expected(access: Access, caller: Caller): 401 | 403 | 'allowed' {
  if (access === 'public') return 'allowed';
  if (caller === 'no key') return 401;
  if (caller === 'other tenant key') return 403;
  if (caller === 'admin key') return 'allowed';
  if (access === 'admin' || access === 'server-admin') return 403;
  return caller === `${access} key` ? 'allowed' : 403;
}

describe('authorization', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  const keys = {} as Record<Exclude<Caller, 'no key'>, string>;

  beforeAll(async () => {
    t = await startTestServer({ auth_enabled: true, multitenancy_enabled: true });
    const store = new KeyStore(keyFilePath(t.dataDir));
    keys['ingest key'] = store.create({ role: 'ingest', tenant: 'tenant-a' }).key;
    keys['read key'] = store.create({ role: 'read', tenant: 'tenant-a' }).key;
    keys['admin key'] = store.create({ role: 'admin' }).key;
    // Bound to tenant-b: however high its role, it may not act on tenant-a.
    keys['other tenant key'] = store.create({ role: 'admin', tenant: 'tenant-b' }).key;
  });
  afterAll(() => t.stop());

  function concreteUrl(route: string): string {
    if (route === '/assets/*') {
      const dir = join(import.meta.dirname, '../../ui/dist/assets');
      return `/assets/${existsSync(dir) ? readdirSync(dir)[0] : 'missing.js'}`;
    }
    return route.replace(':name', 'no-such-service').replace(':id', '0000000000000000');
  }

  it('declares an access level for every route, exactly as the table says', () => {
    const got = Object.fromEntries(t.server.context.routes.map((r) => [`${r.method} ${r.url}`, r.access]));
    expect(got).toEqual(EXPECTED_ACCESS);
  });

  it('answers every route × caller as the table says (X-Scope-OrgID: tenant-a on every request)', async () => {
    const mismatches: string[] = [];
    const cells: string[] = [];
    for (const { method, url, access } of t.server.context.routes) {
      for (const caller of CALLERS) {
        const headers: Record<string, string> = { 'x-scope-orgid': 'tenant-a' };
        if (caller !== 'no key') headers.authorization = `Bearer ${keys[caller]}`;
        const hasBody = method === 'POST';
        if (hasBody) headers['content-type'] = 'application/json';
        const res = await fetch(`${t.url}${concreteUrl(url)}`, {
          method,
          headers,
          body: hasBody ? '{}' : undefined,
        });
        await res.arrayBuffer();
        const want = expected(access, caller);
        const ok = want === 'allowed' ? res.status !== 401 && res.status !== 403 : res.status === want;
        cells.push(`${method} ${url} | ${caller} | ${res.status}`);
        if (!ok) mismatches.push(`${method} ${url} as ${caller}: got ${res.status}, want ${want}`);
      }
    }
    expect(cells.length).toBe(Object.keys(EXPECTED_ACCESS).length * CALLERS.length);
    expect(mismatches).toEqual([]);
  });

  it('answers 401 with a challenge and a clear message, and 403 naming what is missing', async () => {
    const none = await fetch(`${t.url}/api/apps`, { headers: { 'x-scope-orgid': 'tenant-a' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="emberscope"');
    expect(((await none.json()) as { message: string }).message).toMatch(/API key is required/);

    const wrong = await fetch(`${t.url}/api/apps`, {
      headers: { authorization: 'Bearer emb_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/invalid API key/);

    const role = await fetch(`${t.url}/api/apps`, {
      headers: { authorization: `Bearer ${keys['ingest key']}` },
    });
    expect(role.status).toBe(403);
    expect(((await role.json()) as { message: string }).message).toMatch(
      /needs the read role .* this key has the ingest role/,
    );

    const tenant = await fetch(`${t.url}/api/apps`, {
      headers: { authorization: `Bearer ${keys['read key']}`, 'x-scope-orgid': 'tenant-b' },
    });
    expect(tenant.status).toBe(403);
    expect(((await tenant.json()) as { message: string }).message).toMatch(/bound to tenant "tenant-a"/);
  });

  it('accepts the key as a Basic auth password (how the SDKs and Grafana send it)', async () => {
    const basic = Buffer.from(`tenant-a:${keys['read key']}`).toString('base64');
    const res = await fetch(`${t.url}/api/apps`, { headers: { authorization: `Basic ${basic}` } });
    expect(res.status).toBe(200);
  });

  it('counts auth failures by reason in /metrics', async () => {
    await fetch(`${t.url}/api/apps`);
    const res = await fetch(`${t.url}/metrics`, {
      headers: { authorization: `Bearer ${keys['admin key']}` },
    });
    const text = await res.text();
    expect(text).toMatch(/emberscope_auth_failures_total\{reason="no_credentials"\} [1-9]/);
    expect(text).toMatch(/emberscope_auth_failures_total\{reason="forbidden_role"\} [1-9]/);
    expect(text).toMatch(/emberscope_auth_failures_total\{reason="forbidden_tenant"\} [1-9]/);
    expect(text).toMatch(/emberscope_auth_failures_total\{reason="invalid_key"\} [1-9]/);
  });

  it('tells the UI who it is (whoami is public)', async () => {
    const anonymous = await (await fetch(`${t.url}/api/v1/auth/whoami`)).json();
    expect(anonymous).toEqual({
      authEnabled: true,
      multitenancy: true,
      role: null,
      tenant: null,
      keyId: null,
      via: 'none',
    });
    const reader = await (
      await fetch(`${t.url}/api/v1/auth/whoami`, { headers: { authorization: `Bearer ${keys['read key']}` } })
    ).json();
    expect(reader).toMatchObject({
      authEnabled: true,
      multitenancy: true,
      role: 'read',
      tenant: 'tenant-a',
      via: 'key',
    });
    // A key bound to no tenant: no tenant until the caller names one, which is what the UI then asks for.
    const admin = { authorization: `Bearer ${keys['admin key']}` };
    const unbound = await (await fetch(`${t.url}/api/v1/auth/whoami`, { headers: admin })).json();
    expect(unbound).toMatchObject({ multitenancy: true, role: 'admin', tenant: null, via: 'key' });
    const named = await (
      await fetch(`${t.url}/api/v1/auth/whoami`, { headers: { ...admin, 'x-scope-orgid': 'tenant-c' } })
    ).json();
    expect(named).toMatchObject({ multitenancy: true, role: 'admin', tenant: 'tenant-c' });
  });

  it('sees keys created and revoked through the API, and by another process on the same file, at once', async () => {
    const admin = { authorization: `Bearer ${keys['admin key']}`, 'content-type': 'application/json' };
    const created = await fetch(`${t.url}/api/v1/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ role: 'read', tenant: 'tenant-c', description: 'dashboards' }),
    });
    expect(created.status).toBe(201);
    const { key, id } = (await created.json()) as { key: string; id: string };
    const use = () => fetch(`${t.url}/api/apps`, { headers: { authorization: `Bearer ${key}` } });
    expect((await use()).status).toBe(200);

    const listed = (await (await fetch(`${t.url}/api/v1/admin/keys`, { headers: admin })).json()) as {
      keys: Array<{ id: string }>;
    };
    expect(listed.keys.find((k) => k.id === id)).toMatchObject({
      role: 'read',
      tenant: 'tenant-c',
      description: 'dashboards',
    });
    expect(JSON.stringify(listed)).not.toContain(key);
    expect(readFileSync(keyFilePath(t.dataDir), 'utf8')).not.toContain(key.slice(-32));

    expect(
      (await fetch(`${t.url}/api/v1/admin/keys/${id}`, { method: 'DELETE', headers: admin })).status,
    ).toBe(200);
    expect((await use()).status).toBe(401);

    // Another process (the offline CLI) writes the same file: the server sees it on the next request.
    const other = new KeyStore(keyFilePath(t.dataDir));
    const offline = other.create({ role: 'read', tenant: 'tenant-a' });
    const useOffline = () =>
      fetch(`${t.url}/api/apps`, { headers: { authorization: `Bearer ${offline.key}` } });
    expect((await useOffline()).status).toBe(200);
    other.revoke(offline.record.id);
    expect((await useOffline()).status).toBe(401);
  });

  it('refuses key requests with a bad role or tenant', async () => {
    const admin = { authorization: `Bearer ${keys['admin key']}`, 'content-type': 'application/json' };
    const badRole = await fetch(`${t.url}/api/v1/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ role: 'root' }),
    });
    expect(badRole.status).toBe(400);
    expect(((await badRole.json()) as { message: string }).message).toMatch(
      /"role" must be one of ingest, read, admin/,
    );
    const badTenant = await fetch(`${t.url}/api/v1/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ role: 'read', tenant: '../etc' }),
    });
    expect(badTenant.status).toBe(400);
  });
});

describe('tenant isolation', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  const key = {} as Record<'a' | 'b' | 'aReader', string>;

  beforeAll(async () => {
    t = await startTestServer({ auth_enabled: true, multitenancy_enabled: true });
    const store = new KeyStore(keyFilePath(t.dataDir));
    key.a = store.create({ role: 'ingest', tenant: 'tenant-a' }).key;
    key.b = store.create({ role: 'admin', tenant: 'tenant-b' }).key;
    key.aReader = store.create({ role: 'read', tenant: 'tenant-a' }).key;
    for (const [k, service, value] of [
      [key.a, 'service-a', 7],
      [key.b, 'service-b', 11],
    ] as const) {
      const res = await fetch(`${t.url}/ingest?name=${service}&format=pprof`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k}` },
        body: cpuProfile({ [`main;${service}-secret-fn`]: value }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => t.stop());

  it('a tenant-bound key reads only its tenant, without sending X-Scope-OrgID', async () => {
    const a = { authorization: `Bearer ${key.aReader}` };
    const b = { authorization: `Bearer ${key.b}` };
    expect(await mergedTotal(t.url, cpuType, '{}', a)).toBe(7 * SAMPLE_NS);
    expect(await mergedTotal(t.url, cpuType, '{}', b)).toBe(11 * SAMPLE_NS);
    const appsA = await (await fetch(`${t.url}/api/apps`, { headers: a })).text();
    expect(appsA).toContain('service-a');
    expect(appsA).not.toContain('service-b');
    const render = await (
      await fetch(
        `${t.url}/pyroscope/render?query=${encodeURIComponent(`${cpuType}{}`)}&from=now-1d&until=now%2B1h`,
        {
          headers: a,
        },
      )
    ).text();
    expect(render).toContain('service-a-secret-fn');
    expect(render).not.toContain('service-b-secret-fn');
  });

  it('an admin key bound to a tenant deletes only in its tenant and cannot manage keys', async () => {
    const b = { authorization: `Bearer ${key.b}` };
    const del = await fetch(`${t.url}/api/v1/admin/services/service-a`, { method: 'DELETE', headers: b });
    expect(del.status).toBe(200);
    expect(await mergedTotal(t.url, cpuType, '{}', { authorization: `Bearer ${key.aReader}` })).toBe(
      7 * SAMPLE_NS,
    );
    expect((await fetch(`${t.url}/api/v1/admin/keys`, { headers: b })).status).toBe(403);
  });
});

describe('auth modes', () => {
  it('auth off (the default for a local start): every request is admin of tenant "anonymous"', async () => {
    const t = await startTestServer();
    try {
      const who = await (await fetch(`${t.url}/api/v1/auth/whoami`)).json();
      expect(who).toEqual({
        authEnabled: false,
        multitenancy: false,
        role: 'admin',
        tenant: 'anonymous',
        keyId: null,
        via: 'none',
      });
      expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it('multi-tenancy without auth: whoami says so and has no tenant until X-Scope-OrgID names one', async () => {
    const t = await startTestServer({ multitenancy_enabled: true });
    try {
      const who = await (await fetch(`${t.url}/api/v1/auth/whoami`)).json();
      expect(who).toEqual({
        authEnabled: false,
        multitenancy: true,
        role: 'admin',
        tenant: null,
        keyId: null,
        via: 'none',
      });
      const named = await (
        await fetch(`${t.url}/api/v1/auth/whoami`, { headers: { 'x-scope-orgid': 'team-x' } })
      ).json();
      expect(named).toMatchObject({ multitenancy: true, tenant: 'team-x' });
    } finally {
      await t.stop();
    }
  });

  it('trusts a configured reverse-proxy header with the configured role', async () => {
    const t = await startTestServer({ auth_enabled: true, auth_proxy_header: 'X-Forwarded-User' });
    try {
      const viaProxy = await fetch(`${t.url}/api/apps`, { headers: { 'x-forwarded-user': 'alice' } });
      expect(viaProxy.status).toBe(200);
      const write = await fetch(`${t.url}/ingest?name=x`, {
        method: 'POST',
        headers: { 'x-forwarded-user': 'alice' },
        body: cpuProfile({ main: 1 }),
      });
      expect(write.status).toBe(403);
      expect((await fetch(`${t.url}/api/apps`)).status).toBe(401);
    } finally {
      await t.stop();
    }
  });
});
