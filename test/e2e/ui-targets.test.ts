/**
 * The Targets page (issue 5 item 2) in a real browser: Debian's Chromium driven by playwright-core against a
 * real `emberscope server` whose `--config` has one pull-mode job with two static targets, a tiny HTTP server
 * in this test serving a pprof at /debug/pprof/goroutine (up) and a port with nothing listening (down).
 * Also the header link, the empty state (no scrape_configs), the error state and the auto-refresh.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { cpuProfile } from '../support/profiles.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ?? path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');

let server: RunningServer;
let emptyServer: RunningServer;
let browser: Browser;
let pprofServer: http.Server;
let upAddress = '';
let deadAddress = '';
let configDir = '';
let pprofHits = 0;

async function openPage(url: string, theme: 'light' | 'dark' = 'light'): Promise<Page> {
  // bypassCSP: waitForFunction evaluates its string predicates, which the server's CSP forbids
  // (ui-csp.test.ts checks the UI under the real policy).
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as unknown as { errors: string[] }).errors = errors;
  await page.addInitScript(`localStorage.setItem('emberscope.theme', ${JSON.stringify(theme)})`);
  await page.goto(url);
  return page;
}

const pageErrors = (page: Page) => (page as unknown as { errors: string[] }).errors;

async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const target = (page: Page, address: string) => page.locator(`.target[data-instance="${address}"]`);

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });

  // A service exposing only a goroutine profile, as net/http/pprof does (gzipped pprof).
  const body = gzipSync(
    cpuProfile({ 'runtime.main;main.main;net/http.(*Server).Serve': 5, 'runtime.gopark': 3 }),
  );
  pprofServer = http.createServer((req, res) => {
    if (req.url?.startsWith('/debug/pprof/goroutine')) {
      pprofHits++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end('404 page not found\n');
    }
  });
  await new Promise<void>((resolve) => pprofServer.listen(0, '127.0.0.1', resolve));
  upAddress = `127.0.0.1:${(pprofServer.address() as AddressInfo).port}`;
  deadAddress = `127.0.0.1:${await freePort()}`; // nothing listens there

  configDir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-targets-'));
  const configFile = path.join(configDir, 'emberscope.yaml');
  writeFileSync(
    configFile,
    `scrape_configs:
  - job_name: checkout
    scrape_interval: 1s
    static_configs:
      - targets: ["${upAddress}", "${deadAddress}"]
        labels:
          env: e2e
    profiling_config:
      pprof_config:
        process_cpu: { enabled: false }
        memory: { enabled: false }
        goroutine: { enabled: true }
        mutex: { enabled: false }
        block: { enabled: false }
`,
  );
  [server, emptyServer] = await Promise.all([
    startServer({ name: 'e2e-ui-targets', args: ['--config', configFile] }),
    startServer({ name: 'e2e-ui-targets-empty' }),
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), emptyServer?.stop()]);
  await new Promise<void>((resolve) => (pprofServer ? pprofServer.close(() => resolve()) : resolve()));
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  console.log(`UI screenshots in ${ARTIFACTS}`);
});

describe('web UI, Targets page', () => {
  it('is served at /targets and linked from the header', async () => {
    const res = await fetch(`${server.url}/targets`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const page = await openPage(`${emptyServer.url}/`);
    await page.click('#nav-targets');
    await page.waitForURL(/\/targets$/);
    await page.waitForSelector('.message.empty');
    expect(await page.locator('#nav-targets').getAttribute('aria-current')).toBe('page');
    await page.click('#nav-profiles');
    await page.waitForURL((u) => u.pathname === '/');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('shows one target up and the dead one down with its error, grouped by job', async () => {
    const page = await openPage(`${server.url}/targets`);
    const up = target(page, upAddress);
    const down = target(page, deadAddress);
    // Scrapes start within one interval (1 s); the page refreshes every 5 s.
    await page.waitForSelector(`.target[data-instance="${upAddress}"][data-health="up"]`, {
      timeout: 20_000,
    });
    await page.waitForSelector(`.target[data-instance="${deadAddress}"][data-health="down"]`, {
      timeout: 20_000,
    });
    expect(await page.locator('.job[data-job="checkout"] .job-name').textContent()).toBe('checkout');
    expect(await page.locator('.job').count()).toBe(1);
    expect(await page.locator('#targets-summary').textContent()).toBe('2 targets in 1 job · 1 up · 1 down');

    // Health is colour and text.
    expect((await up.locator('.target-head .health').textContent())?.trim()).toBe('up');
    expect((await down.locator('.target-head .health').textContent())?.trim()).toBe('down');
    const colour = (sel: string) =>
      page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(sel)})).color`);
    expect(await colour('.target.up .health')).not.toBe(await colour('.target.down .health'));

    // The full error, wrapping, on the target and its profile row.
    const error = await down.locator('.target-error').textContent();
    expect(error).toBe(`goroutine: connection refused (${deadAddress})`);
    expect(await down.locator('tr[data-profile="goroutine"] .error-cell').textContent()).toBe(
      `connection refused (${deadAddress})`,
    );
    expect(
      await page.evaluate(
        "getComputedStyle(document.querySelector('.target.down .target-error')).whiteSpace",
      ),
    ).toBe('pre-wrap');
    expect(await up.locator('.target-error').count()).toBe(0);

    // Labels, relative times, durations, counters, the profile URL.
    expect(await up.locator('.chip.label').allTextContents()).toEqual([
      'env="e2e"',
      'service_name="checkout"',
    ]);
    const row = up.locator('tr[data-profile="goroutine"]');
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toContain(`http://${upAddress}/debug/pprof/goroutine`);
    expect(cells[1]).toBe('up');
    expect(cells[2]).toMatch(/^(just now|\d+ s ago)$/);
    expect(cells[3]).toMatch(/^\d+ ms$/);
    expect(cells[4]).toMatch(/^(now|in \d+ s|just now|\d+ s ago)$/);
    expect(Number(cells[5])).toBeGreaterThan(0);
    expect(cells[6]).toBe('0');
    expect(await page.locator('tr[data-profile]').count()).toBe(2); // only goroutine is enabled
    expect(pprofHits).toBeGreaterThan(0);

    await page.waitForTimeout(300);
    const file = await shot(page, 'targets');
    expect(existsSync(file)).toBe(true);
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('refreshes on its own every 5 s, and on demand', async () => {
    const page = await openPage(`${server.url}/targets`, 'dark');
    const scrapes = target(page, upAddress).locator('tr[data-profile="goroutine"] td:nth-child(6)');
    await scrapes.waitFor();
    const before = Number(await scrapes.textContent());
    let requests = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/targets')) requests++;
    });
    const sel = `.target[data-instance="${upAddress}"] tr[data-profile="goroutine"] td:nth-child(6)`;
    await page.waitForFunction(
      `Number(document.querySelector(${JSON.stringify(sel)})?.textContent) > ${before}`,
      null,
      {
        timeout: 12_000,
      },
    );
    expect(requests).toBeGreaterThanOrEqual(1);
    const n = requests;
    // The auto-refresh just ran: a request within 2 s is the button's.
    const manual = page.waitForRequest((r) => r.url().endsWith('/api/v1/targets'), { timeout: 2000 });
    await page.click('#refresh');
    await manual;
    expect(requests).toBeGreaterThan(n);
    await page.waitForFunction(
      "/^Updated (just now|\\d+ s ago)/.test(document.querySelector('#targets-updated')?.textContent ?? '')",
    );
    await page.selectOption('#targets-filter', 'unhealthy');
    expect(await page.locator('.target').count()).toBe(1);
    expect(await page.locator('.target').getAttribute('data-instance')).toBe(deadAddress);
    expect(new URL(page.url()).searchParams.get('health')).toBe('unhealthy');
    await shot(page, 'targets-dark-unhealthy');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('explains scrape_configs when there are no targets', async () => {
    const page = await openPage(`${emptyServer.url}/targets`);
    await page.waitForSelector('.message.empty');
    expect(await page.locator('.message h2').textContent()).toBe('No scrape targets');
    const yaml = await page.locator('#scrape-config-example').textContent();
    expect(yaml).toMatch(/scrape_configs:/);
    expect(yaml).toMatch(/job_name:/);
    expect(yaml).toMatch(/static_configs:\n\s+- targets:/);
    expect(await page.locator('.message').textContent()).toContain('docs/pull-mode.md');
    await shot(page, 'targets-empty');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('shows an error state when the API fails, and recovers', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    await page.route('**/api/v1/targets', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ message: 'storage is on fire' }),
      }),
    );
    await page.goto(`${server.url}/targets`);
    await page.waitForSelector('.message.error');
    expect(await page.locator('.message.error h2').textContent()).toBe('Could not load the targets');
    expect(await page.locator('#targets-error').textContent()).toBe('storage is on fire');
    await shot(page, 'targets-error');
    await page.unroute('**/api/v1/targets');
    await page.click('#retry');
    await page.waitForSelector('.target[data-health="up"]');
    expect(await page.locator('.message').isHidden()).toBe(true);

    // An error after a success keeps the last answer on screen, under a banner.
    await page.route('**/api/v1/targets', (route) => route.abort('connectionrefused'));
    await page.click('#refresh');
    await page.waitForSelector('#refresh-error:not([hidden])');
    expect(await page.locator('.target').count()).toBe(2);
    await page.close();
  });
});
