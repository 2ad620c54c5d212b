/**
 * Ad-hoc mode in a real browser (issue 4): Debian's Chromium driven by playwright-core against a real
 * `emberscope server` process serving the built UI (apps/ui/dist), with no profiles stored: a speedscope file
 * opened through the file input, then two collapsed files diffed in the browser (baseline and comparison),
 * a comparison dropped on the right half of the page, and a comparison in another unit refused.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui-adhoc).
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ?? path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui-adhoc');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');

/**
 * One sampled and one evented profile (two threads) in milliseconds, merged into one flame graph:
 * main;work;parse 30 + 10, main;work 10 + 5, main;gc 5, main 5 (its self time in the evented thread): 65 ms.
 */
const SPEEDSCOPE = {
  $schema: 'https://www.speedscope.app/file-format-schema.json',
  shared: {
    frames: [
      { name: 'main', file: 'main.js', line: 1 },
      { name: 'work', file: 'work.js', line: 10 },
      { name: 'parse', file: 'parse.js', line: 20 },
      { name: 'gc' },
    ],
  },
  profiles: [
    {
      type: 'sampled',
      name: 'worker',
      unit: 'milliseconds',
      startValue: 0,
      endValue: 45,
      samples: [
        [0, 1, 2],
        [0, 1],
        [0, 3],
      ],
      weights: [30, 10, 5],
    },
    {
      type: 'evented',
      name: 'main thread',
      unit: 'milliseconds',
      startValue: 0,
      endValue: 20,
      events: [
        { type: 'O', frame: 0, at: 0 },
        { type: 'O', frame: 1, at: 2 },
        { type: 'O', frame: 2, at: 5 },
        { type: 'C', frame: 2, at: 15 },
        { type: 'C', frame: 1, at: 17 },
        { type: 'C', frame: 0, at: 20 },
      ],
    },
  ],
};
const BASELINE = 'main;handler;json.Marshal 60\nmain;handler;db.Query 40\n';
const COMPARISON = 'main;handler;json.Marshal 30\nmain;handler;db.Query 60\nmain;gc 10\n';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'e2e-ui-adhoc' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  console.log(`UI screenshots in ${ARTIFACTS}`);
});

async function openPage(theme: 'light' | 'dark'): Promise<Page> {
  // bypassCSP: waitForFunction evaluates string predicates, which the server's CSP forbids.
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as unknown as { errors: string[] }).errors = errors;
  await page.addInitScript(`localStorage.setItem('emberscope.theme', ${JSON.stringify(theme)})`);
  await page.goto(server.url);
  // An empty server: the onboarding panel, from which a file can still be opened.
  await page.waitForSelector('#message:not([hidden])');
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

const text = (s: string) => ({ name: s, mimeType: 'text/plain', buffer: Buffer.from(s) });
const folded = (name: string, body: string) => ({ ...text(body), name });

/** The diff table's cells of one function: baseline value and share, comparison value and share, Δ, change. */
async function diffRow(page: Page, fn: string): Promise<string[]> {
  const row = page.locator(`#adhoc-diff-table .dt-body .dt-row[data-name="${fn}"]`);
  return Promise.all(
    [
      '.dt-baseline .v',
      '.dt-baseline .pct',
      '.dt-comparison .v',
      '.dt-comparison .pct',
      '.dt-delta',
      '.dt-change',
    ].map(async (c) => (await row.locator(c).textContent()) ?? ''),
  );
}

describe('web UI, ad-hoc mode', () => {
  it('opens a speedscope file: all profiles merged, totals in its unit', async () => {
    const page = await openPage('light');
    await page.setInputFiles('#file-input', {
      name: 'trace.speedscope.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SPEEDSCOPE)),
    });
    await page.waitForSelector('#adhoc-banner:not([hidden])');
    expect(await page.locator('#adhoc-banner').textContent()).toContain(
      'trace.speedscope.json · sample type time (milliseconds)',
    );
    // total, main, work, parse, gc.
    await page.waitForFunction("/^5 nodes/.test(document.querySelector('#status')?.textContent ?? '')");
    const first = page.locator('.tt-body .tt-row:visible').first();
    expect(await first.locator('.fn').textContent()).toBe('parse');
    expect(await first.locator('.tt-self .v').textContent()).toBe('40 ms');
    const main = page.locator('.tt-body .tt-row:visible', {
      has: page.locator('.fn', { hasText: /^main$/ }),
    });
    expect(await main.locator('.tt-total .v').textContent()).toBe('65 ms');
    expect(await main.locator('.tt-self .v').textContent()).toBe('5 ms');
    // What only the server can compute (tag explorer, exports, sandwich) is not offered for a file.
    expect(await page.locator('#explore-open').isHidden()).toBe(true);
    expect(await page.locator('#export').isHidden()).toBe(true);
    const graph = (await page.locator('.main-flame canvas').first().boundingBox())!;
    await page.mouse.click(graph.x + graph.width * 0.5, graph.y + 20 + 10, { button: 'right' });
    await page.waitForSelector('#context-menu:not([hidden])');
    const items = await page.locator('#context-menu [role="menuitem"]').allTextContents();
    expect(items).toContain('Copy function name');
    expect(items.some((i) => /Sandwich/.test(i))).toBe(false);
    await page.keyboard.press('Escape');
    await shot(page, '01-speedscope');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  for (const theme of ['light', 'dark'] as const)
    it(`diffs two collapsed files in the browser (${theme})`, async () => {
      const page = await openPage(theme);
      await page.setInputFiles('#file-input', folded('before.folded', BASELINE));
      await page.waitForSelector('#adhoc-compare');
      await page.setInputFiles('#compare-file-input', folded('after.folded', COMPARISON));
      await page.waitForSelector('#adhoc-diff-table .dt-body .dt-row');
      expect(await page.locator('#adhoc-baseline').textContent()).toBe('before.folded');
      expect(await page.locator('#adhoc-comparison').textContent()).toBe('after.folded');
      expect(await page.locator('.top-table').isHidden()).toBe(true);
      // 100 → 100 samples: db.Query 40 % → 60 %, json.Marshal 60 % → 30 %, gc new.
      expect(await diffRow(page, 'db.Query')).toEqual(['40', '40.0%', '60', '60.0%', '+20.0 pp', '+50.0%']);
      expect(await diffRow(page, 'json.Marshal')).toEqual([
        '60',
        '60.0%',
        '30',
        '30.0%',
        '−30.0 pp',
        '−50.0%',
      ]);
      expect(await diffRow(page, 'gc')).toEqual(['0', '0.00%', '10', '10.0%', '+10.0 pp', 'new']);
      // Sorted by Δ, biggest growth first, as on the diff page.
      expect(await page.locator('#adhoc-diff-table .dt-body .dt-row .dt-name').first().textContent()).toBe(
        'db.Query',
      );
      // total, main, handler, json.Marshal, db.Query, gc: one node per call path of either file.
      await page.waitForFunction("/^6 nodes/.test(document.querySelector('#status')?.textContent ?? '')");
      await shot(page, `02-diff-${theme}`);

      // The search counts each side's share and filters the diff table.
      await page.fill('#search', 'db.Query');
      await page.waitForFunction(
        "/40% of baseline · 60% of comparison matched/.test(document.querySelector('#search-info')?.textContent ?? '')",
      );
      // The table is refilled after the frame that shows the graph (aria-busy until then).
      await page.waitForSelector('#panes:not([aria-busy])');
      expect(await page.locator('#adhoc-diff-table .dt-body .dt-row:visible').count()).toBe(1);
      expect((page as unknown as { errors: string[] }).errors).toEqual([]);
      await page.close();
    });

  it('takes a comparison dropped on the right half, and refuses one in another unit', async () => {
    const page = await openPage('light');
    await page.setInputFiles('#file-input', folded('before.folded', BASELINE));
    await page.waitForSelector('#adhoc-compare');
    // A string: the tests' TypeScript has no DOM types.
    const dt = await page.evaluateHandle(
      `(() => { const d = new DataTransfer(); d.items.add(new File([${JSON.stringify(COMPARISON)}], 'dropped.folded', { type: 'text/plain' })); return d; })()`,
    );
    await page.dispatchEvent('body', 'dragover', { dataTransfer: dt, clientX: 1100, clientY: 400 });
    await page.waitForSelector('#drop-compare.active');
    expect(await page.locator('#drop-compare').textContent()).toBe('Drop here to compare with before.folded');
    await shot(page, '03-drop-split');
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt, clientX: 1100, clientY: 400 });
    await page.waitForSelector('#adhoc-comparison:has-text("dropped.folded")');
    expect(await diffRow(page, 'db.Query')).toEqual(['40', '40.0%', '60', '60.0%', '+20.0 pp', '+50.0%']);

    await page.setInputFiles('#compare-file-input', {
      name: 'trace.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SPEEDSCOPE)),
    });
    await page.waitForSelector('#message:not([hidden]) .error-text');
    expect(await page.locator('#message .error-text').textContent()).toBe(
      'cannot compare files in different units: the baseline is in count (samples), the comparison in milliseconds (time)',
    );
    await shot(page, '04-diff-refused');
    // The diff on screen before is kept.
    await page.click('#adhoc-back');
    await page.waitForSelector('#adhoc-diff-table .dt-body .dt-row');
    expect(await page.locator('#adhoc-comparison').textContent()).toBe('dropped.folded');
    await page.click('#adhoc-uncompare');
    await page.waitForSelector('.top-table .tt-body .tt-row');
    expect(await page.locator('#adhoc-diff-table').isHidden()).toBe(true);
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  });
});
