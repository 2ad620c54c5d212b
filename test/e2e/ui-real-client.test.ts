/**
 * The web UI fed by a real client (issue 4): the published Pyroscope Go SDK (testdata/clients/go) pushes its CPU,
 * memory, goroutine, mutex and block profiles to a real `emberscope server` for a while; then Debian's Chromium
 * (playwright-core) opens the UI and everything is checked through the page: the pickers' human names, the
 * timeline, the flame graph's root total and the top table against the server's own Connect query API for the
 * same selector and range, a label filter on the SDK's `handler` label, and switching profile types.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui-real-client).
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageErrors, recordPageErrors, waitForGraph } from '../support/browser.js';
import { type ClientRun, runGoClient } from '../support/clients.js';
import { type FunctionTotals, flameGraphFunctionTotals, selectMergeStacktraces } from '../support/query.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ??
  path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui-real-client');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');
const APP = `ui-go-${Math.random().toString(36).slice(2, 8)}`;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/** The UI's default node limit (url-state.ts), so the API is asked for the same flame graph. */
const MAX_NODES = 8192;

let server: RunningServer;
let browser: Browser;
let client: ClientRun;
/** An absolute range (ms) around the client's run, so the data the UI and the API see cannot change. */
let fromMs = 0;
let untilMs = 0;

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'e2e-ui-real-client' });
  const started = Date.now();
  client = await runGoClient({
    serverAddress: server.url,
    appName: APP,
    runSeconds: 12,
    uploadMs: 2000,
    hostname: 'ui-e2e-host',
  });
  fromMs = started - 60_000;
  untilMs = Date.now() + 60_000;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  console.log(`UI screenshots in ${ARTIFACTS}`);
});

/** What the server's query API answers for a selector over the test's range: root total and per-function rows. */
async function fromApi(
  profileTypeID: string,
  selector: string,
): Promise<{ total: number; fns: Map<string, FunctionTotals> }> {
  const fg = await selectMergeStacktraces(server.url, {
    profileTypeID,
    labelSelector: selector,
    start: fromMs,
    end: untilMs,
    maxNodes: MAX_NODES,
  });
  expect(fg, `no flame graph for ${profileTypeID}${selector}`).toBeDefined();
  return { total: Number(fg!.total), fns: flameGraphFunctionTotals(fg!) };
}

const UNITS: Record<string, number> = {
  ns: 1,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  min: 60e9,
  h: 3600e9,
  d: 86400e9,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
};

/** A value as the UI prints it ("1.23 s", "45.6 MiB", "12.3 k", "17") in the profile's base unit. */
function shown(text: string): { value: number; step: number } {
  const m = /^(-?[\d.]+)(?: (\S+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a value: ${JSON.stringify(text)}`);
  const unit = m[2] === undefined ? 1 : UNITS[m[2]];
  if (unit === undefined) throw new Error(`unknown unit in ${JSON.stringify(text)}`);
  // The UI rounds to at most two decimals of the unit it picked.
  return { value: Number(m[1]) * unit, step: unit * (m[2] === undefined ? 0.5 : 0.005) };
}

/** The UI's text for a value equals the API's number, up to the UI's rounding. */
function expectShown(text: string, expected: number, what: string): void {
  const { value, step } = shown(text);
  expect(Math.abs(value - expected), `${what}: UI shows ${text}, API says ${expected}`).toBeLessThanOrEqual(
    step * 1.0001,
  );
}

async function openPage(url: string): Promise<Page> {
  // bypassCSP: waitForFunction evaluates string predicates, which the server's CSP forbids (ui-csp.test.ts).
  const page = recordPageErrors(
    await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true }),
  );
  await page.addInitScript(`localStorage.setItem('emberscope.theme', 'light')`);
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Runs `change` and waits until the flame graph answering the changed query (`mark` in its URL) is painted. */
async function repaintAfter(page: Page, mark: string, change: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse(
    (r) => r.url().includes('/pyroscope/render?') && decodeURIComponent(r.url()).includes(mark),
  );
  // The status line is rewritten on every paint: blank it so the wait below cannot see the previous one.
  await page.evaluate("document.querySelector('#status').textContent = ''");
  await change();
  await answered;
  await waitForGraph(page);
}

/** The flame graph root's "Total", read from its tooltip. */
async function rootTotal(page: Page): Promise<string> {
  const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + box.height - 2);
  await page.mouse.move(box.x + box.width / 2, box.y + 10);
  await page.waitForSelector('#tooltip:not([hidden]) .tt-title:text-is("total")');
  return (await page.locator('#tooltip tr:has(th:text-is("Total")) td').first().textContent()) ?? '';
}

interface Row {
  name: string;
  self: string;
  total: string;
}

async function tableRows(page: Page): Promise<Row[]> {
  // A zoom or search refills the table after the frame that shows the graph: the panes are aria-busy until then.
  await page.waitForSelector('#panes:not([aria-busy])');
  return page.locator('.tt-body .tt-row:visible').evaluateAll((rows) =>
    rows.map((r) => ({
      name: r.querySelector('.fn')?.textContent ?? '',
      self: r.querySelector('.tt-self .v')?.textContent ?? '',
      total: r.querySelector('.tt-total .v')?.textContent ?? '',
    })),
  );
}

/** The first `n` rows of the table match the API's self and total for the same functions, and are its largest. */
function expectTableMatches(rows: Row[], fns: Map<string, FunctionTotals>, n: number): void {
  expect(rows.length).toBeGreaterThanOrEqual(Math.min(n, fns.size));
  const top = rows.slice(0, n);
  for (const r of top) {
    const api = fns.get(r.name);
    expect(api, `${r.name} is in the UI's table but not in the API's flame graph`).toBeDefined();
    expectShown(r.self, Number(api!.self), `self of ${r.name}`);
    expectShown(r.total, Number(api!.total), `total of ${r.name}`);
  }
  const largestSelf = Math.max(...[...fns.values()].map((f) => Number(f.self)));
  expectShown(top[0].self, largestSelf, 'the largest self');
}

describe('web UI on data from the real Go SDK', () => {
  it('the Go client ran and its uploads were accepted', () => {
    expect(client.code, client.stderr.slice(-2000)).toBe(0);
    expect(client.stderr).not.toMatch(/\[error\]/);
  });

  it('lists the service and human profile type names, draws the timeline, and matches the API (CPU)', async () => {
    const page = await openPage(`${server.url}/?from=${fromMs}&until=${untilMs}`);
    await waitForGraph(page);
    expect(await page.locator('#service option').allTextContents()).toContain(APP);
    await page.selectOption('#service', APP);
    const types = await page.locator('#profile-type option').allTextContents();
    expect(types).toEqual(expect.arrayContaining(['CPU', 'Allocated space', 'Goroutines', 'In-use space']));
    // No raw profile type ids in the picker.
    for (const t of types) expect(t).not.toContain(':');
    expect(await page.locator('#profile-type option:checked').textContent()).toBe('CPU');
    expect(await page.locator('#profile-type').inputValue()).toBe(CPU);

    // The timeline: hovering across it reads out values where the client sent data.
    const tl = (await page.locator('.single-timeline canvas').boundingBox())!;
    const readouts: string[] = [];
    for (let i = 1; i < 60; i++) {
      await page.mouse.move(tl.x + 64 + ((tl.width - 76) * i) / 60, tl.y + tl.height / 2);
      const text = (await page.locator('.single-timeline .timeline-readout').textContent()) ?? '';
      if (text.includes(' · ')) readouts.push(text.split(' · ').pop()!);
    }
    expect(readouts.length, 'no timeline point has a value').toBeGreaterThan(0);
    expect(Math.max(...readouts.map((r) => shown(r).value))).toBeGreaterThan(0);
    await shot(page, '01-go-cpu-timeline-hover');

    const api = await fromApi(CPU, `{service_name="${APP}"}`);
    expectShown(await rootTotal(page), api.total, 'CPU root total');
    await shot(page, '02-go-cpu-root-tooltip');
    expectTableMatches(await tableRows(page), api.fns, 8);

    // The client's own functions: its busy loop and allocator are in the table, with the API's numbers.
    await page.fill('#search', 'main.');
    await page.waitForFunction("/matched/.test(document.querySelector('#search-info')?.textContent ?? '')");
    const mine = await tableRows(page);
    const burn = mine.find((r) => r.name === 'main.burnCPU');
    expect(burn, `table rows: ${mine.map((r) => r.name).join(', ')}`).toBeDefined();
    expectShown(burn!.total, Number(api.fns.get('main.burnCPU')!.total), 'total of main.burnCPU');
    // The busy loop is where most of this client's CPU goes.
    expect(Number(api.fns.get('main.burnCPU')!.total)).toBeGreaterThan(api.total / 4);
    await shot(page, '03-go-cpu-search-main');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('a filter on the label the client sets narrows the view to what the API answers for it', async () => {
    const page = await openPage(`${server.url}/?from=${fromMs}&until=${untilMs}`);
    await waitForGraph(page);
    const all = await fromApi(CPU, `{service_name="${APP}"}`);
    await page.locator('#filter-label').focus();
    await page.waitForFunction(
      "[...document.querySelectorAll('#filter-label option')].some((o) => o.value === 'handler')",
    );
    await page.selectOption('#filter-label', 'handler');
    await page.fill('#filter-value', 'alloc');
    await repaintAfter(page, 'handler="alloc"', () => page.click('#filter-add'));
    expect(await page.locator('.chip').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('handler="alloc"')]),
    );

    const narrowed = await fromApi(CPU, `{service_name="${APP}", handler="alloc"}`);
    expect(narrowed.total).toBeGreaterThan(0);
    expect(narrowed.total).toBeLessThan(all.total);
    expectShown(await rootTotal(page), narrowed.total, 'CPU root total with handler="alloc"');
    const rows = await tableRows(page);
    expectTableMatches(rows, narrowed.fns, 8);
    // The busy loop runs under handler="hash": it is gone from the narrowed view.
    expect(narrowed.fns.has('main.burnCPU')).toBe(false);
    await page.fill('#search', 'main.');
    await page.waitForFunction("/matched/.test(document.querySelector('#search-info')?.textContent ?? '')");
    const names = (await tableRows(page)).map((r) => r.name);
    expect(names).toContain('main.allocate');
    expect(names).not.toContain('main.burnCPU');
    await shot(page, '04-go-cpu-handler-alloc');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('switching to the memory and goroutine profiles shows what the API answers for them', async () => {
    const page = await openPage(`${server.url}/?from=${fromMs}&until=${untilMs}`);
    await waitForGraph(page);
    for (const [label, sampleType, fn] of [
      ['Allocated space', 'alloc_space', 'main.allocate'],
      ['Goroutines', 'goroutine', 'main.main'],
    ] as const) {
      await repaintAfter(page, `:${sampleType}:`, async () => {
        await page.selectOption('#profile-type', { label });
      });
      const id = await page.locator('#profile-type').inputValue();
      expect(id.split(':')[1]).toBe(sampleType);
      await expect
        .poll(() => new URL(page.url()).searchParams.get('query'))
        .toBe(`${id}{service_name="${APP}"}`);
      const api = await fromApi(id, `{service_name="${APP}"}`);
      expectShown(await rootTotal(page), api.total, `${label} root total`);
      expectTableMatches(await tableRows(page), api.fns, 8);
      await page.fill('#search', fn);
      await page.waitForFunction("/matched/.test(document.querySelector('#search-info')?.textContent ?? '')");
      const row = (await tableRows(page)).find((r) => r.name === fn);
      expect(row, `${fn} in the ${label} table`).toBeDefined();
      expectShown(row!.total, Number(api.fns.get(fn)!.total), `${label} total of ${fn}`);
      await shot(page, `05-go-${sampleType}`);
      await page.fill('#search', '');
      await page.waitForFunction(
        "!/matched/.test(document.querySelector('#search-info')?.textContent ?? '')",
      );
    }
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });
});
