import { describe, expect, it } from 'vitest';
import {
  AUTH_DISABLED,
  authHeaders,
  boundTenantConflict,
  clearCredentials,
  forbiddenMessage,
  identityLabel,
  KEY_STORAGE,
  loadCredentials,
  needsSignIn,
  parseWhoAmI,
  redactSecret,
  type StorageLike,
  type Stores,
  saveCredentials,
  signInReason,
  storageFor,
  TENANT_STORAGE,
  tenantError,
  type WhoAmI,
} from '../src/auth.js';

class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

function stores(): Stores & { local: MemoryStorage; session: MemoryStorage } {
  return { local: new MemoryStorage(), session: new MemoryStorage() };
}

const readKey: WhoAmI = { authEnabled: true, role: 'read', tenant: null, keyId: 'k1', via: 'key' };

describe('auth headers', () => {
  it('sends the key as a bearer token and the tenant as X-Scope-OrgID, trimmed', () => {
    expect(authHeaders({ key: ' es_abc123 ', tenant: ' acme ' })).toEqual({
      Authorization: 'Bearer es_abc123',
      'X-Scope-OrgID': 'acme',
    });
  });

  it('leaves out what is empty', () => {
    expect(authHeaders(undefined)).toEqual({});
    expect(authHeaders({ key: '', tenant: '' })).toEqual({});
    expect(authHeaders({ key: 'k', tenant: ' ' })).toEqual({ Authorization: 'Bearer k' });
    expect(authHeaders({ key: '', tenant: 'acme' })).toEqual({ 'X-Scope-OrgID': 'acme' });
  });
});

describe('credential storage', () => {
  it('remembers on this device in localStorage, for the tab only in sessionStorage', () => {
    const s = stores();
    expect(storageFor(true, s)).toBe(s.local);
    expect(storageFor(false, s)).toBe(s.session);

    saveCredentials({ key: 'secret-1', tenant: 'acme' }, true, s);
    expect(s.local.getItem(KEY_STORAGE)).toBe('secret-1');
    expect(s.local.getItem(TENANT_STORAGE)).toBe('acme');
    expect(s.session.items.size).toBe(0);
    expect(loadCredentials(s)).toEqual({
      credentials: { key: 'secret-1', tenant: 'acme' },
      remembered: true,
    });

    // Unchecking "remember" moves them to the session and off the device.
    saveCredentials({ key: 'secret-2', tenant: '' }, false, s);
    expect(s.local.items.size).toBe(0);
    expect(s.session.getItem(KEY_STORAGE)).toBe('secret-2');
    expect(s.session.getItem(TENANT_STORAGE)).toBeNull();
    expect(loadCredentials(s)).toEqual({ credentials: { key: 'secret-2', tenant: '' }, remembered: false });
  });

  it("prefers the tab's own credentials, and clears both stores on sign-out", () => {
    const s = stores();
    s.local.setItem(KEY_STORAGE, 'device');
    s.session.setItem(KEY_STORAGE, 'tab');
    expect(loadCredentials(s)?.credentials.key).toBe('tab');
    clearCredentials(s);
    expect(s.local.items.size + s.session.items.size).toBe(0);
    expect(loadCredentials(s)).toBeUndefined();
  });

  it('survives unavailable or throwing storage', () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    expect(loadCredentials({ local: broken, session: undefined })).toBeUndefined();
    expect(() =>
      saveCredentials({ key: 'k', tenant: '' }, true, { local: broken, session: broken }),
    ).not.toThrow();
    expect(() => clearCredentials({ local: broken, session: undefined })).not.toThrow();
  });
});

describe('whoami', () => {
  it('parses the answer and tells when a key is needed', () => {
    const who = parseWhoAmI({ authEnabled: true, role: null, tenant: null, keyId: null, via: 'none' });
    expect(needsSignIn(who)).toBe(true);
    expect(
      needsSignIn(parseWhoAmI({ authEnabled: true, role: 'read', tenant: 't', keyId: 'k', via: 'key' })),
    ).toBe(false);
    expect(needsSignIn(AUTH_DISABLED)).toBe(false);
    // A trusted proxy in front: no key dialog even before the role is known.
    expect(needsSignIn({ ...AUTH_DISABLED, authEnabled: true, via: 'proxy' })).toBe(false);
  });

  it('rejects answers that are not whoami', () => {
    expect(() => parseWhoAmI(null)).toThrow(/object/);
    expect(() => parseWhoAmI({ role: 'read' })).toThrow(/authEnabled/);
    expect(() => parseWhoAmI({ authEnabled: true, role: 'root' })).toThrow(/role/);
  });

  it('describes the identity for the header', () => {
    expect(identityLabel(readKey, '')).toBe('read key');
    expect(identityLabel({ ...readKey, tenant: 'acme' }, '')).toBe('read key · tenant acme');
    expect(identityLabel(readKey, 'team-b')).toBe('read key · tenant team-b');
    // Single-tenant servers put everyone in "anonymous": not worth a mention unless asked for.
    expect(identityLabel({ ...readKey, tenant: 'anonymous' }, '')).toBe('read key');
    expect(identityLabel({ ...readKey, via: 'proxy', keyId: null }, '')).toBe('read · via proxy');
    expect(identityLabel(AUTH_DISABLED, '')).toBe('');
    // Without auth the server calls everyone admin: the UI does not show it.
    expect(identityLabel({ ...AUTH_DISABLED, role: 'admin', tenant: 'anonymous' }, '')).toBe('');
    expect(identityLabel(AUTH_DISABLED, 'acme')).toBe('tenant acme');
  });

  it('detects a key bound to another tenant than the one entered', () => {
    expect(boundTenantConflict({ ...readKey, tenant: 'acme' }, 'globex')).toBe('acme');
    expect(boundTenantConflict({ ...readKey, tenant: 'acme' }, 'acme')).toBeUndefined();
    expect(boundTenantConflict({ ...readKey, tenant: 'acme' }, '')).toBeUndefined();
    // A single-tenant server ignores the tenant: no conflict.
    expect(boundTenantConflict({ ...readKey, tenant: 'anonymous' }, 'globex')).toBeUndefined();
  });
});

describe('403 messages', () => {
  it('names the missing role', () => {
    expect(forbiddenMessage('permission denied', { ...readKey, role: 'ingest' }, '')).toMatch(
      /ingest role.*needs the read role/,
    );
  });

  it('names the tenant the key cannot read', () => {
    expect(forbiddenMessage('permission denied', { ...readKey, tenant: 'acme' }, 'globex')).toBe(
      `This key can't read tenant "globex": it is bound to tenant "acme".`,
    );
    expect(
      forbiddenMessage(
        'this key is bound to tenant "acme" and cannot act on tenant "globex"',
        readKey,
        'globex',
      ),
    ).toBe(`This key can't read tenant "globex".`);
  });

  it("falls back to the server's message", () => {
    expect(forbiddenMessage('the read role is required', readKey, '')).toMatch(/needs the read role/);
    expect(forbiddenMessage('nope', undefined, '')).toBe('nope');
    expect(forbiddenMessage('', undefined, '')).toMatch(/not allowed/);
  });
});

describe('sign-in reasons', () => {
  it('says what to do when the tenant is missing, and passes other messages on', () => {
    expect(signInReason('no org id: the X-Scope-OrgID header is required')).toMatch(
      /^This server has several tenants: enter yours\. \(no org id/,
    );
    expect(signInReason('invalid API key (unknown, revoked or mistyped)')).toBe(
      'invalid API key (unknown, revoked or mistyped)',
    );
  });
});

describe('secrets stay out of messages', () => {
  it('redacts every occurrence of the key', () => {
    expect(redactSecret('invalid key es_0123456789 (es_0123456789)', 'es_0123456789')).toBe(
      'invalid key ••• (•••)',
    );
    expect(redactSecret('unchanged', '')).toBe('unchanged');
  });

  it('checks tenant ids like the server does', () => {
    expect(tenantError('')).toBeUndefined();
    expect(tenantError('team-a_1.prod')).toBeUndefined();
    expect(tenantError('..')).toMatch(/characters/);
    expect(tenantError('a b')).toMatch(/characters/);
  });
});
