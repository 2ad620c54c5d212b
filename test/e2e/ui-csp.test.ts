/**
 * The web UI under the server's real Content-Security-Policy (issue 6): unlike ui.test.ts and ui-targets.test.ts,
 * whose pages bypass CSP so that playwright can evaluate string predicates, this browser context enforces it.
 * The main view (flame graph, tooltip, search, diff legend, tag explorer, theme) and the Targets page must
 * cause no CSP violation, no console error, and no request to any origin other than the server's. The
 * standalone HTML exports, whose viewer is inline by design, must work under the policy they are sent with.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { cpuProfile } from '../support/profiles.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');
const APP = `ui-csp-${Math.random().toString(36).slice(2, 8)}`;

let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let configDir = '';
let deadAddress = '';
const violations: string[] = [];
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
const requests: string[] = [];

async function ingest(name: string, atMs: number, stacks: Record<string, number>): Promise<void> {
  const from = Math.floor(atMs / 1000);
  const res = await fetch(
    `${server.url}/ingest?name=${encodeURIComponent(name)}&from=${from}&until=${from + 10}&format=pprof`,
    { method: 'POST', body: cpuProfile(stacks, BigInt(atMs) * 1_000_000n) },
  );
  expect(res.status, await res.text()).toBe(200);
}

async function openPage(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  await page.goto(url);
  return page;
}

/** Violations seen by the page itself (the securitypolicyviolation events recorded by the init script). */
async function collectViolations(page: Page): Promise<void> {
  const seen = (await page.evaluate('window.__cspViolations ?? []')) as string[];
  violations.push(...seen);
}

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  deadAddress = `127.0.0.1:${await freePort()}`; // nothing listens there: a target that is down
  configDir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-csp-'));
  const configFile = path.join(configDir, 'emberscope.yaml');
  writeFileSync(
    configFile,
    `scrape_configs:
  - job_name: csp
    scrape_interval: 1s
    static_configs:
      - targets: ["${deadAddress}"]
        labels: { env: e2e }
`,
  );
  server = await startServer({ name: 'e2e-ui-csp', args: ['--config', configFile] });
  const now = Date.now();
  const stacks = (k: number) => ({
    'runtime.main;main.main;net/http.(*conn).serve;shop/checkout.Handle;encoding/json.Marshal': 10 + k,
    'runtime.main;main.main;net/http.(*conn).serve;shop/search.Handle;regexp.(*Regexp).FindAllString':
      5 + 2 * k,
    'runtime.gcBgMarkWorker;runtime.gcDrain': 3,
  });
  for (let i = 0; i < 4; i++) {
    await ingest(`${APP}{region=${i % 2 ? 'eu' : 'us'}}`, now - (4 - i) * 120_000, stacks(i));
    await ingest(`${APP}{region=${i % 2 ? 'eu' : 'us'}}`, now - 65 * 60_000 - i * 120_000, stacks(i + 5));
  }
  browser = await launchChromium();
  // No bypassCSP: the policy the server sends is enforced.
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  // Records what the page itself sees (a string: the tests are type-checked without the DOM library).
  await context.addInitScript(`
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
    });
  `);
  context.on('request', (r) => requests.push(r.url()));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('web UI under the Content-Security-Policy', () => {
  it('the server sends the strict policy with the UI', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self'; .*style-src 'self';/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('main view: flame graph, tooltip, search, diff legend, tag explorer and theme without violations', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now`);
    await page.waitForSelector('.tt-body .tt-row');
    const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + 10);
    await page.waitForSelector('#tooltip:not([hidden])');
    await page.fill('#search', 'json');
    await page.waitForSelector('#search-info:has-text("matched")');
    await page.fill('#search', '');

    await page.click('#theme');
    await collectViolations(page);
    await page.close();

    // The diff view and the tag explorer color their swatches through element styles. They are opened by
    // URL (a `compare=1h` link opens the diff against the hour before) so that this test does not depend on
    // how their controls look.
    const diff = await openPage(`${server.url}/?from=now-1h&until=now&compare=1h`);
    await diff.waitForSelector('.diff-legend .legend-swatch');
    await collectViolations(diff);
    await diff.close();
    const explore = await openPage(`${server.url}/?from=now-1h&until=now&explore=region`);
    await explore.waitForSelector('.explore-table .swatch');
    await collectViolations(explore);
    await explore.close();

    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('Targets page without violations', async () => {
    const page = await openPage(`${server.url}/targets`);
    await page.waitForSelector(`.target[data-instance="${deadAddress}"][data-health="down"]`, {
      timeout: 30_000,
    });
    await page.waitForSelector('.target-error');
    await collectViolations(page);
    await page.close();
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('the standalone flame graph pages (HTML exports) run their inline viewer under their own policy', async () => {
    const og = encodeURIComponent(`${APP}.cpu{}`);
    const single = await fetch(`${server.url}/render?query=${og}&from=now-1h&until=now&format=html`);
    expect(single.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; script-src 'unsafe-inline'/,
    );
    const page = await openPage(`${server.url}/render?query=${og}&from=now-1h&until=now&format=html`);
    await page.waitForSelector('#status:has-text("Total")');
    await collectViolations(page);
    await page.close();
    const diff = await openPage(
      `${server.url}/render-diff?leftQuery=${og}&rightQuery=${og}&leftFrom=now-2h&leftUntil=now-1h&rightFrom=now-1h&rightUntil=now&format=html`,
    );
    for (const frame of ['Baseline', 'Comparison'])
      await diff.frameLocator(`iframe[title^="${frame}"]`).locator('#status:has-text("Total")').waitFor();
    await collectViolations(diff);
    await diff.close();
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('the browser requested nothing from any other origin', () => {
    const origin = new URL(server.url).origin;
    const foreign = requests.filter(
      (u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin,
    );
    expect(requests.length).toBeGreaterThan(5);
    expect(foreign).toEqual([]);
  });
});
