import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeCert, type TestCert } from '../../../test/support/certs.js';
import { ConfigError } from '../src/index.js';
import { TlsReloader } from '../src/tls.js';
import { startCapturingServer } from './capture.js';

let dir: string;
let a: TestCert;
let b: TestCert;
let c: TestCert;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emberscope-tls-'));
  a = makeCert(dir, 'a', { commonName: 'emberscope-a' });
  b = makeCert(dir, 'b', { commonName: 'emberscope-b' });
  c = makeCert(dir, 'c', { commonName: 'emberscope-c' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET over HTTPS trusting `ca`. */
function httpsGet(
  url: string,
  ca: Buffer[],
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** The common name of the certificate a new TLS connection is served. */
function servedName(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

/** Replaces a file the way certificate managers do: write a new file, rename it over the old one. */
function replace(file: string, content: Buffer): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('HTTPS', () => {
  test('serves HTTPS with the configured pair, reports an https URL and sends HSTS', async () => {
    const s = await startCapturingServer({ tls_cert_file: a.certFile, tls_key_file: a.keyFile }, 'info');
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const listening = s.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
      expect(listening).toMatchObject({ url: s.url, subject: 'CN=emberscope-a' });
      expect(s.logText()).toContain(`"msg":"Server listening at ${s.url}"`);
      const res = await httpsGet(`${s.url}/ready`, [a.cert]);
      expect(res.status).toBe(200);
      expect(res.body).toBe('ready\n');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      // A client that does not trust the certificate is refused by its own TLS check.
      await expect(httpsGet(`${s.url}/ready`, [b.cert])).rejects.toThrow(
        /self[- ]signed|unable to verify|certificate/i,
      );
    } finally {
      await s.stop();
    }
  });

  test('reloads a rotated pair without restart and keeps the old one when the new pair is invalid', async () => {
    const live = mkdtempSync(join(dir, 'live-'));
    const certFile = join(live, 'tls.crt');
    const keyFile = join(live, 'tls.key');
    writeFileSync(certFile, a.cert);
    writeFileSync(keyFile, a.key);
    const s = await startCapturingServer({ tls_cert_file: certFile, tls_key_file: keyFile }, 'info');
    const metric = async (result: string) => {
      const text = (await httpsGet(`${s.url}/metrics`, [a.cert, b.cert])).body;
      return Number(
        new RegExp(`^emberscope_tls_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    };
    try {
      expect(await servedName(s.url)).toBe('emberscope-a');

      replace(keyFile, b.key);
      replace(certFile, b.cert);
      await until('the rotated certificate', async () =>
        (await servedName(s.url)) === 'emberscope-b' ? true : undefined,
      );
      expect((await httpsGet(`${s.url}/ready`, [b.cert])).status).toBe(200);
      expect(await metric('success')).toBeGreaterThanOrEqual(1);
      const text = (await httpsGet(`${s.url}/metrics`, [b.cert])).body;
      const expiry = Number(/^emberscope_tls_certificate_expiry_timestamp_seconds (\d+)$/m.exec(text)?.[1]);
      expect(expiry * 1000).toBeGreaterThan(Date.now());

      // A certificate that does not match the key: refused, logged, counted; the server keeps serving b.
      const failuresBefore = await metric('failure');
      replace(certFile, c.cert);
      await until('the failed reload', async () =>
        (await metric('failure')) > failuresBefore ? true : undefined,
      );
      expect(await servedName(s.url)).toBe('emberscope-b');
      expect((await httpsGet(`${s.url}/ready`, [b.cert])).status).toBe(200);
      const failure = s.lines
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === 'TLS certificate reload failed; still serving the previous certificate');
      expect(failure).toMatchObject({
        level: 50,
        certFile,
        keyFile,
        serving: { subject: 'CN=emberscope-b' },
      });
      expect(failure.error).toMatch(/not a usable pair/);
    } finally {
      await s.stop();
    }
  });

  test('TlsReloader: unchanged files do nothing; a bad pair is logged once and never installed', async () => {
    const live = mkdtempSync(join(dir, 'unit-'));
    const files = { certFile: join(live, 'tls.crt'), keyFile: join(live, 'tls.key') };
    writeFileSync(files.certFile, a.cert);
    writeFileSync(files.keyFile, a.key);
    const installed: unknown[] = [];
    const lines: string[] = [];
    const reloader = new TlsReloader(
      { setSecureContext: (ctx) => void installed.push(ctx) },
      files,
      { cert: a.cert, key: a.key },
      pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
      new Registry(),
    );
    expect(await reloader.reload()).toBe('unchanged');
    writeFileSync(files.certFile, 'not a certificate');
    expect(await reloader.reload()).toBe('failed');
    expect(await reloader.reload()).toBe('failed');
    expect(lines.filter((l) => l.includes('reload failed'))).toHaveLength(1);
    writeFileSync(files.certFile, b.cert);
    writeFileSync(files.keyFile, b.key);
    expect(await reloader.reload()).toBe('reloaded');
    expect(installed).toEqual([{ cert: b.cert, key: b.key }]);
    expect(lines.filter((l) => l.includes('TLS certificate reloaded'))).toHaveLength(1);
  });

  test('a missing half, an unreadable file or a mismatched pair stops the start with a clear error', async () => {
    await expect(startCapturingServer({ tls_cert_file: a.certFile })).rejects.toThrow(
      new ConfigError(
        '--tls-cert-file and --tls-key-file must be set together (only --tls-cert-file is set)',
      ),
    );
    await expect(startCapturingServer({ tls_key_file: a.keyFile })).rejects.toThrow(
      /must be set together \(only --tls-key-file is set\)/,
    );
    const missing = join(dir, 'missing.crt');
    await expect(startCapturingServer({ tls_cert_file: missing, tls_key_file: a.keyFile })).rejects.toThrow(
      new RegExp(`cannot read the TLS certificate file ${missing}: ENOENT`),
    );
    const mismatched = startCapturingServer({ tls_cert_file: a.certFile, tls_key_file: b.keyFile });
    await expect(mismatched).rejects.toBeInstanceOf(ConfigError);
    await expect(mismatched).rejects.toThrow(/are not a usable pair: .*key values mismatch/);
  });
});
