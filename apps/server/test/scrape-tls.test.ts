import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeCert, type TestCert } from '../../../test/support/certs.js';
import { loadConfig } from '../src/index.js';
import type { TargetHealth } from '../src/scrape/index.js';
import { startCapturingServer, waitForMetric } from './capture.js';
import { cpuProfile } from './helpers.js';

/**
 * Pull mode against an HTTPS target (`scheme: https` with `tls_config`), with credentials that must reach the
 * target and never the logs or the targets API.
 */
const TOKEN = 'scrape-bearer-sekrit';
const PASSWORD = 'scrape-basic-sekrit';

describe('scraping an HTTPS target', () => {
  let dir: string;
  let cert: TestCert;
  let target: https.Server;
  let address: string;
  let s: Awaited<ReturnType<typeof startCapturingServer>>;
  const seenAuth: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emberscope-scrape-tls-'));
    cert = makeCert(dir, 'target');
    const body = gzipSync(cpuProfile({ 'runtime.main;main.main': 5, 'runtime.gopark': 3 }));
    target = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seenAuth.push(req.headers.authorization ?? '');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('unauthorized\n');
      } else if (req.url?.startsWith('/debug/pprof/goroutine')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(target.address() as AddressInfo).port}`;
    const profiling = `
    profiling_config:
      pprof_config:
        process_cpu: { enabled: false }
        memory: { enabled: false }
        mutex: { enabled: false }
        block: { enabled: false }
        goroutine: { enabled: true }`;
    const file = join(dir, 'emberscope.yaml');
    writeFileSync(
      file,
      `scrape_configs:
  - job_name: tls-ok
    scheme: https
    scrape_interval: 1s
    static_configs: [{ targets: ['${address}'] }]
    authorization: { credentials: ${TOKEN} }
    tls_config: { ca_file: ${cert.certFile}, server_name: localhost }${profiling}
  - job_name: tls-untrusted
    scheme: https
    scrape_interval: 1s
    static_configs: [{ targets: ['${address}'] }]
    authorization: { credentials: ${TOKEN} }${profiling}
  - job_name: tls-wrong-password
    scheme: https
    scrape_interval: 1s
    static_configs: [{ targets: ['${address}'] }]
    basic_auth: { username: scraper, password: ${PASSWORD} }
    tls_config: { ca_file: ${cert.certFile} }${profiling}
`,
    );
    const { scrape_configs } = loadConfig(['--config', file], {});
    s = await startCapturingServer({ scrape_configs }, 'debug');
  });

  afterAll(async () => {
    await s?.stop();
    target?.closeAllConnections();
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a trusted target is scraped with its credentials; an untrusted certificate and a refused login are down', async () => {
    await waitForMetric(
      s.url,
      /^emberscope_ingested_profiles_total\{tenant="anonymous",route="scrape"\} [1-9]/m,
    );
    let targets: TargetHealth[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const res = await fetch(`${s.url}/api/v1/targets`);
      targets = ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets;
      if (targets.length === 3 && targets.every((t) => t.profiles.every((p) => p.scrapes >= 2))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const byJob = Object.fromEntries(targets.map((t) => [t.job, t]));
    expect(byJob['tls-ok'].health).toBe('up');
    expect(byJob['tls-ok'].url).toBe(`https://${address}`);
    expect(byJob['tls-untrusted'].health).toBe('down');
    expect(byJob['tls-untrusted'].lastError).toMatch(
      /TLS certificate of 127\.0\.0\.1:\d+ not accepted: self[- ]signed/,
    );
    expect(byJob['tls-wrong-password'].health).toBe('down');
    expect(byJob['tls-wrong-password'].lastError).toMatch(/HTTP 401: unauthorized/);
    expect(seenAuth).toContain(`Bearer ${TOKEN}`);
    expect(seenAuth).toContain(`Basic ${Buffer.from(`scraper:${PASSWORD}`).toString('base64')}`);

    // The credentials went to the target only: not to the log (the failures are logged) nor the targets API.
    const log = s.logText();
    expect(log).toMatch(/scrape failed/);
    const api = await (await fetch(`${s.url}/api/v1/targets`)).text();
    for (const secret of [TOKEN, PASSWORD, Buffer.from(`scraper:${PASSWORD}`).toString('base64')]) {
      expect(log).not.toContain(secret);
      expect(api).not.toContain(secret);
    }
  });
});
