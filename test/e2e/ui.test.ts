/**
 * The web UI in a real browser (issue 4): Debian's Chromium driven by playwright-core against a real
 * `emberscope server` process that serves the built UI (apps/ui/dist) and holds profiles ingested through
 * `/ingest?format=pprof`. Covers the single view end to end: pickers, timeline brush, label filter, flame graph
 * hover/search/zoom/Esc, the synced top table, URL state across a reload, the theme, and the empty state.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { Profile } from 'pprof-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { cpuProfile } from '../support/profiles.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ?? path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');
const APP = `ui-e2e-${Math.random().toString(36).slice(2, 8)}`;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

/** Go-like stacks (root first) with a realistic spread of packages and depths. */
function stacks(seed: number): Record<string, number> {
  const handlers = ['checkout', 'cart', 'search', 'login', 'catalog', 'orders'];
  const leaves = [
    'encoding/json.Marshal;encoding/json.(*encodeState).marshal;reflect.Value.Field',
    'database/sql.(*DB).QueryContext;github.com/lib/pq.(*conn).query;net.(*conn).Read;syscall.Syscall',
    'compress/gzip.(*Writer).Write;compress/flate.(*compressor).deflate',
    'runtime.mallocgc;runtime.(*mcache).nextFree',
    'crypto/tls.(*Conn).Write;crypto/aes.(*aesCipherGCM).Seal',
    'regexp.(*Regexp).FindAllString;regexp.(*machine).match',
  ];
  const out: Record<string, number> = {};
  handlers.forEach((h, i) => {
    leaves.forEach((leaf, j) => {
      const base = `runtime.main;main.main;net/http.(*Server).Serve;net/http.(*conn).serve;github.com/acme/shop/api.(*Router).ServeHTTP;github.com/acme/shop/${h}.Handle`;
      out[`${base};${leaf}`] = 1 + ((i * 7 + j * 13 + seed * 5) % 23) * (j === 0 ? 3 : 1);
      out[`${base};github.com/acme/shop/${h}.validate;${leaf.split(';')[0]}`] = 1 + ((i + j + seed) % 5);
    });
  });
  out['runtime.gcBgMarkWorker;runtime.gcDrain;runtime.scanobject'] = 40 + seed;
  out['runtime.mcall;runtime.park_m;runtime.schedule;runtime.findRunnable'] = 12;
  return out;
}

let server: RunningServer;
let emptyServer: RunningServer;
let browser: Browser;
const t0 = Date.now();

async function ingest(url: string, name: string, body: Buffer, atMs: number): Promise<void> {
  const from = Math.floor(atMs / 1000);
  const res = await fetch(
    `${url}/ingest?name=${encodeURIComponent(name)}&from=${from}&until=${from + 10}&format=pprof`,
    { method: 'POST', body },
  );
  expect(res.status, await res.text()).toBe(200);
}

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

async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

type Box = { x: number; y: number; width: number; height: number };

const param = (page: Page, name: string) => new URL(page.url()).searchParams.get(name);

/** Waits until the flame graph has painted a profile (the status line reports its node count). */
async function waitForGraph(page: Page): Promise<void> {
  await page.waitForFunction("/nodes/.test(document.querySelector('#status')?.textContent ?? '')");
  await page.waitForSelector('.tt-body .tt-row');
}

/** Waits until the table shows the current zoom and search (a zoom refills it after the frame that shows the graph). */
async function waitForTable(page: Page): Promise<void> {
  await page.waitForSelector('#panes:not([aria-busy])');
}

/** Waits until the comparison view has painted both flame graphs (the status line counts their nodes). */
async function waitForComparison(page: Page): Promise<void> {
  await page.waitForFunction(
    "/^Baseline \\d+ nodes? · comparison \\d+ nodes?$/.test(document.querySelector('#status')?.textContent ?? '')",
  );
  await page.waitForSelector('#split-panes:not([hidden]) .split-baseline canvas');
  await page.waitForSelector('#comparison-side .side-total:has-text("total")');
}

/** Waits until the diff view has its diff flame graph and its table. */
async function waitForDiff(page: Page): Promise<void> {
  await page.waitForSelector('#diff:not([hidden]) .diff-legend .legend-swatch');
  await page.waitForSelector('.dt-body .dt-row');
}

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  [server, emptyServer] = await Promise.all([
    startServer({ name: 'e2e-ui' }),
    startServer({ name: 'e2e-ui-empty' }),
  ]);
  for (let i = 0; i < 8; i++) {
    const at = t0 - (8 - i) * 120_000;
    await ingest(
      server.url,
      `${APP}{env=prod,region=${i % 2 ? 'eu' : 'us'}}`,
      cpuProfile(stacks(i), BigInt(at) * 1_000_000n),
      at,
    );
  }
  // A baseline an hour earlier, for the diff view (a different mix: checkout got cheaper, search dearer).
  for (let i = 0; i < 3; i++) {
    const at = t0 - 70 * 60_000 - i * 120_000;
    const base = stacks(i);
    for (const k of Object.keys(base))
      if (k.includes('/checkout.')) base[k] *= 3;
      else if (k.includes('/search.')) base[k] = Math.max(1, Math.floor(base[k] / 3));
    await ingest(server.url, `${APP}{env=prod,region=eu}`, cpuProfile(base, BigInt(at) * 1_000_000n), at);
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), emptyServer?.stop()]);
  console.log(`UI screenshots in ${ARTIFACTS}`);
});

describe('web UI, single view', () => {
  it('serves the UI at / and keeps API 404s as JSON', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    const missing = await fetch(`${server.url}/pyroscope/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
  });

  it('opens the single view: pickers, timeline, flame graph and table', async () => {
    const page = await openPage(`${server.url}/`);
    await waitForGraph(page);
    expect(await page.locator('#service').inputValue()).toBe(APP);
    expect(await page.locator('#profile-type option:checked').textContent()).toBe('CPU');
    await expect.poll(() => param(page, 'query')).toBe(`${CPU}{service_name="${APP}"}`);
    expect(await page.locator('.tt-body .tt-row').count()).toBeGreaterThan(10);
    // Hover: the tooltip shows the full name, units and percentages.
    const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + 20 * 6 + 10);
    await page.waitForSelector('#tooltip:not([hidden])');
    const tip = (await page.locator('#tooltip').textContent()) ?? '';
    expect(tip).toMatch(/Total.*\d+(\.\d+)? (ms|s).*%/s);
    await shot(page, '01-single-view');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('searches, zooms with Esc back, filters by label, brushes the timeline, and restores it all on reload', async () => {
    const page = await openPage(`${server.url}/`);
    await waitForGraph(page);

    // Search: dims non-matches, filters the table, reports the matched share.
    await page.fill('#search', 'json');
    await page.waitForFunction("/matched/.test(document.querySelector('#search-info')?.textContent ?? '')");
    await expect.poll(() => param(page, 'search')).toBe('json');
    await waitForTable(page);
    const names = await page.locator('.tt-body .tt-row:visible .fn').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n.toLowerCase()).toContain('json');
    await shot(page, '02-search');

    // Table hover highlights, click selects (an exact regex search).
    await page.fill('#search', '');
    await expect.poll(() => param(page, 'search')).toBeNull();
    await page.locator('.tt-body .tt-row').first().click();
    await expect.poll(() => param(page, 'regex')).toBe('1');
    await expect.poll(() => param(page, 'search')).toMatch(/^\^.*\$$/);
    await page.locator('.tt-body .tt-row.selected').first().click(); // click again: deselect
    await expect.poll(() => param(page, 'search')).toBeNull();

    // Click-zoom into a frame at depth 6 (a handler), then Esc goes back. The graph stays where it was (the
    // breadcrumb's line is there before the zoom), so the frame under the pointer is still the one clicked.
    const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
    expect(await page.locator('#breadcrumb').textContent()).toMatch(/^Whole profile/);
    await page.mouse.click(box.x + box.width * 0.3, box.y + 20 * 6 + 10);
    await expect.poll(() => param(page, 'focus')).not.toBeNull();
    const focus = param(page, 'focus')!;
    expect(focus.split('\u241f')).toHaveLength(6);
    expect(await page.locator('#breadcrumb').textContent()).toMatch(/^Zoomed into/);
    expect((await page.locator('.main-flame .flame-overlay').boundingBox())?.y).toBe(box.y);
    await shot(page, '03-zoomed');
    await page.mouse.move(box.x + 5, box.y - 40);
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'focus')).toBeNull();

    // Zoom again and search, then reload the URL: the same view comes back.
    await page.mouse.click(box.x + box.width * 0.3, box.y + 20 * 6 + 10);
    await expect.poll(() => param(page, 'focus')).not.toBeNull();
    await page.fill('#search', 'Syscall');
    await expect.poll(() => param(page, 'search')).toBe('Syscall');
    await waitForTable(page);
    const before = {
      url: page.url(),
      crumbs: await page.locator('#breadcrumb').textContent(),
      info: await page.locator('#search-info').textContent(),
      rows: await page.locator('.tt-body .tt-row:visible .fn').allTextContents(),
    };
    await page.reload();
    await waitForGraph(page);
    await waitForTable(page);
    await expect.poll(() => page.url()).toBe(before.url);
    expect(await page.locator('#search').inputValue()).toBe('Syscall');
    expect(await page.locator('#breadcrumb').textContent()).toBe(before.crumbs);
    expect(await page.locator('#search-info').textContent()).toBe(before.info);
    expect(await page.locator('.tt-body .tt-row:visible .fn').allTextContents()).toEqual(before.rows);
    await shot(page, '04-reloaded');
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'focus')).toBeNull();

    // Label filter through the raw selector (=, !=, =~, !~ are all accepted).
    await page.fill('#selector', `{service_name="${APP}", region=~"e.*"}`);
    await page.press('#selector', 'Enter');
    await expect.poll(() => param(page, 'query')).toContain('region');
    await waitForGraph(page);
    expect(await page.locator('.chip').textContent()).toContain('region=~"e.*"');
    // And through the label picker.
    await page.locator('#filter-label').focus();
    await page.waitForFunction("document.querySelectorAll('#filter-label option').length > 1");
    await page.selectOption('#filter-label', 'env');
    await page.waitForFunction("document.querySelectorAll('#filter-values option').length > 0");
    await page.selectOption('#filter-op', '!=');
    await page.fill('#filter-value', 'staging');
    await page.click('#filter-add');
    await expect.poll(() => param(page, 'query')).toContain('env!=');
    await waitForGraph(page);
    expect(await page.locator('.chip').count()).toBe(2);

    // Brush the timeline: from/until become the absolute selected range.
    const tl = (await page.locator('.single-timeline canvas').boundingBox())!;
    await page.mouse.move(tl.x + tl.width * 0.5, tl.y + 60);
    await page.mouse.down();
    await page.mouse.move(tl.x + tl.width * 0.7, tl.y + 60, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => param(page, 'from')).toMatch(/^\d+$/);
    const from = Number(param(page, 'from'));
    const until = Number(param(page, 'until'));
    expect(until).toBeGreaterThan(from);
    expect(until - from).toBeLessThan(3600_000);
    expect(await page.locator('#range').inputValue()).toBe('custom');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('opens the sandwich view from the context menu, toggles bottom-up, explains truncation and exports', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now&maxNodes=12`);
    await waitForGraph(page);
    // Truncated by the server: the grey "other" frames are explained, with a way to see more.
    expect(await page.locator('#truncation').textContent()).toMatch(/kept the 12 largest frames.*other/s);
    const box = (await page.locator('.main-flame .flame-overlay').boundingBox())!;
    // Right-click a frame at depth 2 (main.main): sandwich view of it.
    await page.mouse.click(box.x + box.width * 0.5, box.y + 20 * 2 + 10, { button: 'right' });
    await page.waitForSelector('#context-menu:not([hidden])');
    await shot(page, '08-context-menu');
    await page.getByRole('menuitem', { name: /Sandwich/ }).click();
    await expect.poll(() => param(page, 'sandwich')).toBe('main.main');
    await page.waitForSelector('#sandwich:not([hidden]) .sandwich-callees canvas');
    await page.waitForFunction(
      "/main\\.main/.test(document.querySelector('.sandwich-title')?.textContent ?? '')",
    );
    await shot(page, '09-sandwich');
    // The breadcrumb is the main graph's path: not shown while the sandwich view replaces that graph.
    expect(await page.locator('#breadcrumb').isVisible()).toBe(false);
    await page.click('#sandwich-close');
    await expect.poll(() => param(page, 'sandwich')).toBeNull();
    expect(await page.locator('#breadcrumb').textContent()).toMatch(/^Whole profile/);

    // Bottom-up: leaves (self time) become the roots.
    await page.check('#bottom-up');
    await expect.poll(() => param(page, 'bottomUp')).toBe('1');
    await page.mouse.move(box.x + box.width * 0.5, box.y + 10);
    await page.waitForSelector('#tooltip:not([hidden])');
    await shot(page, '10-bottom-up');
    await page.uncheck('#bottom-up');

    // Exports: a PNG of the canvas, and a pprof of the same query from the server.
    await page.click('#export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
    const png = path.join(ARTIFACTS, 'export-flamegraph.png');
    await download.saveAs(png);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    await page.click('#export');
    const [pprofDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-pprof')]);
    const pprofFile = path.join(ARTIFACTS, 'export-profile.pb.gz');
    await pprofDownload.saveAs(pprofFile);
    // A gzipped pprof with the functions of the flame graph.
    const pprof = Profile.decode(gunzipSync(readFileSync(pprofFile)));
    const names = pprof.function.map((f) => String(pprof.stringTable.strings[Number(f.name)]));
    expect(names).toContain('github.com/acme/shop/checkout.Handle');
    // The standalone HTML is fetched with the page's credentials (a link could not send them) and downloaded.
    await page.click('#export');
    const [htmlDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-html')]);
    const htmlFile = path.join(ARTIFACTS, 'export-flamegraph.html');
    await htmlDownload.saveAs(htmlFile);
    expect(readFileSync(htmlFile, 'utf8')).toMatch(/<html/i);
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('compares two sides with their own selectors and ranges on one timeline, and restores them on reload', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now`);
    const renders: URL[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/pyroscope/render?')) renders.push(new URL(r.url()));
    });
    await waitForGraph(page);
    // Entering the comparison keeps the view's range as the comparison side, the hour before as baseline.
    await page.click('#nav-comparison');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/comparison');
    await expect.poll(() => param(page, 'leftFrom')).toBe('now-2h');
    await expect.poll(() => param(page, 'leftUntil')).toBe('now-1h');
    await waitForComparison(page);
    expect(await page.getAttribute('#preset-1h', 'aria-pressed')).toBe('true');
    // Each side was fetched over its own range.
    const lastRange = (sel: (u: URL) => boolean) => {
      const u = renders.filter(sel).at(-1)!;
      return [Number(u.searchParams.get('from')), Number(u.searchParams.get('until'))];
    };
    const now = Date.now();
    const [lf, lu] = lastRange((u) => Number(u.searchParams.get('until')) < now - 50 * 60_000);
    const [rf, ru] = lastRange((u) => Number(u.searchParams.get('until')) > now - 60_000);
    expect(lu - lf).toBe(3600_000);
    expect(ru - rf).toBe(3600_000);
    expect(rf - lf).toBe(3600_000);
    // Baseline (3 profiles, checkout 3× dearer) and comparison (8 profiles) differ.
    const totals = async () => [
      await page.locator('#baseline-side .side-total').textContent(),
      await page.locator('#comparison-side .side-total').textContent(),
    ];
    const [baseTotal, compTotal] = await totals();
    expect(baseTotal).toMatch(/total \d/);
    expect(baseTotal).not.toBe(compTotal);
    // Each pane exports as the PNG it shows, named after its side.
    await page.click('#export');
    const [panePng] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#export-comparison-png'),
    ]);
    expect(panePng.suggestedFilename()).toMatch(new RegExp(`^${APP}-cpu-comparison-\\d+-\\d+\\.png$`));
    expect(
      readFileSync((await panePng.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    // Brush a new baseline on the shared timeline: 80 to 60 minutes ago.
    const dbg = async () =>
      (await page.evaluate('window.emberscope.compare()')) as {
        window: { fromMs: number; untilMs: number };
        resolved: Record<'left' | 'right', { fromMs: number; untilMs: number }>;
      };
    const tl = (await page.locator('#compare-timeline .timeline canvas').boundingBox())!;
    const xOf = (w: { fromMs: number; untilMs: number }, t: number) =>
      tl.x + 64 + ((t - w.fromMs) / (w.untilMs - w.fromMs)) * (tl.width - 76);
    let d = await dbg();
    await page.click('#brush-left');
    await page.mouse.move(xOf(d.window, Date.now() - 80 * 60_000), tl.y + 70);
    await page.mouse.down();
    await page.mouse.move(xOf(d.window, Date.now() - 60 * 60_000), tl.y + 70, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => param(page, 'leftFrom')).toMatch(/^\d+$/);
    const brushed = [Number(param(page, 'leftFrom')), Number(param(page, 'leftUntil'))];
    expect(Math.abs(brushed[0] - (Date.now() - 80 * 60_000))).toBeLessThan(3 * 60_000);
    expect(Math.abs(brushed[1] - (Date.now() - 60 * 60_000))).toBeLessThan(3 * 60_000);
    await expect.poll(() => param(page, 'from')).toBe('now-1h'); // the comparison side is untouched
    expect(await page.getAttribute('#preset-1h', 'aria-pressed')).toBe('false');
    await waitForComparison(page);

    // Move the comparison selection by its handle bar (the top of the band): it keeps its width.
    d = await dbg();
    const mid = (d.resolved.right.fromMs + d.resolved.right.untilMs) / 2;
    await page.mouse.move(xOf(d.window, mid), tl.y + 30);
    await page.mouse.down();
    await page.mouse.move(xOf(d.window, mid - 10 * 60_000), tl.y + 30, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => param(page, 'from')).toMatch(/^\d+$/);
    expect(Number(param(page, 'until')) - Number(param(page, 'from'))).toBe(3600_000);
    await waitForComparison(page);

    // The baseline gets its own label selector; the comparison keeps the service's.
    await page.fill('#baseline-selector', `{service_name="${APP}", region="eu"}`);
    await page.press('#baseline-selector', 'Enter');
    await expect.poll(() => param(page, 'leftQuery')).toBe(`${CPU}{service_name="${APP}", region="eu"}`);
    await expect.poll(() => param(page, 'query')).toBe(`${CPU}{service_name="${APP}"}`);
    await waitForComparison(page);

    // One search box highlights in both flame graphs.
    await page.fill('#search', 'checkout');
    await page.waitForFunction(
      "/% of baseline · .*% of comparison matched/.test(document.querySelector('#search-info')?.textContent ?? '')",
    );
    const info = (await page.locator('#search-info').textContent()) ?? '';
    for (const pct of info.match(/[\d.]+%/g) ?? []) expect(Number.parseFloat(pct)).toBeGreaterThan(0);
    // Clicking a frame zooms both sides to the same call path (net/http.(*conn).serve, depth 4); Esc steps back.
    const pane = (await page.locator('.split-comparison .flame-overlay').boundingBox())!;
    await page.mouse.click(pane.x + pane.width * 0.5, pane.y + 20 * 4 + 10);
    await page.mouse.move(pane.x + 5, pane.y - 80);
    const zoomed = async () =>
      (await page.evaluate(
        '[...document.querySelectorAll(".split-panes .flame-base")].map((c) => c.parentElement.dataset.zoomed)',
      )) as string[];
    await expect.poll(zoomed).toEqual(['net/http.(*conn).serve', 'net/http.(*conn).serve']);
    await shot(page, '11-comparison');
    await page.keyboard.press('Escape');
    await expect.poll(zoomed).toEqual(['', '']);

    // "Compare with 24 h prior": the baseline is the comparison range a day earlier.
    await page.click('#preset-24h');
    await expect.poll(() => param(page, 'leftFrom')).toBe(String(Number(param(page, 'from')) - 86400_000));
    await expect.poll(() => param(page, 'leftUntil')).toBe(String(Number(param(page, 'until')) - 86400_000));
    expect(await page.getAttribute('#preset-24h', 'aria-pressed')).toBe('true');
    await waitForComparison(page);

    // A reload restores both sides, their ranges and the search.
    const url = page.url();
    const before = await dbg();
    await page.reload();
    await waitForComparison(page);
    await expect.poll(() => page.url()).toBe(url);
    expect(await page.inputValue('#baseline-selector')).toBe(`{service_name="${APP}", region="eu"}`);
    expect(await page.inputValue('#comparison-selector')).toBe(`{service_name="${APP}"}`);
    expect(await page.inputValue('#search')).toBe('checkout');
    expect((await dbg()).resolved).toEqual(before.resolved);
    expect(await page.getAttribute('#preset-24h', 'aria-pressed')).toBe('true');
    // Back to the single view: the comparison side's query and range.
    await page.click('#nav-single');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/');
    await waitForGraph(page);
    await expect.poll(() => param(page, 'leftFrom')).toBeNull();
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();

    const dark = await openPage(
      `${server.url}/comparison?from=now-1h&until=now&leftFrom=now-2h&leftUntil=now-1h&search=checkout`,
      'dark',
    );
    await waitForComparison(dark);
    await shot(dark, '11-comparison-dark');
    await dark.close();
  });

  it('diffs two ranges: diff flame graph and a sortable diff table from /api/v1/diff-table', async () => {
    const url = `${server.url}/diff?from=now-1h&until=now&leftFrom=now-2h&leftUntil=now-1h`;
    const page = await openPage(url);
    await waitForDiff(page);
    expect(await page.locator('.main-flame').isHidden()).toBe(true);
    // The table has every function the server compared.
    const query = `${CPU}{service_name="${APP}"}`;
    const q = new URLSearchParams({
      leftQuery: query,
      leftFrom: 'now-2h',
      leftUntil: 'now-1h',
      rightQuery: query,
      rightFrom: 'now-1h',
      rightUntil: 'now',
    });
    const expected = (await (await fetch(`${server.url}/api/v1/diff-table?${q}`)).json()) as {
      count: number;
      leftTicks: number;
      rows: Array<{ name: string; change: number }>;
    };
    expect(await page.locator('#diff-table-caption').textContent()).toMatch(
      new RegExp(`^${expected.count} functions · shares of each side's total`),
    );
    // Default order: the biggest gain in share first (Δ, descending), as the server's numbers say.
    const column = async (cls: string) => page.locator(`.dt-body .dt-row:visible .${cls}`).allTextContents();
    const names = await column('dt-name');
    const byDelta = [...expected.rows].sort((a, b) => b.change - a.change || (a.name < b.name ? -1 : 1));
    expect(names.slice(0, 5)).toEqual(byDelta.slice(0, 5).map((r) => r.name));
    const pp = (await column('dt-delta')).map((t) => Number.parseFloat(t.replace('−', '-')));
    for (let i = 1; i < pp.length; i++) expect(pp[i]).toBeLessThanOrEqual(pp[i - 1]);
    expect(names[0]).toMatch(/search\./); // search got 3× dearer relative to the baseline

    // Exports: the whole diff table as CSV, and the baseline's merged pprof over its own range.
    await page.click('#export');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-diff-csv')]);
    expect(csv.suggestedFilename()).toMatch(new RegExp(`^${APP}-cpu-diff-\\d+-\\d+\\.csv$`));
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toMatch(/^function,baseline_self,.*,relative_change$/);
    expect(lines).toHaveLength(expected.rows.length + 1);
    await page.click('#export');
    const [basePprof] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#export-baseline-pprof'),
    ]);
    const baseline = Profile.decode(gunzipSync(readFileSync((await basePprof.path())!)));
    expect(baseline.sampleType).toHaveLength(1);
    expect(baseline.sample.reduce((sum, x) => sum + Number(x.value[0]), 0)).toBe(expected.leftTicks);

    // Sort by the relative change, both ways.
    await page.click('.dt-header [data-sort="change"]');
    await expect.poll(() => param(page, 'diffSort')).toBe('change');
    expect(await page.getAttribute('.dt-header [data-sort="change"]', 'aria-sort')).toBe('descending');
    const rel = (t: string) =>
      t === 'new' ? Number.POSITIVE_INFINITY : Number.parseFloat(t.replace('−', '-'));
    let changes = (await column('dt-change')).map(rel);
    for (let i = 1; i < changes.length; i++) expect(changes[i]).toBeLessThanOrEqual(changes[i - 1]);
    await page.click('.dt-header [data-sort="change"]');
    await expect.poll(() => param(page, 'diffSort')).toBe('change:asc');
    changes = (await column('dt-change')).map(rel);
    for (let i = 1; i < changes.length; i++) expect(changes[i]).toBeGreaterThanOrEqual(changes[i - 1]);
    expect(await page.locator('.dt-body .dt-row:visible .dt-name').first().textContent()).toMatch(
      /checkout\./,
    );
    expect(await page.locator('.dt-body .dt-row:visible .dt-change').first().getAttribute('class')).toContain(
      'shrank',
    );

    // The diff flame graph's tooltip shows both sides and the change.
    const box = (await page.locator('.diff-flame .flame-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + 20 * 6 + 10);
    await page.waitForSelector('#tooltip:not([hidden])');
    expect(await page.locator('#tooltip').textContent()).toMatch(/Baseline.*Comparison.*Change/s);
    await page.mouse.move(box.x + 5, box.y - 80);
    await shot(page, '12-diff-table');

    // A row click searches that function: the graph highlights it and the table keeps that row.
    const first = (await page.locator('.dt-body .dt-row:visible .dt-name').first().textContent())!;
    await page.locator('.dt-body .dt-row:visible').first().click();
    await expect.poll(() => param(page, 'search')).toBe(`^${first.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    expect(await page.locator('.dt-body .dt-row:visible').count()).toBe(1);
    expect(await page.locator('.dt-body .dt-row.selected').count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'search')).toBeNull();
    expect(await page.locator('.dt-body .dt-row:visible').count()).toBeGreaterThan(1);

    // Absolute values: the table is asked again without normalization.
    await page.check('#absolute');
    await expect.poll(() => param(page, 'absolute')).toBe('1');
    await page.waitForSelector('#diff-table-caption:has-text("absolute values")');
    expect((await column('dt-delta')).join(' ')).not.toContain('pp');
    await page.reload();
    await waitForDiff(page);
    expect(await page.isChecked('#absolute')).toBe(true);
    expect(await page.getAttribute('.dt-header [data-sort="change"]', 'aria-sort')).toBe('ascending');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();

    // Links from before the comparison view (compare=1h) open the diff against the hour before.
    const legacy = await openPage(`${server.url}/?from=now-1h&until=now&compare=1h`, 'dark');
    await waitForDiff(legacy);
    expect(new URL(legacy.url()).pathname).toBe('/diff');
    await expect.poll(() => param(legacy, 'leftFrom')).toBe('now-2h');
    await shot(legacy, '12-diff-table-dark');
    await legacy.close();
  });

  it('keyboard shortcuts: / search, Esc back and clear, r reset, t table, b bottom-up, ? help', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now`);
    await waitForGraph(page);
    // `/` focuses the search; letters typed there are text, not shortcuts.
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement.id')).toBe('search');
    await page.keyboard.type('tbr');
    await expect.poll(() => param(page, 'search')).toBe('tbr');
    await expect.poll(() => param(page, 'view')).toBeNull();
    await expect.poll(() => param(page, 'bottomUp')).toBeNull();
    // Esc in the search box clears it, a second Esc leaves it.
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'search')).toBeNull();
    expect(await page.inputValue('#search')).toBe('');
    expect(await page.evaluate('document.activeElement.id')).toBe('search');
    await page.keyboard.press('Escape');
    expect(await page.evaluate('document.activeElement.tagName')).toBe('BODY');

    // Zoom twice; Esc goes back one step; r resets.
    const graph = () => page.locator('.main-flame .flame-overlay').boundingBox() as Promise<Box>;
    const box = await graph();
    await page.mouse.click(box.x + box.width * 0.3, box.y + 20 * 4 + 10);
    await expect.poll(() => param(page, 'focus')?.split('\u241f').length).toBe(4);
    await page.mouse.click(box.x + box.width * 0.3, box.y + 20 * 6 + 10);
    await expect.poll(() => param(page, 'focus')?.split('\u241f').length).toBe(6);
    await page.mouse.move(box.x + 5, box.y - 40);
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'focus')?.split('\u241f').length).toBe(4);
    await page.keyboard.press('r');
    await expect.poll(() => param(page, 'focus')).toBeNull();

    // Esc with no zoom clears the search.
    await page.fill('#search', 'json');
    await expect.poll(() => param(page, 'search')).toBe('json');
    await page.locator('#search').blur();
    await page.keyboard.press('Escape');
    await expect.poll(() => param(page, 'search')).toBeNull();

    // t hides and shows the table; b toggles bottom-up.
    await page.keyboard.press('t');
    await expect.poll(() => param(page, 'view')).toBe('graph');
    expect(await page.locator('.top-table').isHidden()).toBe(true);
    await page.keyboard.press('t');
    await expect.poll(() => param(page, 'view')).toBeNull();
    expect(await page.locator('.top-table').isVisible()).toBe(true);
    await page.keyboard.press('b');
    await expect.poll(() => param(page, 'bottomUp')).toBe('1');
    expect(await page.isChecked('#bottom-up')).toBe(true);
    await page.keyboard.press('b');
    await expect.poll(() => param(page, 'bottomUp')).toBeNull();

    // ? lists the shortcuts; Esc closes the list (and does nothing else).
    await page.keyboard.press('?');
    await page.waitForSelector('#shortcuts[open]');
    expect(await page.locator('#shortcuts tr').count()).toBe(6);
    expect(await page.locator('#shortcuts').textContent()).toMatch(/Reset the zoom.*table.*bottom-up/s);
    await shot(page, '15-shortcuts');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#shortcuts[open]').count()).toBe(0);
    await expect.poll(() => param(page, 'view')).toBeNull();

    // In the diff view, t toggles the diff table.
    await page.goto(`${server.url}/diff?from=now-1h&until=now&leftFrom=now-2h&leftUntil=now-1h`);
    await waitForDiff(page);
    await page.keyboard.press('t');
    await expect.poll(() => param(page, 'view')).toBe('graph');
    expect(await page.locator('#diff-table').isHidden()).toBe(true);
    await page.keyboard.press('t');
    expect(await page.locator('#diff-table').isVisible()).toBe(true);
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();

    const dark = await openPage(`${server.url}/?from=now-1h&until=now`, 'dark');
    await waitForGraph(dark);
    await dark.keyboard.press('?');
    await dark.waitForSelector('#shortcuts[open]');
    await shot(dark, '15-shortcuts-dark');
    await dark.close();
  });

  it('views dropped files locally (ad-hoc mode): collapsed text and a gzipped pprof', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now`);
    await waitForGraph(page);
    await page.setInputFiles('#file-input', {
      name: 'stacks.folded',
      mimeType: 'text/plain',
      buffer: Buffer.from('main;handler;json.Marshal 70\nmain;handler;db.Query 20\nmain;gc 10\n'),
    });
    await page.waitForSelector('#adhoc-banner:not([hidden])');
    expect(await page.locator('#adhoc-banner').textContent()).toContain('stacks.folded');
    await page.waitForFunction("/^6 nodes/.test(document.querySelector('#status')?.textContent ?? '')");
    expect(await page.locator('.tt-body .tt-row:visible .fn').first().textContent()).toBe('json.Marshal');
    expect(await page.locator('.tt-body .tt-row:visible .tt-self .v').first().textContent()).toBe('70');
    expect(await page.locator('.single-timeline').isHidden()).toBe(true);
    await shot(page, '13-adhoc-collapsed');
    const pprof = gzipSync(cpuProfile({ 'main;work;crypto/sha256.block': 5, 'main;idle': 1 }));
    await page.setInputFiles('#file-input', {
      name: 'cpu.pb.gz',
      mimeType: 'application/gzip',
      buffer: pprof,
    });
    await page.waitForFunction(
      "/cpu\\.pb\\.gz/.test(document.querySelector('#adhoc-banner')?.textContent ?? '')",
    );
    await page.waitForFunction("/^5 nodes/.test(document.querySelector('#status')?.textContent ?? '')");
    expect(await page.locator('.tt-body .tt-row:visible .fn').first().textContent()).toBe(
      'crypto/sha256.block',
    );
    expect(await page.locator('.tt-body .tt-row:visible .v').first().textContent()).toBe('50 ms');
    await page.close();
  });

  it('breaks the profile down by a label in the tag explorer', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now`);
    await waitForGraph(page);
    await page.click('#explore-open');
    await expect.poll(() => param(page, 'explore')).not.toBeNull();
    await page.waitForFunction("document.querySelectorAll('#explore-label option').length >= 2");
    await page.selectOption('#explore-label', 'region');
    await expect.poll(() => param(page, 'explore')).toBe('region');
    await page.waitForSelector('#explore:not([aria-busy]) .explore-table tbody tr');
    expect(await page.locator('.explore-table tbody tr').count()).toBe(2);
    expect(await page.locator('.explore-table tbody tr').first().textContent()).toMatch(/(eu|us).*s.*%/);
    await shot(page, '14-tag-explorer');
    const euRow = page.locator('.explore-table tr[data-value="eu"]');
    // The baselines offered: the label's other values, then prior periods.
    expect(await euRow.locator('select option').allTextContents()).toEqual([
      'vs us',
      'vs 1 h prior',
      'vs 24 h prior',
      'vs 7 d prior',
    ]);

    // Diff eu against us over the same range: us is the baseline (left), eu the comparison.
    expect(await page.locator('#breadcrumb').textContent()).toBe(''); // no graph to have a path in
    await euRow.locator('button.explore-diff').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/diff');
    expect(param(page, 'query')).toContain('region="eu"');
    expect(param(page, 'leftQuery')).toContain('region="us"');
    expect([param(page, 'leftFrom'), param(page, 'leftUntil')]).toEqual(['now-1h', 'now']);
    expect(param(page, 'explore')).toBeNull();
    await waitForDiff(page);

    // Compare eu with the hour before, side by side: same query, the range an hour earlier.
    await page.goBack();
    await expect.poll(() => param(page, 'explore')).toBe('region');
    await page.waitForSelector('#explore:not([aria-busy]) .explore-table tbody tr');
    await euRow.locator('select').selectOption('preset:1h');
    // Rebuilding the table (Refresh reloads the profile and the explorer) keeps the baseline picked.
    const oldRow = await euRow.elementHandle();
    await page.click('#refresh');
    await oldRow.waitForElementState('hidden'); // replaced
    await page.waitForSelector('#explore:not([aria-busy]) .explore-table tbody tr');
    expect(await euRow.locator('select').inputValue()).toBe('preset:1h');
    await euRow.locator('button.explore-comparison').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/comparison');
    expect(param(page, 'query')).toContain('region="eu"');
    expect(param(page, 'leftQuery')).toBeNull(); // the same query on both sides
    expect([param(page, 'leftFrom'), param(page, 'leftUntil')]).toEqual(['now-2h', 'now-1h']);
    await waitForComparison(page);

    // A value's own flame graph.
    await page.goBack();
    await expect.poll(() => param(page, 'explore')).toBe('region');
    await page.waitForSelector('#explore:not([aria-busy]) .explore-table tbody tr');
    await page.locator('.explore-table button.link', { hasText: 'eu' }).click();
    await expect.poll(() => param(page, 'query')).toContain('region="eu"');
    await expect.poll(() => param(page, 'explore')).toBeNull();
    await waitForGraph(page);
    expect(await page.locator('.chip').textContent()).toContain('region="eu"');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('renders the dark theme', async () => {
    const page = await openPage(`${server.url}/?from=now-1h&until=now&search=acme`, 'dark');
    await waitForGraph(page);
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await shot(page, '05-dark');
    await page.click('#theme');
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.close();
  });

  it('shows how to send data when the server has none', async () => {
    const page = await openPage(`${emptyServer.url}/`);
    await page.waitForSelector('#message .onboarding');
    const text = (await page.locator('#message .onboarding').textContent()) ?? '';
    expect(text).toContain(emptyServer.url);
    for (const lang of ['Go', 'Node.js', 'Python']) expect(text).toContain(lang);
    await shot(page, '06-empty');
    await page.close();
  });

  it('explains errors and offers a retry', async () => {
    const page = await openPage(`${server.url}/?query=${encodeURIComponent('nope{service_name=')}`);
    await page.waitForSelector('.message.error');
    expect(await page.locator('.message.error').textContent()).toMatch(/Could not load/);
    await shot(page, '07-error');
    await page.close();
  });
});
