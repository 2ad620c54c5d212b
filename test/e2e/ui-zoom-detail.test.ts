/**
 * Zoom-driven refetch of truncated detail in a real browser: a profile with more distinct frames than the UI's
 * maxNodes (8192, the default), so the server folds the smallest ones into grey "other" frames. Zooming into a frame
 * whose callees were cut asks the server for the focused subtree (`/pyroscope/render?focus=…`) and shows the hidden
 * frames with their exact values; frames without cuts below are not refetched; a failed refetch keeps the truncated
 * view and says why; a reloaded link to a frame that was cut comes back in full detail.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui-zoom-detail).
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { cpuProfile } from '../support/profiles.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ??
  path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui-zoom-detail');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');
const APP = `ui-zoom-${Math.random().toString(36).slice(2, 8)}`;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/** cpuProfile records n samples as n × 10 ms of CPU. */
const NS_PER_SAMPLE = 10_000_000;
const SEP = '\u241f';

/** What the page exposes for tests (main.ts: window.emberscope). */
interface Debug {
  emberscope: {
    tree(): {
      names: string[];
      count: number;
      name: Int32Array;
      total: Float64Array;
      self: Float64Array;
      numTicks: number;
    };
    flame: { nodeAt(x: number, y: number): number };
  };
}

/**
 * 8,200 `wide.fn_i` frames of 20 samples each fill the server's 8,192 nodes, so the 600 `cold.leaf_k_j` frames
 * (1–19 samples each) under `cold.Handler → cold.part_k` are cut; nothing under `solid.Handler` is.
 */
const leafValue = (k: number, j: number) => 1 + ((k * 150 + j) % 19);
function stacks(): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < 8200; i++) out[`main.main;wide.Handler;wide.fn_${i}`] = 20;
  for (let k = 0; k < 4; k++)
    for (let j = 0; j < 150; j++)
      out[`main.main;cold.Handler;cold.part_${k};cold.leaf_${k}_${j}`] = leafValue(k, j);
  out['main.main;solid.Handler;solid.work'] = 40_000;
  return out;
}

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'e2e-ui-zoom-detail' });
  const at = Date.now() - 120_000;
  const from = Math.floor(at / 1000);
  const res = await fetch(`${server.url}/ingest?name=${APP}&from=${from}&until=${from + 10}&format=pprof`, {
    method: 'POST',
    body: cpuProfile(stacks(), BigInt(at) * 1_000_000n),
  });
  expect(res.status, await res.text()).toBe(200);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  console.log(`UI zoom-detail screenshots in ${ARTIFACTS}`);
});

const QUERY = () => `${CPU}{service_name="${APP}"}`;

interface Opened {
  page: Page;
  errors: string[];
  /** The `focus` parameter of every flame graph request the page made. */
  focusRequests: string[];
}

async function open(search = ''): Promise<Opened> {
  // bypassCSP: page.evaluate and waitForFunction evaluate code, which the server's CSP forbids.
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  const errors: string[] = [];
  const focusRequests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/pyroscope/render' && u.searchParams.has('focus'))
      focusRequests.push(u.searchParams.get('focus') ?? '');
  });
  await page.addInitScript(`localStorage.setItem('emberscope.theme', 'light')`);
  const q = new URLSearchParams({ query: QUERY(), from: 'now-1h', until: 'now' });
  await page.goto(`${server.url}/?${q}${search}`);
  await page.waitForFunction("/nodes/.test(document.querySelector('#status')?.textContent ?? '')");
  await page.waitForSelector('.tt-body .tt-row');
  return { page, errors, focusRequests };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
const focusParam = (page: Page) => new URL(page.url()).searchParams.get('focus');

/** Total and self of the first frame named `name` in the graph on screen (undefined when it has none). */
function frame(page: Page, name: string): Promise<{ total: number; self: number } | undefined> {
  return page.evaluate((n) => {
    const t = (globalThis as unknown as Debug).emberscope.tree();
    const id = t.names.indexOf(n);
    for (let i = 0; i < t.count; i++) if (t.name[i] === id) return { total: t.total[i], self: t.self[i] };
    return undefined;
  }, name);
}

/** A point (page pixels) inside the visible bar of the frame named `name`, found by the painter's own hit-test. */
async function pointOf(page: Page, name: string): Promise<{ x: number; y: number }> {
  const overlay = page.locator('.main-flame .flame-overlay');
  const box = (await overlay.boundingBox())!;
  const at = await page.evaluate(
    ({ n, width, height }) => {
      const { flame, tree } = (globalThis as unknown as Debug).emberscope;
      const t = tree();
      const id = t.names.indexOf(n);
      for (let y = 10; y < height; y += 20)
        for (let x = 1; x < width; x += 2) {
          const node = flame.nodeAt(x, y);
          if (node >= 0 && t.name[node] === id) return { x, y };
        }
      return undefined;
    },
    { n: name, width: box.width, height: box.height },
  );
  expect(at, `${name} is not on screen`).toBeDefined();
  return { x: box.x + at!.x, y: box.y + at!.y };
}

async function clickFrame(page: Page, name: string): Promise<void> {
  const at = await pointOf(page, name);
  await page.mouse.click(at.x, at.y);
}

/** The zoomed frame's name, as the painter publishes it (data-zoomed). */
const zoomed = (page: Page) =>
  page.evaluate<string>("document.querySelector('.main-flame .flame-base').parentElement.dataset.zoomed");

/** The top table's visible rows: function, self and total as shown. */
async function tableRows(page: Page): Promise<Array<{ name: string; self: string; total: string }>> {
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

describe('web UI: zooming into a truncated frame loads its detail', () => {
  it('shows the frames the server cut, with their exact values, and refetches only where something was cut', async () => {
    const { page, errors, focusRequests } = await open();
    // The server cut the cold leaves into "other" frames.
    await page.waitForSelector('#truncation:not([hidden])');
    expect(await page.locator('#truncation').textContent()).toMatch(/zooming into a frame loads/);
    expect(await frame(page, 'cold.leaf_0_18')).toBeUndefined();
    const before = (await frame(page, 'cold.Handler'))!;
    expect(before.total).toBe(
      Array.from({ length: 600 }, (_, i) => leafValue(Math.floor(i / 150), i % 150)).reduce((a, b) => a + b) *
        NS_PER_SAMPLE,
    );

    // Hold the refetch to see the loading state, then let it through.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/pyroscope/render?*focus=*', async (route: Route) => {
      await held;
      await route.continue();
    });
    await clickFrame(page, 'cold.Handler');
    await expect.poll(() => focusParam(page)).toBe(`main.main${SEP}cold.Handler`);
    await page.waitForSelector('#zoom-detail.loading:not([hidden])');
    expect(await page.locator('#zoom-detail').textContent()).toMatch(
      /Loading the frames under cold\.Handler/,
    );
    await shot(page, '01-zoomed-loading-truncated');
    release();
    await page.waitForSelector('#zoom-detail', { state: 'hidden' });
    await page.unroute('**/pyroscope/render?*focus=*');
    expect(focusRequests).toEqual(['main.main;cold.Handler']);

    // The hidden frames are there, exact; the zoomed frame's total did not change; shares stay of the whole profile.
    await expect
      .poll(() => frame(page, 'cold.leaf_0_18'))
      .toEqual({
        total: 19 * NS_PER_SAMPLE,
        self: 19 * NS_PER_SAMPLE,
      });
    expect(await frame(page, 'cold.Handler')).toEqual(before);
    expect(await page.evaluate(() => (globalThis as unknown as Debug).emberscope.tree().numTicks)).toBe(
      (8200 * 20 + 40_000) * NS_PER_SAMPLE + before.total,
    );
    expect(await zoomed(page)).toBe('cold.Handler');
    // The table of the zoomed frame lists the leaves, biggest self first (19 samples = 190 ms).
    const rows = await tableRows(page);
    expect(rows[0]).toMatchObject({ self: '190 ms', total: '190 ms' });
    expect(rows[0].name).toMatch(/^cold\.leaf_\d_\d+$/);
    expect(rows.some((r) => r.name === 'other')).toBe(false);
    await shot(page, '02-zoomed-detail');

    // Search and the hover tooltip work on the refetched frames.
    await page.fill('#search', 'cold.leaf_2_');
    await page.waitForFunction("/matched/.test(document.querySelector('#search-info')?.textContent ?? '')");
    expect(await page.locator('#search-info').textContent()).toMatch(/of the zoomed frame matched/);
    for (const r of await tableRows(page)) expect(r.name).toMatch(/^cold\.leaf_2_/);
    await page.fill('#search', '');
    await expect.poll(() => new URL(page.url()).searchParams.get('search')).toBeNull();

    // Deeper: cold.part_0 already has its detail, no new request; hover a leaf for its exact value and share.
    await clickFrame(page, 'cold.part_0');
    await expect.poll(() => focusParam(page)).toBe(`main.main${SEP}cold.Handler${SEP}cold.part_0`);
    const leaf = await pointOf(page, 'cold.leaf_0_18');
    await page.mouse.move(leaf.x, leaf.y);
    await page.waitForSelector('#tooltip:not([hidden])');
    const tip = (await page.locator('#tooltip').textContent()) ?? '';
    expect(tip).toMatch(/cold\.leaf_0_18/);
    // Shares: of the whole profile (19 of ~216,000 samples: under 0.01%), and of the zoomed cold.part_0.
    const part0 = Array.from({ length: 150 }, (_, j) => leafValue(0, j)).reduce((a, b) => a + b);
    expect(tip).toMatch(/Total190 ms<0\.01%/);
    expect(Number(/([\d.]+)% of zoom/.exec(tip)?.[1])).toBeCloseTo((100 * 19) / part0, 2);
    const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
    await shot(page, '03-zoomed-deeper-tooltip');
    // Esc steps back through the zoom stack, r resets.
    await page.mouse.move(box.x + 5, box.y - 40);
    await page.keyboard.press('Escape');
    await expect.poll(() => focusParam(page)).toBe(`main.main${SEP}cold.Handler`);
    await page.keyboard.press('r');
    await expect.poll(() => focusParam(page)).toBeNull();
    // Nothing was cut under solid.Handler: zooming into it asks for nothing.
    await clickFrame(page, 'solid.Handler');
    await expect.poll(() => focusParam(page)).toBe(`main.main${SEP}solid.Handler`);
    await page.waitForTimeout(300);
    expect(focusRequests).toEqual(['main.main;cold.Handler']);
    expect(await page.locator('#zoom-detail').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps the truncated view and says why when the refetch fails; Retry loads it', async () => {
    const { page, errors } = await open();
    await page.route('**/pyroscope/render?*focus=*', (route: Route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'unavailable', message: 'query queue full' }),
      }),
    );
    await clickFrame(page, 'cold.Handler');
    await page.waitForSelector('#zoom-detail.error:not([hidden])');
    const note = (await page.locator('#zoom-detail').textContent()) ?? '';
    expect(note).toMatch(/Could not load the frames under cold\.Handler.*query queue full.*truncated view/);
    expect(await frame(page, 'cold.leaf_0_18')).toBeUndefined();
    expect(await zoomed(page)).toBe('cold.Handler');
    expect((await tableRows(page)).map((r) => r.name)).toContain('other');
    await shot(page, '04-refetch-failed');
    await page.unroute('**/pyroscope/render?*focus=*');
    await page.click('#zoom-detail-retry');
    await expect.poll(() => frame(page, 'cold.leaf_0_18')).toBeDefined();
    expect(await page.locator('#zoom-detail').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reopens a link to a frame that was cut, in full detail', async () => {
    const focus = ['main.main', 'cold.Handler', 'cold.part_1', 'cold.leaf_1_3'].join(SEP);
    const { page, errors, focusRequests } = await open(`&focus=${encodeURIComponent(focus)}`);
    await expect.poll(() => zoomed(page)).toBe('cold.leaf_1_3');
    expect(await frame(page, 'cold.leaf_1_3')).toEqual({
      total: leafValue(1, 3) * NS_PER_SAMPLE,
      self: leafValue(1, 3) * NS_PER_SAMPLE,
    });
    await expect.poll(() => focusParam(page)).toBe(focus);
    expect(await page.locator('#breadcrumb').textContent()).toMatch(/cold\.part_1.*cold\.leaf_1_3/);
    // The deepest frame the truncated graph had on the path, cold.part_1, was refetched; nothing else.
    expect(focusRequests).toEqual(['main.main;cold.Handler;cold.part_1']);
    expect(await tableRows(page)).toEqual([{ name: 'cold.leaf_1_3', self: '20 ms', total: '20 ms' }]);
    await shot(page, '05-reloaded-cut-frame');
    expect(errors).toEqual([]);
    await page.close();
  });

  // Last: it adds data to the server.
  it('prefers the refetched numbers when the data on the server changed since the load, and says so', async () => {
    const { page, errors } = await open();
    const before = (await frame(page, 'cold.Handler'))!;
    const numTicks = () => page.evaluate(() => (globalThis as unknown as Debug).emberscope.tree().numTicks);
    const wholeBefore = await numTicks();
    // A late profile inside the range the page loaded: 7 more samples under cold.part_2.
    const at = Date.now() - 60_000;
    const from = Math.floor(at / 1000);
    const res = await fetch(`${server.url}/ingest?name=${APP}&from=${from}&until=${from + 10}&format=pprof`, {
      method: 'POST',
      body: cpuProfile({ 'main.main;cold.Handler;cold.part_2;cold.leaf_2_5': 7 }, BigInt(at) * 1_000_000n),
    });
    expect(res.status, await res.text()).toBe(200);
    await clickFrame(page, 'cold.Handler');
    await page.waitForSelector('#zoom-detail.changed:not([hidden])');
    const added = 7 * NS_PER_SAMPLE;
    expect(await page.locator('#zoom-detail').textContent()).toBe(
      `The server's data changed since the flame graph was loaded: cold.Handler is now 59.63 s (was 59.56 s). The numbers shown are the new ones.`,
    );
    expect(await frame(page, 'cold.Handler')).toEqual({ total: before.total + added, self: 0 });
    expect(await frame(page, 'cold.leaf_2_5')).toEqual({
      total: (leafValue(2, 5) + 7) * NS_PER_SAMPLE,
      self: (leafValue(2, 5) + 7) * NS_PER_SAMPLE,
    });
    expect(await numTicks()).toBe(wholeBefore + added);
    await shot(page, '06-data-changed');
    // The note belongs to that zoom: going back hides it.
    await page.keyboard.press('Escape');
    await expect.poll(() => focusParam(page)).toBeNull();
    expect(await page.locator('#zoom-detail').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
