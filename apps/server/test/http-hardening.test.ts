import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, serverHelp } from '../src/index.js';
import { CONTENT_SECURITY_POLICY, STANDALONE_PAGE_CSP } from '../src/security-headers.js';
import { RawConnection, startCapturingServer } from './capture.js';

describe('slow and oversized clients', () => {
  let s: Awaited<ReturnType<typeof startCapturingServer>>;
  beforeAll(async () => {
    s = await startCapturingServer(
      { http_headers_timeout: 1000, http_request_timeout: 10_000, max_header_size: 4096 },
      'info',
    );
  });
  afterAll(() => s.stop());

  test('a client trickling its headers is answered 408 and disconnected; others are served meanwhile', async () => {
    const loris = new RawConnection(s.url);
    await loris.write('POST /ingest?name=loris.cpu HTTP/1.1\r\nHost: x\r\n');
    // One more header line every 100 ms, forever: only the headers deadline ends this.
    let n = 0;
    const trickle = setInterval(() => {
      if (!loris.socket.destroyed) loris.socket.write(`X-Slow-${n++}: a\r\n`);
    }, 100);
    try {
      const ready = await fetch(`${s.url}/ready`);
      expect(ready.status).toBe(200);
      await loris.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(loris.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const body = JSON.parse(loris.received.slice(loris.received.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({
      code: 'deadline_exceeded',
      message: 'request not received in time: headers within 1s, the whole request within 10s',
    });
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  });

  test('a request head over max_header_size is answered 431 naming the limit', async () => {
    const res = await fetch(`${s.url}/ready`, { headers: { 'x-big': 'a'.repeat(5000) } });
    expect(res.status).toBe(431);
    expect(await res.json()).toEqual({
      code: 'resource_exhausted',
      message: 'request URL and headers exceed the 4 KiB limit',
    });
    expect((await fetch(`${s.url}/ready`, { headers: { 'x-small': 'a'.repeat(2000) } })).status).toBe(200);
  });

  test('refusals before any route are counted too', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(
      /^emberscope_request_errors_total\{route="\(connection\)",status="408",reason="request_timeout"\} 1$/m,
    );
    expect(text).toMatch(
      /^emberscope_request_errors_total\{route="\(connection\)",status="431",reason="headers_too_large"\} 1$/m,
    );
  });

  test('the Node server carries the configured deadlines', () => {
    const server = s.server.app.server;
    expect(server.headersTimeout).toBe(1000);
    expect(server.requestTimeout).toBe(10_000);
    expect(server.keepAliveTimeout).toBe(72_000);
  });
});

describe('HTTP limit options', () => {
  test('are flags, variables and YAML keys with documented defaults', () => {
    const config = loadConfig(
      ['--http-request-timeout', '2m', '--http-headers-timeout=20s', '--max-header-size', '32KiB'],
      { EMBERSCOPE_HTTP_KEEP_ALIVE_TIMEOUT: '90s' },
    );
    expect(config).toMatchObject({
      http_request_timeout: 120_000,
      http_headers_timeout: 20_000,
      http_keep_alive_timeout: 90_000,
      max_header_size: 32 * 1024,
    });
    const defaults = loadConfig([], {});
    expect(defaults).toMatchObject({
      http_request_timeout: 300_000,
      http_headers_timeout: 30_000,
      http_keep_alive_timeout: 72_000,
      max_header_size: 16 * 1024,
      max_inflight_body_bytes: 256 * 1024 * 1024,
      max_wal_pending_bytes: 64 * 1024 * 1024,
      max_wal_pending_appends: 1024,
      min_free_disk_bytes: 512 * 1024 * 1024,
      tls_cert_file: '',
      tls_key_file: '',
    });
    const help = serverHelp();
    expect(help).toContain('--http-request-timeout DURATION');
    expect(help).toContain(
      'default 5m; env EMBERSCOPE_HTTP_REQUEST_TIMEOUT; config key http_request_timeout',
    );
    expect(help).toContain('default none; env EMBERSCOPE_TLS_CERT_FILE; config key tls_cert_file');
    expect(help).toContain(
      'default 512MiB; env EMBERSCOPE_MIN_FREE_DISK_BYTES; config key min_free_disk_bytes',
    );
  });

  test('contradicting deadlines stop the start', async () => {
    await expect(
      startCapturingServer({ http_headers_timeout: 60_000, http_request_timeout: 30_000 }),
    ).rejects.toThrow(
      new ConfigError('--http-headers-timeout (60000 ms) must not exceed --http-request-timeout (30000 ms)'),
    );
    await expect(startCapturingServer({ http_headers_timeout: 0 })).rejects.toThrow(/must be more than 0/);
  });
});

describe('security headers', () => {
  let s: Awaited<ReturnType<typeof startCapturingServer>>;
  beforeAll(async () => {
    s = await startCapturingServer({}, 'info');
  });
  afterAll(() => s.stop());

  test('every response of the UI and the API carries them; HSTS only with TLS', async () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    const responses = [
      await fetch(`${s.url}/`),
      await fetch(`${s.url}/ready`),
      await fetch(`${s.url}/metrics`),
      await fetch(`${s.url}/nope`),
      await fetch(`${s.url}/ingest?name=bad%20name!`, { method: 'POST', body: 'a 1\n' }),
      await fetch(`${s.url}/querier.v1.QuerierService/ProfileTypes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ];
    for (const res of responses) {
      const where = `${res.url} ${res.status}`;
      expect(res.headers.get('content-security-policy'), where).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options'), where).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), where).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), where).toBe('DENY');
      expect(res.headers.get('cross-origin-opener-policy'), where).toBe('same-origin');
      expect(res.headers.get('strict-transport-security'), where).toBeNull();
    }
    expect(responses.map((r) => r.status)).toEqual([expect.any(Number), 200, 200, 404, 400, 200]);
  });

  test('the standalone HTML exports carry their own policy, which allows their inline viewer and nothing else', async () => {
    const res = await fetch(
      `${s.url}/render?query=${encodeURIComponent('app.cpu{}')}&from=now-1h&until=now&format=html`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(STANDALONE_PAGE_CSP);
    expect(STANDALONE_PAGE_CSP).toBe(
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('no secrets in logs', () => {
  const secrets = [
    'sekrit-header-1',
    'sekrit-query-2',
    'sekrit-cookie-3',
    'sekrit-apikey-4',
    'sekrit-token-5',
  ];

  test('requests carrying credentials in headers and query strings leave no trace of them in the log', async () => {
    const s = await startCapturingServer({}, 'debug');
    try {
      const headers = {
        authorization: `Bearer ${secrets[0]}`,
        cookie: `session=${secrets[2]}`,
        'x-api-key': secrets[3],
      };
      // Refused and failing requests are the ones that get logged.
      await fetch(`${s.url}/ingest?name=bad%20name!&api_key=${secrets[1]}`, {
        method: 'POST',
        body: 'a 1\n',
        headers,
      });
      await fetch(`${s.url}/ingest?name=x.cpu&token=${secrets[4]}`, {
        method: 'POST',
        body: 'a notanumber\n',
        headers,
      });
      await fetch(`${s.url}/nope?api_key=${secrets[1]}`, { headers });
      await fetch(`${s.url}/querier.v1.QuerierService/SelectMergeStacktraces?api_key=${secrets[1]}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"profileTypeID":"nope"}',
      });
      // Whatever Fastify or a route logs about a request goes through the same serializers and redaction.
      const fake = {
        method: 'POST',
        url: `/ingest?name=a&api_key=${secrets[1]}`,
        headers,
        ip: '127.0.0.1',
        socket: { remotePort: 1 },
      };
      s.server.app.log.error({ req: fake, headers, err: new Error(`failed /x?token=${secrets[4]}`) }, 'boom');
      s.server.context.log.warn({
        job: { basic_auth: { password: secrets[4] }, authorization: headers.authorization },
      });
      const text = s.logText();
      expect(text).toMatch(/request refused/);
      expect(text).toMatch(/"msg":"boom"/);
      for (const secret of secrets) expect(text).not.toContain(secret);
      const boom = s.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'boom');
      expect(boom.req).toEqual({ method: 'POST', url: '/ingest', remoteAddress: '127.0.0.1', remotePort: 1 });
      expect(boom.headers).toEqual({
        authorization: '[redacted]',
        cookie: '[redacted]',
        'x-api-key': '[redacted]',
      });
      expect(boom.err.message).toBe('failed /x?token=[redacted]');
    } finally {
      await s.stop();
    }
  });
});
