import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectJson, cpuProfile, cpuType, mergedTotal, startTestServer } from './helpers.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

// biome-ignore lint/suspicious/noExplicitAny: error bodies and protojson are checked field by field.
const json = async (res: Response): Promise<any> => res.json();

function ingest(url: string, query: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  return fetch(`${url}/ingest?${query}`, { method: 'POST', body, headers });
}

describe('status routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  test('GET /ready answers "ready"', async () => {
    const res = await fetch(`${s.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ready\n');
  });

  test('GET /api/v1/status/buildinfo has Pyroscope shape', async () => {
    const body = await json(await fetch(`${s.url}/api/v1/status/buildinfo`));
    expect(body.status).toBe('success');
    expect(body.data).toMatchObject({
      version: expect.any(String),
      revision: expect.any(String),
      branch: expect.any(String),
    });
  });

  test('GET /metrics counts ingested profiles, samples, bytes and errors', async () => {
    const body = cpuProfile({ 'main;work': 3, 'main;idle': 1 });
    expect((await ingest(s.url, 'name=metrics-app&format=pprof', body)).status).toBe(200);
    expect((await ingest(s.url, 'name=bad%20name!&format=pprof', body)).status).toBe(400);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/^emberscope_ingested_profiles_total\{tenant="anonymous",route="ingest"\} 1$/m);
    expect(text).toMatch(/^emberscope_ingested_samples_total\{tenant="anonymous",route="ingest"\} 2$/m);
    expect(text).toMatch(
      new RegExp(
        `^emberscope_ingested_bytes_total\\{tenant="anonymous",route="ingest"\\} ${body.length}$`,
        'm',
      ),
    );
    expect(text).toMatch(
      /^emberscope_request_errors_total\{route="\/ingest",status="400",reason="[a-z_]+"\} 1$/m,
    );
    expect(text).toMatch(/^emberscope_head_bytes \d+/m);
    expect(text).toMatch(/^emberscope_wal_bytes \d+/m);
  });

  test('unknown routes get a JSON 404', async () => {
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ code: 'not_found', message: 'no route for GET /nope' });
  });
});

describe('tenants', () => {
  test('without multi-tenancy, X-Scope-OrgID is ignored and everything is "anonymous"', async () => {
    const s = await startTestServer();
    try {
      const body = cpuProfile({ 'a;b': 5 });
      expect(
        (await ingest(s.url, 'name=t-app&format=pprof', body, { 'x-scope-orgid': 'tenant-a' })).status,
      ).toBe(200);
      expect(await mergedTotal(s.url, cpuType)).toBe(50_000_000);
      expect(await mergedTotal(s.url, cpuType, '{}', { 'x-scope-orgid': 'other' })).toBe(50_000_000);
    } finally {
      await s.stop();
    }
  });

  test('with multi-tenancy, the header is required (401) and tenants are isolated', async () => {
    const s = await startTestServer({ multitenancy_enabled: true });
    try {
      const res = await ingest(s.url, 'name=t-app&format=pprof', cpuProfile({ 'a;b': 1 }));
      expect(res.status).toBe(401);
      expect(await json(res)).toEqual({
        code: 'unauthenticated',
        message: expect.stringContaining('X-Scope-OrgID'),
      });
      expect((await connectJson(s.url, 'ProfileTypes', {})).status).toBe(401);

      const a = { 'x-scope-orgid': 'tenant-a' };
      const b = { 'x-scope-orgid': 'tenant-b' };
      expect((await ingest(s.url, 'name=app-a&format=pprof', cpuProfile({ 'a;b': 2 }), a)).status).toBe(200);
      expect((await ingest(s.url, 'name=app-b&format=pprof', cpuProfile({ 'c;d': 7 }), b)).status).toBe(200);
      expect(await mergedTotal(s.url, cpuType, '{}', a)).toBe(20_000_000);
      expect(await mergedTotal(s.url, cpuType, '{}', b)).toBe(70_000_000);
      const values = await connectJson(s.url, 'LabelValues', { name: 'service_name' }, a);
      expect(values.body.names).toEqual(['app-a']);
      const bad = await ingest(s.url, 'name=x&format=pprof', cpuProfile({ a: 1 }), {
        'x-scope-orgid': '../etc',
      });
      expect(bad.status).toBe(400);
    } finally {
      await s.stop();
    }
  });
});

describe('bad input is refused with the documented status, and nothing stored is lost', () => {
  let s: TestServer;
  const good = cpuProfile({ 'main;handler;json.Marshal': 7, 'main;handler': 3 });
  beforeAll(async () => {
    s = await startTestServer({ max_request_body: 1024 * 1024, max_profile_size: 256 * 1024 });
    expect((await ingest(s.url, 'name=victim&format=pprof', good)).status).toBe(200);
  });
  afterAll(async () => {
    // The server is still up and the first profile is intact.
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
    expect(await mergedTotal(s.url, cpuType, '{service_name="victim"}')).toBe(100_000_000);
    await s.stop();
  });

  async function expectError(res: Response, status: number, message: RegExp) {
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(status);
    expect(body.code).toEqual(expect.any(String));
    expect(body.message).toMatch(message);
  }

  test('truncated pprof → 422 at every cut', async () => {
    for (const cut of [1, 7, Math.floor(good.length / 2), good.length - 1])
      await expectError(await ingest(s.url, 'name=x&format=pprof', good.subarray(0, cut)), 422, /\S/);
  });

  test('corrupted varint → 422', async () => {
    // Field 9 (time_nanos, a varint) followed by 11 continuation bytes.
    const bad = Buffer.concat([Buffer.from([0x48]), Buffer.alloc(11, 0xff)]);
    await expectError(await ingest(s.url, 'name=x&format=pprof', bad), 422, /varint/i);
  });

  test('absurd location id → 422 naming it', async () => {
    const bad = cpuProfile({ 'a;b': 1 });
    // Rewrite a location id reference: build a profile whose sample references location 999999.
    const { Profile } = await import('pprof-format');
    const p = Profile.decode(bad);
    p.sample[0].locationId = [999_999];
    await expectError(await ingest(s.url, 'name=x&format=pprof', Buffer.from(p.encode())), 422, /999999/);
  });

  test('gzip bomb in Content-Encoding → 413 while decompressing', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expectError(
      await ingest(s.url, 'name=x&format=pprof', bomb, { 'content-encoding': 'gzip' }),
      413,
      /decompress/,
    );
  });

  test('gzip bomb inside the pprof body → refused as too large', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const res = await ingest(s.url, 'name=x&format=pprof', bomb);
    expect([413, 422]).toContain(res.status);
    expect((await json(res)).message).toMatch(/large|exceed|limit/i);
  });

  test('label floods: 1,000 labels in the name → 422 (pprof path, as Pyroscope); 10,000 overflow the URL → 431; 10,000 via Push → 400', async () => {
    const labels = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`);
    const name = (n: number) => encodeURIComponent(`app{${labels(n).join(',')}}`);
    await expectError(
      await ingest(s.url, `name=${name(1000)}&format=pprof`, good),
      422,
      /more than the limit of 30/,
    );
    await expectError(await ingest(s.url, `name=${name(10_000)}&format=pprof`, good), 431, /header|URL/i);
    const push = {
      series: [
        {
          labels: [
            { name: '__name__', value: 'process_cpu' },
            ...labels(10_000).map((kv) => ({ name: kv.split('=')[0], value: 'v' })),
          ],
          samples: [{ rawProfile: good.toString('base64') }],
        },
      ],
    };
    const res = await fetch(`${s.url}/push.v1.PusherService/Push`, {
      method: 'POST',
      body: JSON.stringify(push),
      headers: { 'content-type': 'application/json' },
    });
    await expectError(res, 400, /labels/i);
  });

  test('malformed names → 400', async () => {
    for (const name of ['', 'bad name!', 'app{k-y=v}', 'app{=v}'])
      await expectError(
        await ingest(s.url, `name=${encodeURIComponent(name)}&format=pprof`, good),
        400,
        /\S/,
      );
  });

  test('unparseable from/until are read as "now", as Pyroscope does', async () => {
    const res = await ingest(s.url, 'name=timey&from=yesterday-ish&until=%%%&format=folded', 'a;b 1\n');
    expect(res.status).toBe(200);
  });

  test('folded body with a bad count → 422', async () => {
    await expectError(await ingest(s.url, 'name=x.cpu', 'a;b notanumber\n'), 422, /notanumber|count/);
  });

  test('JFR is not supported yet: a clear 4xx', async () => {
    const res = await ingest(s.url, 'name=x&format=jfr', 'whatever');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await json(res)).message).toMatch(/jfr/i);
  });

  test('a body far over the limit is refused with 413 without reading it', async () => {
    // Announce 10 GB and send only the headers: the answer must come without the body.
    const { port } = new URL(s.url);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /ingest?name=x&format=pprof HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000000\r\n\r\n',
        );
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
        if (data.includes('\r\n\r\n') && data.includes('}')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer; got ${JSON.stringify(data)}`)), 5000);
    });
    expect(response).toMatch(/^HTTP\/1\.1 413/);
    expect(response).toMatch(/too_large|too large/i);
  });

  test('Connect: wrong content type → 415, garbage protobuf → 400', async () => {
    const push = (body: Uint8Array, contentType: string) =>
      fetch(`${s.url}/push.v1.PusherService/Push`, {
        method: 'POST',
        body,
        headers: { 'content-type': contentType },
      });
    await expectError(await push(Buffer.from('x'), 'text/plain'), 415, /Content-Type/);
    await expectError(
      await push(Buffer.from([0x0a, 0xff, 0xff, 0xff]), 'application/proto'),
      400,
      /PushRequest/,
    );
  });
});

describe('limits answer 429', () => {
  test('series per tenant', async () => {
    const s = await startTestServer({ max_series_per_tenant: 2 });
    try {
      expect((await ingest(s.url, 'name=one&format=pprof', cpuProfile({ a: 1 }))).status).toBe(200); // 2 series: samples, cpu
      const res = await ingest(s.url, 'name=two&format=pprof', cpuProfile({ a: 1 }));
      expect(res.status).toBe(429);
      expect(await json(res)).toEqual({
        code: 'resource_exhausted',
        message: expect.stringMatching(/series/),
      });
    } finally {
      await s.stop();
    }
  });

  test('ingestion rate per tenant over HTTP: a body larger than the burst is refused', async () => {
    const s = await startTestServer({ ingestion_rate_mb: 1, ingestion_burst_mb: 1 });
    try {
      const small = await ingest(s.url, 'name=rate.cpu', 'main;work 1\n');
      expect(small.status).toBe(200);
      const res = await ingest(
        s.url,
        'name=rate.cpu',
        Buffer.alloc(30 * 50_000, 'main;aaaaaaaaaa;bbbbbbbbbbbb 1\n'),
      );
      expect(res.status).toBe(429);
      expect((await json(res)).message).toMatch(/can never fit tenant anonymous's ingestion burst of 1 MB/);
    } finally {
      await s.stop();
    }
  });
});
