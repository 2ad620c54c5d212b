/**
 * `emberscope server` with TLS as an operator runs it (issue 6): HTTPS on --listen from the flags, and
 * configuration mistakes found at start (a missing half of the pair, a key that does not match, limits that
 * contradict each other) as one clear line on stderr with exit code 2, like a bad flag.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type TestCert } from '../support/certs.js';
import { cli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { CLI_BIN, REPO_ROOT } from '../support/server.js';

let dir: string;
let a: TestCert;
let b: TestCert;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-tls-'));
  a = makeCert(dir, 'a');
  b = makeCert(dir, 'b');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('emberscope server with TLS', () => {
  it('serves HTTPS and logs its https URL', async () => {
    const port = await freePort();
    const dataDir = path.join(dir, 'data');
    const proc = spawn(
      process.execPath,
      [
        CLI_BIN,
        'server',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
        '--tls-cert-file',
        a.certFile,
        '--tls-key-file',
        a.keyFile,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    proc.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      const url = `https://127.0.0.1:${port}`;
      let ready: { status: number; body: string } | undefined;
      for (const deadline = Date.now() + 30_000; !ready && Date.now() < deadline; ) {
        ready = await httpsGet(`${url}/ready`, a.cert).catch(() => undefined);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, log).toEqual({ status: 200, body: 'ready\n' });
      const listening = log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === 'listening');
      expect(listening.url).toBe(url);
    } finally {
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it.each([
    [
      ['--tls-cert-file', 'CERT_A'],
      /^emberscope server: --tls-cert-file and --tls-key-file must be set together/,
    ],
    [
      ['--tls-cert-file', 'CERT_A', '--tls-key-file', 'KEY_B'],
      /are not a usable pair: .*key values mismatch/,
    ],
    [
      ['--max-inflight-body-bytes', '1MiB'],
      /--max-inflight-body-bytes \(1 MiB\) must be at least --max-request-body/,
    ],
    [['--http-headers-timeout', '10m'], /--http-headers-timeout .* must not exceed --http-request-timeout/],
  ])('refuses to start with %j: exit 2 and one line', async (extra, message) => {
    const args = extra.map((x) => (x === 'CERT_A' ? a.certFile : x === 'KEY_B' ? b.keyFile : x));
    const res = await cli([
      'server',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      path.join(dir, 'bad'),
      ...args,
    ]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});
