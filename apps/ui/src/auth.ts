/**
 * API-key sign-in, the DOM-free part: the request headers, where the credentials are kept, the server's
 * `GET /api/v1/auth/whoami` answer, and the messages shown for 401 and 403. The key is only ever kept in
 * web storage and sent in the `Authorization` header: never in a URL, the view state, a log or a message.
 */

/** Storage keys (localStorage when "remember on this device" is checked, sessionStorage otherwise). */
export const KEY_STORAGE = 'emberscope.apiKey';
export const TENANT_STORAGE = 'emberscope.tenant';

/** The part of the Web Storage API used here (localStorage and sessionStorage both have it). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Stores {
  local: StorageLike | undefined;
  session: StorageLike | undefined;
}

export interface Credentials {
  /** The API key; empty when the server needs only a tenant (multi-tenancy without auth). */
  key: string;
  /** Sent as X-Scope-OrgID when not empty (keys not bound to a tenant, on multi-tenant servers). */
  tenant: string;
}

export type Role = 'admin' | 'read' | 'ingest';

/** `GET /api/v1/auth/whoami`: what the server makes of the credentials the request carried. */
export interface WhoAmI {
  authEnabled: boolean;
  /** Several tenants (X-Scope-OrgID); absent (older servers) means off. */
  multitenancy?: boolean;
  role: Role | null;
  tenant: string | null;
  keyId: string | null;
  via: 'key' | 'proxy' | 'none';
}

/** What a server without the whoami route (404) is taken to mean: no authentication. */
export const AUTH_DISABLED: WhoAmI = {
  authEnabled: false,
  role: null,
  tenant: null,
  keyId: null,
  via: 'none',
};

/** The headers that carry the credentials; none for absent or empty ones. */
export function authHeaders(c: Credentials | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const key = c?.key.trim() ?? '';
  const tenant = c?.tenant.trim() ?? '';
  if (key) out.Authorization = `Bearer ${key}`;
  if (tenant) out['X-Scope-OrgID'] = tenant;
  return out;
}

/** Where credentials go: remembered on this device (localStorage) or for this tab only (sessionStorage). */
export function storageFor(remember: boolean, stores: Stores): StorageLike | undefined {
  return remember ? stores.local : stores.session;
}

/**
 * Saved credentials: the tab's own (sessionStorage) first, then the device's (localStorage). `remembered` says
 * which one they came from, to pre-set the checkbox.
 */
export function loadCredentials(
  stores: Stores,
): { credentials: Credentials; remembered: boolean } | undefined {
  for (const [store, remembered] of [
    [stores.session, false],
    [stores.local, true],
  ] as const) {
    const key = safeGet(store, KEY_STORAGE);
    const tenant = safeGet(store, TENANT_STORAGE);
    if (key || tenant) return { credentials: { key: key ?? '', tenant: tenant ?? '' }, remembered };
  }
  return undefined;
}

/** Keeps the credentials in the chosen storage and removes them from the other one. */
export function saveCredentials(c: Credentials, remember: boolean, stores: Stores): void {
  clearCredentials(stores);
  const store = storageFor(remember, stores);
  if (!store) return;
  const key = c.key.trim();
  const tenant = c.tenant.trim();
  try {
    if (key) store.setItem(KEY_STORAGE, key);
    if (tenant) store.setItem(TENANT_STORAGE, tenant);
  } catch {
    // Storage full or disabled: the credentials then last as long as the page.
  }
}

export function clearCredentials(stores: Stores): void {
  for (const store of [stores.local, stores.session])
    for (const k of [KEY_STORAGE, TENANT_STORAGE])
      try {
        store?.removeItem(k);
      } catch {
        // disabled storage: nothing to clear
      }
}

function safeGet(store: StorageLike | undefined, key: string): string | null {
  try {
    return store?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

const ROLES: readonly Role[] = ['admin', 'read', 'ingest'];

/** Validates a whoami answer; anything unexpected is an error (the UI then shows it instead of guessing). */
export function parseWhoAmI(json: unknown): WhoAmI {
  if (typeof json !== 'object' || json === null) throw new Error('whoami: not a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.authEnabled !== 'boolean') throw new Error('whoami: authEnabled is not a boolean');
  const role = o.role ?? null;
  if (role !== null && !ROLES.includes(role as Role))
    throw new Error(`whoami: unknown role ${JSON.stringify(role)}`);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const via = o.via === 'key' || o.via === 'proxy' ? o.via : 'none';
  return {
    authEnabled: o.authEnabled,
    multitenancy: o.multitenancy === true,
    role: role as Role | null,
    tenant: str(o.tenant),
    keyId: str(o.keyId),
    via,
  };
}

/** Does the UI have to ask for a key before it can show anything? */
export function needsSignIn(who: WhoAmI): boolean {
  return who.authEnabled && who.role === null && who.via !== 'proxy';
}

/**
 * Does the UI have to ask for a tenant before it can show anything? On a multi-tenant server whoami names the
 * tenant of a bound key, or the X-Scope-OrgID sent with an unbound key (or without auth); none means neither.
 */
export function needsTenant(who: WhoAmI): boolean {
  return who.multitenancy === true && who.role !== null && who.tenant === null;
}

/** The tenant of every request on a server without multi-tenancy (X-Scope-OrgID is ignored there). */
export const DEFAULT_TENANT = 'anonymous';

/**
 * The header's short description of who is signed in; empty when there is nothing to say (no auth and no
 * tenant: a server without auth answers whoami with the admin role for everyone, which is not worth showing).
 */
export function identityLabel(who: WhoAmI, tenantSent: string): string {
  const sent = tenantSent.trim();
  if (!who.authEnabled) return sent ? `tenant ${sent}` : '';
  const tenant = who.tenant && (who.tenant !== DEFAULT_TENANT || sent) ? who.tenant : sent;
  const parts: string[] = [];
  if (who.role) parts.push(who.via === 'proxy' ? `${who.role} · via proxy` : `${who.role} key`);
  if (tenant) parts.push(`tenant ${tenant}`);
  return parts.join(' · ');
}

/**
 * The tenant a key is bound to, when whoami shows one that differs from the tenant entered (whoami reports
 * the bound tenant for bound keys, the entered one for unbound keys on multi-tenant servers, and "anonymous"
 * on single-tenant servers, which ignore the entered tenant).
 */
export function boundTenantConflict(who: WhoAmI, tenantEntered: string): string | undefined {
  const t = tenantEntered.trim();
  if (!who.tenant || !t || who.tenant === t || who.tenant === DEFAULT_TENANT) return undefined;
  return who.tenant;
}

/** Reading profiles, labels, series and targets needs one of these roles. */
export const READ_ROLES: readonly Role[] = ['read', 'admin'];

/**
 * A clear sentence for a 403: which tenant the key can't read or which role it lacks, from what whoami said
 * about the key and the tenant the UI sent; the server's own message otherwise.
 */
export function forbiddenMessage(serverMessage: string, who: WhoAmI | undefined, tenantSent: string): string {
  const sent = tenantSent.trim();
  if (who?.role && !READ_ROLES.includes(who.role))
    return `This key has the ${who.role} role: viewing profiles needs the read role (or admin). Sign in with a read key.`;
  const bound = who ? boundTenantConflict(who, sent) : undefined;
  if (bound) return `This key can't read tenant "${sent}": it is bound to tenant "${bound}".`;
  const tenant = sent || who?.tenant || '';
  if (tenant && /tenant/i.test(serverMessage)) return `This key can't read tenant "${tenant}".`;
  if (/\brole\b/i.test(serverMessage)) return `This key's role can't do this: it needs the read role.`;
  return serverMessage || 'This key is not allowed to do this.';
}

/** Removes every occurrence of the secret from a text meant for the screen (an echoing server or proxy). */
export function redactSecret(text: string, secret: string): string {
  const s = secret.trim();
  if (s.length < 4) return text;
  return text.split(s).join('•••');
}

/** Tenant ids the server accepts (apps/server/src/tenant.ts); checked before sending, for a clear message. */
export function tenantError(tenant: string): string | undefined {
  const t = tenant.trim();
  if (t === '') return undefined;
  if (!/^[A-Za-z0-9_.-]{1,150}$/.test(t) || t === '.' || t === '..')
    return 'Use 1–150 characters among A–Z a–z 0–9 _ . -';
  return undefined;
}

/** The dialog's first line for a 401: the server's message, with what to do when it is about the tenant. */
export function signInReason(serverMessage: string): string {
  if (/x-scope-orgid|org id|tenant/i.test(serverMessage))
    return `This server has several tenants: enter yours. (${serverMessage})`;
  return serverMessage;
}
