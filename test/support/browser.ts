/**
 * Debian's Chromium driven by playwright-core for the browser tests (never a downloaded browser): headless,
 * no sandbox (CI runs as root), no GPU, and no background traffic of its own.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.EMBERSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Collects the page's uncaught errors from now on, for `pageErrors`: a UI test ends by expecting none. */
export function recordPageErrors(page: Page): Page {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  pageErrorLists.set(page, errors);
  return page;
}

const pageErrorLists = new WeakMap<Page, string[]>();

export const pageErrors = (page: Page): string[] => pageErrorLists.get(page) ?? [];

/** Waits until the single view has painted a flame graph (status line) and filled the top table. */
export async function waitForGraph(page: Page): Promise<void> {
  await page.waitForFunction("/nodes/.test(document.querySelector('#status')?.textContent ?? '')");
  await page.waitForSelector('.tt-body .tt-row');
}
