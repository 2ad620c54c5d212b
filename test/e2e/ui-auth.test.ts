/**
 * API-key sign-in in the web UI (issue 6) in a real browser: Debian's Chromium driven by playwright-core against a
 * real `emberscope server --auth-enabled` whose keys were made with `emberscope admin keys create` on its data
 * directory. Covers the sign-in dialog (wrong key, right key, "remember on this device" → localStorage or
 * sessionStorage), the key on every request and never in a URL, a key revoked mid-session (401 → dialog → the
 * view retries), 403s that name the missing role or tenant, sign-out, exports and the Targets page with a key,
 * and the new views (sign-in, comparison, diff, shortcuts) under the server's real Content-Security-Policy.
 * Screenshots go to EMBERSCOPE_E2E_ARTIFACTS (default: <tmp>/emberscope-e2e-artifacts/ui).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { Profile } from 'pprof-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageErrors, recordPageErrors, waitForGraph } from '../support/browser.js';
import { cpuProfile } from '../support/profiles.js';
import { CLI_BIN, REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const ARTIFACTS =
  process.env.EMBERSCOPE_E2E_ARTIFACTS ?? path.join(os.tmpdir(), 'emberscope-e2e-artifacts', 'ui');
const UI_INDEX = path.join(REPO_ROOT, 'apps', 'ui', 'dist', 'index.html');
const APP = `ui-auth-${Math.random().toString(36).slice(2, 8)}`;

let server: RunningServer;
let browser: Browser;
let dataDir = '';
const keys = { read: '', ingest: '', acme: '', revokable: '' };

/** `emberscope admin keys …` offline on a server's data directory; stdout. */
function keysCli(dir: string, ...args: string[]): string {
  return execFileSync(process.execPath, [CLI_BIN, 'admin', 'keys', ...args, '--data-dir', dir], {
    encoding: 'utf8',
  }).trim();
}

function createKey(role: string, description: string, tenant?: string, dir = dataDir): string {
  const key = keysCli(
    dir,
    'create',
    '--role',
    role,
    '--description',
    description,
    ...(tenant ? ['--tenant', tenant] : []),
  );
  expect(key).toMatch(/^\S+$/); // the key alone on stdout
  return key;
}

async function newContext(opts: { csp?: boolean; theme?: 'light' | 'dark' } = {}): Promise<BrowserContext> {
  // bypassCSP (as in ui.test.ts): waitForFunction evaluates string predicates, which the server's CSP forbids;
  // the last test here runs under the real policy instead.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: !opts.csp });
  await context.addInitScript(
    `localStorage.setItem('emberscope.theme', ${JSON.stringify(opts.theme ?? 'light')})`,
  );
  return context;
}

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = recordPageErrors(await context.newPage());
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

async function signIn(
  page: Page,
  key: string,
  opts: { remember?: boolean; tenant?: string } = {},
): Promise<void> {
  await page.waitForSelector('#signin[open]');
  await page.fill('#signin-key', key);
  await page.fill('#signin-tenant', opts.tenant ?? '');
  await page.setChecked('#signin-remember', opts.remember ?? false);
  await page.click('#signin-submit');
}

const storage = (page: Page, which: 'localStorage' | 'sessionStorage') =>
  page.evaluate(
    `({ key: ${which}.getItem('emberscope.apiKey'), tenant: ${which}.getItem('emberscope.tenant') })`,
  ) as Promise<{
    key: string | null;
    tenant: string | null;
  }>;

const isApi = (url: string) =>
  /\/(querier\.v1\.|pyroscope\/|api\/v1\/|render\?)/.test(new URL(url).pathname + new URL(url).search);

beforeAll(async () => {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} is missing: build the UI first (npm run build)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-ui-auth-'));
  keys.read = createKey('read', 'ui e2e: reader');
  keys.ingest = createKey('ingest', 'ui e2e: writer');
  keys.acme = createKey('read', 'ui e2e: acme reader', 'acme');
  keys.revokable = createKey('read', 'ui e2e: revoke me');
  server = await startServer({ name: 'e2e-ui-auth', dataDir, args: ['--auth-enabled'] });
  const now = Date.now();
  for (let i = 0; i < 4; i++) {
    const at = now - (4 - i) * 120_000;
    const from = Math.floor(at / 1000);
    const res = await fetch(
      `${server.url}/ingest?name=${encodeURIComponent(`${APP}{env=prod}`)}&from=${from}&until=${from + 10}&format=pprof`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.ingest}` },
        body: cpuProfile(
          {
            'runtime.main;main.main;shop/checkout.Handle;encoding/json.Marshal': 10 + i,
            'runtime.main;main.main;shop/search.Handle;regexp.(*Regexp).FindAllString': 5 + i,
          },
          BigInt(at) * 1_000_000n,
        ),
      },
    );
    expect(res.status, await res.text()).toBe(200);
  }
  // Earlier data, for the comparison and diff views under the CSP.
  const at = now - 70 * 60_000;
  const res = await fetch(
    `${server.url}/ingest?name=${encodeURIComponent(`${APP}{env=prod}`)}&from=${Math.floor(at / 1000)}&format=pprof`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ingest}` },
      body: cpuProfile(
        { 'runtime.main;main.main;shop/checkout.Handle;encoding/json.Marshal': 30 },
        BigInt(at) * 1_000_000n,
      ),
    },
  );
  expect(res.status, await res.text()).toBe(200);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('web UI with API keys (--auth-enabled)', () => {
  it('the server wants a key: the API answers 401, the UI files and whoami are public', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    const api = await fetch(`${server.url}/api/v1/targets`);
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ code: 'unauthenticated' });
    const who = await fetch(`${server.url}/api/v1/auth/whoami`, {
      headers: { authorization: `Bearer ${keys.read}` },
    });
    expect(await who.json()).toMatchObject({ authEnabled: true, role: 'read', via: 'key' });
  });

  it('asks for a key, refuses a wrong one, signs in for this tab only, and sends the key only in a header', async () => {
    const context = await newContext();
    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    await page.waitForSelector('#signin[open]');
    expect(await page.locator('#signin-reason').textContent()).toMatch(/requires an API key/);
    expect(await page.getAttribute('#signin-key', 'type')).toBe('password');
    await shot(page, '20-signin');

    await signIn(page, 'emb_not_a_real_key');
    await page.waitForSelector('#signin-error:has-text("not accepted")');
    expect(await page.locator('#signin[open]').count()).toBe(1);

    await signIn(page, keys.read);
    await waitForGraph(page);
    expect(await page.locator('#signin[open]').count()).toBe(0);
    expect(await page.locator('#auth-identity').textContent()).toBe('read key');
    expect(await page.locator('#sign-out').isVisible()).toBe(true);
    // "Remember on this device" unchecked: the key is kept for this tab only.
    expect(await storage(page, 'sessionStorage')).toEqual({ key: keys.read, tenant: null });
    expect(await storage(page, 'localStorage')).toEqual({ key: null, tenant: null });
    await shot(page, '21-signed-in');

    // Every API request carried the key as a bearer token, and no URL ever held it.
    const api = requests.filter((r) => r.url().startsWith(server.url) && isApi(r.url()));
    expect(api.length).toBeGreaterThan(3);
    // (whoami is also asked with each key typed into the dialog, to check it before saving it.)
    for (const r of api.filter((r) => !r.url().includes('/api/v1/auth/whoami')))
      expect((await r.allHeaders()).authorization, r.url()).toBe(`Bearer ${keys.read}`);
    for (const r of requests) expect(r.url()).not.toContain(keys.read);
    expect(page.url()).not.toContain(keys.read);
    expect(await page.content()).not.toContain(keys.read);

    // A reload in the same tab stays signed in; another browser (context) asks again.
    await page.reload();
    await waitForGraph(page);
    expect(await page.locator('#signin[open]').count()).toBe(0);
    const other = await openPage(await newContext(), `${server.url}/`);
    await other.waitForSelector('#signin[open]');
    expect(pageErrors(page)).toEqual([]);
    await other.context().close();
    await context.close();
  });

  it('remembers the key on this device when asked, and signs out', async () => {
    const context = await newContext({ theme: 'dark' });
    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    await page.waitForSelector('#signin[open]');
    await shot(page, '20-signin-dark');
    await signIn(page, keys.read, { remember: true });
    await waitForGraph(page);
    expect(await storage(page, 'localStorage')).toEqual({ key: keys.read, tenant: null });
    expect(await storage(page, 'sessionStorage')).toEqual({ key: null, tenant: null });
    // Another tab of the same browser needs no sign-in.
    const tab = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    await waitForGraph(tab);
    expect(await tab.locator('#signin[open]').count()).toBe(0);
    await shot(tab, '21-signed-in-dark');
    await tab.close();

    // Sign out: the key is forgotten everywhere and the dialog comes back.
    await page.click('#sign-out');
    await page.waitForSelector('#signin[open]');
    expect(await page.locator('#signin-reason').textContent()).toMatch(/Signed out/);
    expect(await storage(page, 'localStorage')).toEqual({ key: null, tenant: null });
    expect(await storage(page, 'sessionStorage')).toEqual({ key: null, tenant: null });
    await Promise.all([page.waitForEvent('load'), signIn(page, keys.read)]);
    await waitForGraph(page);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a key revoked mid-session (401) brings the dialog back and the view retries without a reload', async () => {
    const context = await newContext();
    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    await signIn(page, keys.revokable);
    await waitForGraph(page);
    // The view writes its whole state into the address bar once loaded (after the frame that shows it).
    await expect.poll(() => new URL(page.url()).searchParams.get('query')).not.toBeNull();
    const url = page.url();
    await page.evaluate('window.__sameDocument = true');

    const listed = JSON.parse(keysCli(dataDir, 'list', '--output', 'json')) as {
      keys: Array<{ id: string; description: string }>;
    };
    const id = listed.keys.find((k) => k.description === 'ui e2e: revoke me')?.id;
    expect(id).toBeDefined();
    keysCli(dataDir, 'revoke', id as string);

    await page.click('#refresh');
    await page.waitForSelector('#signin[open]');
    // The server's reason, without the key.
    const reason = (await page.locator('#signin-reason').textContent()) ?? '';
    expect(reason).toMatch(/invalid API key/);
    expect(reason).not.toContain(keys.revokable);
    await signIn(page, keys.read);
    await page.waitForSelector('#signin', { state: 'hidden' });
    await waitForGraph(page);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await expect.poll(() => page.url()).toBe(url);
    expect(await storage(page, 'sessionStorage')).toEqual({ key: keys.read, tenant: null });
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a 403 names the missing role or tenant instead of asking for a key again', async () => {
    const context = await newContext();
    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    // An ingest key is a valid key, but it cannot read.
    await signIn(page, keys.ingest);
    await page.waitForSelector('#forbidden-message');
    expect(await page.locator('#forbidden-message').textContent()).toMatch(
      /ingest role.*needs the read role/,
    );
    expect(await page.locator('#signin[open]').count()).toBe(0);
    expect(await page.locator('#auth-identity').textContent()).toBe('ingest key');
    await shot(page, '22-forbidden-role');
    await page.click('#use-another-key');
    await page.waitForSelector('#signin[open]');

    // A key bound to tenant acme, with another tenant entered: the dialog says so before anything is sent.
    await signIn(page, keys.acme, { tenant: 'globex' });
    await page.waitForSelector('#signin-error:has-text("bound to tenant")');
    expect(await page.locator('#signin-error').textContent()).toBe(
      'This key is bound to tenant "acme": leave the tenant empty or enter "acme".',
    );
    await Promise.all([page.waitForEvent('load'), signIn(page, keys.read)]);
    await waitForGraph(page);
    await context.close();

    // The same key with a stored tenant it can't read (e.g. kept from an earlier sign-in): the view says which.
    const mismatch = await newContext();
    await mismatch.addInitScript(
      `sessionStorage.setItem('emberscope.apiKey', ${JSON.stringify(keys.acme)}); sessionStorage.setItem('emberscope.tenant', 'globex');`,
    );
    const page2 = await openPage(mismatch, `${server.url}/?from=now-1h&until=now`);
    await page2.waitForSelector('#forbidden-message');
    expect(await page2.locator('#forbidden-message').textContent()).toBe(
      `This key can't read tenant "globex": it is bound to tenant "acme".`,
    );
    await shot(page2, '22-forbidden-tenant');
    await mismatch.close();
  });

  it('exports and the Targets page send the key too', async () => {
    const context = await newContext();
    await context.addInitScript(`sessionStorage.setItem('emberscope.apiKey', ${JSON.stringify(keys.read)})`);
    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    await waitForGraph(page);
    await page.click('#export');
    const [pprof] = await Promise.all([page.waitForEvent('download'), page.click('#export-pprof')]);
    const pprofFile = path.join(ARTIFACTS, 'auth-export.pb.gz');
    await pprof.saveAs(pprofFile);
    const profile = Profile.decode(gunzipSync(readFileSync(pprofFile)));
    expect(profile.function.map((f) => String(profile.stringTable.strings[Number(f.name)]))).toContain(
      'shop/checkout.Handle',
    );
    await page.click('#export');
    const [html] = await Promise.all([page.waitForEvent('download'), page.click('#export-html')]);
    const htmlFile = path.join(ARTIFACTS, 'auth-export.html');
    await html.saveAs(htmlFile);
    expect(readFileSync(htmlFile, 'utf8')).toMatch(/<html/i);

    await page.goto(`${server.url}/targets`);
    await page.waitForSelector('#message:has-text("No scrape targets")');
    expect(await page.locator('#signin[open]').count()).toBe(0);
    expect(await page.locator('#auth-identity').textContent()).toBe('read key');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('sign-in, comparison, diff and the shortcuts list cause no CSP violation and no foreign request', async () => {
    const context = await newContext({ csp: true });
    await context.addInitScript(`
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
      });
    `);
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const violations: string[] = [];
    const collect = async (page: Page) =>
      violations.push(...((await page.evaluate('window.__cspViolations')) as string[]));

    const page = await openPage(context, `${server.url}/?from=now-1h&until=now`);
    await signIn(page, keys.read);
    await page.waitForSelector('.tt-body .tt-row');
    await page.keyboard.press('?');
    await page.waitForSelector('#shortcuts[open]');
    await page.keyboard.press('Escape');
    await collect(page);
    await page.goto(`${server.url}/comparison?from=now-1h&until=now&leftFrom=now-2h&leftUntil=now-1h`);
    await page.waitForSelector('#status:has-text("Baseline")');
    await page.waitForSelector('#baseline-side .side-total:has-text("total")');
    await collect(page);
    await page.goto(`${server.url}/diff?from=now-1h&until=now&leftFrom=now-2h&leftUntil=now-1h`);
    await page.waitForSelector('.dt-body .dt-row');
    await page.waitForSelector('.diff-legend .legend-swatch');
    await collect(page);
    expect(violations).toEqual([]);
    expect(pageErrors(page)).toEqual([]);
    expect(
      requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:')),
    ).toEqual([]);
    await context.close();
  });
});

describe('web UI on a multi-tenant server (--auth-enabled --multitenancy-enabled)', () => {
  let mt: RunningServer;
  const mtKeys = { unbound: '', acme: '' };
  const fnOf = { acme: 'acme/billing.Invoice', globex: 'globex/rockets.Launch' };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-ui-mt-'));
    mtKeys.unbound = createKey('read', 'ui e2e: reader of any tenant', undefined, dir);
    mtKeys.acme = createKey('read', 'ui e2e: acme reader', 'acme', dir);
    const writer = createKey('ingest', 'ui e2e: writer of any tenant', undefined, dir);
    mt = await startServer({
      name: 'e2e-ui-auth-mt',
      dataDir: dir,
      args: ['--auth-enabled', '--multitenancy-enabled'],
    });
    // The same service in two tenants, each with a function of its own.
    const at = Date.now() - 120_000;
    for (const tenant of ['acme', 'globex'] as const) {
      const res = await fetch(
        `${mt.url}/ingest?name=${encodeURIComponent(`${APP}{env=prod}`)}&from=${Math.floor(at / 1000)}&format=pprof`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${writer}`, 'x-scope-orgid': tenant },
          body: cpuProfile({ [`runtime.main;main.main;${fnOf[tenant]}`]: 20 }, BigInt(at) * 1_000_000n),
        },
      );
      expect(res.status, await res.text()).toBe(200);
    }
    return async () => {
      await mt.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  it('whoami says multi-tenancy is on', async () => {
    const who = await fetch(`${mt.url}/api/v1/auth/whoami`, {
      headers: { authorization: `Bearer ${mtKeys.unbound}` },
    });
    expect(await who.json()).toMatchObject({
      authEnabled: true,
      multitenancy: true,
      role: 'read',
      tenant: null,
    });
  });

  it('asks for the tenant up front for a key bound to none, and sends it on every request, never in a URL', async () => {
    const context = await newContext();
    const page = await openPage(context, `${mt.url}/?from=now-1h&until=now`);
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    await page.waitForSelector('#signin[open]');
    expect(await page.getAttribute('#signin-tenant', 'aria-required')).toBe('true');

    // The key alone is accepted by the server, but names no tenant: the dialog stays and asks for one.
    await signIn(page, mtKeys.unbound);
    await page.waitForSelector('#signin-error:has-text("enter your tenant")');
    expect(await page.locator('#signin-error').textContent()).toBe(
      'This key is not bound to a tenant and this server has several: enter your tenant.',
    );
    expect(await page.evaluate('document.activeElement?.id')).toBe('signin-tenant');
    await shot(page, '23-signin-tenant-needed');

    await signIn(page, mtKeys.unbound, { tenant: 'globex' });
    await waitForGraph(page);
    expect(await page.locator('#signin[open]').count()).toBe(0);
    expect(await page.locator('#auth-identity').textContent()).toBe('read key · tenant globex');
    expect(await page.locator('.tt-body').textContent()).toContain(fnOf.globex);
    expect(await page.locator('.tt-body').textContent()).not.toContain(fnOf.acme);
    expect(await storage(page, 'sessionStorage')).toEqual({ key: mtKeys.unbound, tenant: 'globex' });
    await shot(page, '24-signed-in-tenant');

    // No API request went out without the tenant (the dialog's own whoami checks aside), and no URL holds it.
    const api = requests.filter(
      (r) => r.url().startsWith(mt.url) && isApi(r.url()) && !r.url().includes('/api/v1/auth/whoami'),
    );
    expect(api.length).toBeGreaterThan(0);
    for (const r of api) expect((await r.allHeaders())['x-scope-orgid'], r.url()).toBe('globex');
    for (const r of requests) expect(r.url()).not.toContain('globex');
    expect(page.url()).not.toContain('globex');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a saved key without a tenant gets the tenant question at startup; a bound key needs none', async () => {
    const context = await newContext();
    await context.addInitScript(
      `sessionStorage.setItem('emberscope.apiKey', ${JSON.stringify(mtKeys.unbound)})`,
    );
    const page = await openPage(context, `${mt.url}/?from=now-1h&until=now`);
    await page.waitForSelector('#signin[open]');
    expect(await page.locator('#signin-reason').textContent()).toMatch(/several tenants/);
    expect(await page.evaluate('document.activeElement?.id')).toBe('signin-tenant');
    // The key in use is kept: only the tenant is typed.
    await page.fill('#signin-tenant', 'acme');
    await page.click('#signin-submit');
    await waitForGraph(page);
    expect(await page.locator('.tt-body').textContent()).toContain(fnOf.acme);
    await context.close();

    const bound = await newContext();
    const page2 = await openPage(bound, `${mt.url}/?from=now-1h&until=now`);
    await signIn(page2, mtKeys.acme);
    await waitForGraph(page2);
    expect(await page2.locator('#auth-identity').textContent()).toBe('read key · tenant acme');
    expect(await page2.locator('.tt-body').textContent()).toContain(fnOf.acme);
    expect(pageErrors(page2)).toEqual([]);
    await bound.close();
  });
});
