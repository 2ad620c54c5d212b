/**
 * Sign-in with an API key (issue 6): at startup the page asks the server who it is (`whoami`); when the server
 * wants a key and has none, and whenever a request gets a 401, a modal dialog asks for the key (and a tenant for
 * keys not bound to one), checks it with whoami, keeps it in localStorage ("remember on this device") or
 * sessionStorage, and the waiting requests retry. The header shows the role and tenant and a "Sign out" button.
 * A 403 is not a sign-in problem: the pages show its message (http.ts) with a "Use another key" button.
 */
import {
  boundTenantConflict,
  clearCredentials,
  identityLabel,
  loadCredentials,
  needsSignIn,
  needsTenant,
  saveCredentials,
  signInReason,
  tenantError,
  type WhoAmI,
} from '../src/auth.js';
import { h } from './dom.js';
import {
  browserStores,
  currentCredentials,
  currentIdentity,
  onIdentityChange,
  onSignInRequired,
  setCredentials,
  setIdentity,
  whoAmI,
} from './http.js';

/** Asks the server who we are and, if it wants a key we don't have, waits for a sign-in. */
export async function initAuth(): Promise<void> {
  onSignInRequired(signIn);
  let who: WhoAmI | undefined;
  try {
    // Bounded: a server that never answers must not leave the page blank (its own requests will say more).
    who = await whoAmI(undefined, AbortSignal.timeout(10_000));
  } catch {
    // The server is unreachable or answered garbage: the page's own requests will say so.
    who = undefined;
  }
  setIdentity(who);
  if (who && needsSignIn(who))
    await signIn(
      currentCredentials()?.key
        ? 'The saved API key was not accepted (revoked or mistyped). Enter a key.'
        : 'This server requires an API key.',
    );
  else if (who && needsTenant(who)) await signIn(TENANT_REASON);
}

const TENANT_REASON = 'This server has several tenants: enter yours.';

let dialog: SignInDialog | undefined;

/** Shows the sign-in dialog; resolves once a key (or tenant) was accepted and saved. */
export function signIn(reason: string): Promise<void> {
  dialog ??= new SignInDialog();
  return dialog.open(signInReason(reason));
}

/** Forgets the key, asks for another one and reloads the page with it (every view refetches). */
export async function signOut(): Promise<void> {
  clearCredentials(browserStores());
  setCredentials(undefined);
  try {
    setIdentity(await whoAmI(undefined));
  } catch {
    setIdentity(undefined);
  }
  await signIn('Signed out. Enter an API key to continue.');
  location.reload();
}

class SignInDialog {
  private readonly element: HTMLDialogElement;
  private readonly reason = h('p', { class: 'signin-reason', id: 'signin-reason', role: 'alert' });
  private readonly intro = h('p', { class: 'muted' });
  // No `name` attributes: even a form submitted without JavaScript could not put the key in a URL.
  private readonly keyInput = h('input', {
    id: 'signin-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-label': 'API key',
  });
  private readonly tenantInput = h('input', {
    id: 'signin-tenant',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'optional',
    'aria-label': 'Tenant',
  });
  private readonly rememberBox = h('input', { id: 'signin-remember', type: 'checkbox' });
  private readonly error = h('p', { class: 'error-text', id: 'signin-error', role: 'alert' });
  private readonly submit = h('button', { id: 'signin-submit', type: 'submit', class: 'primary' }, 'Sign in');
  private resolve: (() => void) | undefined;
  private pending: Promise<void> | undefined;

  constructor() {
    const form = h(
      'form',
      { class: 'signin-form', method: 'dialog', novalidate: true },
      h('h2', {}, 'Sign in to Emberscope'),
      this.intro,
      this.reason,
      h('label', { class: 'signin-field', for: 'signin-key' }, h('span', {}, 'API key'), this.keyInput),
      h(
        'label',
        { class: 'signin-field', for: 'signin-tenant' },
        h('span', {}, 'Tenant'),
        this.tenantInput,
        h('small', { class: 'muted' }, 'Sent as X-Scope-OrgID; only needed for keys not bound to a tenant.'),
      ),
      h(
        'label',
        { class: 'toggle signin-remember' },
        this.rememberBox,
        'Remember on this device',
        h('small', { class: 'muted' }, ' (otherwise until this tab is closed)'),
      ),
      this.error,
      h('div', { class: 'actions' }, this.submit),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.check();
    });
    this.element = h('dialog', { class: 'signin', id: 'signin', 'aria-labelledby': 'signin-title' }, form);
    (form.firstElementChild as HTMLElement).id = 'signin-title';
    // The dialog is the only way on: Esc does not dismiss it.
    this.element.addEventListener('cancel', (e) => e.preventDefault());
    document.body.append(this.element);
  }

  open(reason: string): Promise<void> {
    if (this.pending) {
      this.reason.textContent = reason;
      return this.pending;
    }
    const who = currentIdentity();
    const saved = loadCredentials(browserStores());
    this.keyInput.value = '';
    // A key in use can be kept (e.g. when only the tenant was missing); it is never put back into the field.
    this.keyInput.placeholder = currentCredentials()?.key ? 'leave empty to keep the current key' : '';
    this.tenantInput.value = currentCredentials()?.tenant ?? '';
    const multitenant = who?.multitenancy === true;
    this.tenantInput.placeholder = multitenant ? 'required unless the key is bound to a tenant' : 'optional';
    this.tenantInput.setAttribute('aria-required', String(multitenant));
    this.rememberBox.checked = saved?.remembered ?? false;
    this.error.textContent = '';
    this.reason.textContent = reason;
    this.reason.hidden = reason === '';
    const keysChecked = who?.authEnabled !== false;
    this.intro.replaceChildren(
      keysChecked
        ? 'Enter an API key. An admin creates one with '
        : 'This server does not check API keys, but it needs to know your tenant. ',
      keysChecked ? h('code', {}, 'emberscope admin keys create --role read') : '',
      keysChecked ? '.' : '',
    );
    this.submit.disabled = false;
    this.pending = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
    if (!this.element.open) this.element.showModal();
    // A key the server accepted only lacks a tenant: start there.
    (keysChecked && (!who || needsSignIn(who)) ? this.keyInput : this.tenantInput).focus();
    return this.pending;
  }

  private async check(): Promise<void> {
    const key = this.keyInput.value.trim() || currentCredentials()?.key || '';
    const tenant = this.tenantInput.value.trim();
    const bad = tenantError(tenant);
    if (bad) return this.fail(`Tenant: ${bad}`, this.tenantInput);
    const keysChecked = currentIdentity()?.authEnabled !== false;
    if (keysChecked && !key) return this.fail('Enter an API key.', this.keyInput);
    const candidate = { key, tenant };
    this.submit.disabled = true;
    this.error.textContent = 'Checking…';
    let who: WhoAmI;
    try {
      who = await whoAmI(candidate);
    } catch (err) {
      this.submit.disabled = false;
      return this.fail(`Could not check the key: ${(err as Error).message}`);
    }
    this.submit.disabled = false;
    if (needsSignIn(who))
      return this.fail('This key was not accepted: it is unknown or revoked.', this.keyInput);
    if (needsTenant(who))
      return this.fail(
        keysChecked
          ? 'This key is not bound to a tenant and this server has several: enter your tenant.'
          : 'This server has several tenants: enter yours.',
        this.tenantInput,
      );
    const bound = boundTenantConflict(who, tenant);
    if (bound)
      return this.fail(
        `This key is bound to tenant "${bound}": leave the tenant empty or enter "${bound}".`,
        this.tenantInput,
      );
    saveCredentials(candidate, this.rememberBox.checked, browserStores());
    setCredentials(candidate);
    setIdentity(who);
    this.keyInput.value = '';
    this.element.close();
    const resolve = this.resolve;
    this.pending = undefined;
    this.resolve = undefined;
    resolve?.();
  }

  private fail(message: string, focus?: HTMLInputElement): void {
    this.error.textContent = message;
    focus?.focus();
    focus?.select();
  }
}

/** The header's "read key · tenant acme  [Sign out]"; empty and hidden while there is nothing to show. */
export function authBadge(): HTMLElement {
  const label = h('span', { class: 'auth-identity', id: 'auth-identity' });
  const out = h('button', { id: 'sign-out', title: 'Forget the API key and enter another one' }, 'Sign out');
  out.addEventListener('click', () => void signOut());
  const el = h('span', { class: 'auth-badge', hidden: true }, label, out);
  const render = () => {
    const who = currentIdentity();
    const creds = currentCredentials();
    const text = who ? identityLabel(who, creds?.tenant ?? '') : '';
    label.textContent = text;
    label.title = who?.keyId ? `API key ${who.keyId}` : '';
    out.hidden = who?.via === 'proxy' || !(creds?.key || creds?.tenant);
    el.hidden = text === '' && out.hidden;
  };
  onIdentityChange(render);
  render();
  return el;
}

/** A 403's explanation with a way out: the server refused this key, so offer to use another one. */
export function forbiddenPanel(title: string, message: string): HTMLElement {
  const other = h('button', { id: 'use-another-key' }, 'Use another key');
  other.addEventListener('click', () => void signOut());
  const who = currentIdentity();
  return h(
    'div',
    { class: 'forbidden' },
    h('h2', {}, title),
    h('p', { class: 'error-text', id: 'forbidden-message' }, message),
    who?.role && who.authEnabled
      ? h('p', { class: 'muted' }, `Signed in as: ${identityLabel(who, currentCredentials()?.tenant ?? '')}.`)
      : undefined,
    h('div', { class: 'actions' }, other),
  );
}
