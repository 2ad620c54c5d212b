import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** What a key may do: `ingest` writes profiles, `read` queries them, `admin` does both and administers. */
export type Role = 'ingest' | 'read' | 'admin';
export const ROLES: readonly Role[] = ['ingest', 'read', 'admin'];

/** A stored key, without its secret. */
export interface KeyRecord {
  /** Public identifier, part of the key itself; what `list` shows and `revoke` takes. */
  id: string;
  role: Role;
  /** The only tenant the key may act on; null: any tenant (chosen by X-Scope-OrgID). */
  tenant: string | null;
  description: string;
  createdAt: string;
}

interface StoredKey extends KeyRecord {
  /** SHA-256 of the whole key, hex. */
  sha256: string;
}

interface KeyFile {
  version: 1;
  keys: StoredKey[];
}

export class KeyStoreError extends Error {}

/** Where a data directory keeps its keys. */
export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'auth', 'keys.json');
}

const KEY_PATTERN = /^emb_([0-9a-f]{16})_([A-Za-z0-9_-]{32})$/;
const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,150}$/;

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * API keys in `<data dir>/auth/keys.json`, stored as SHA-256 digests: a key is 24 random bytes, so a
 * fast hash is enough (no dictionary to slow down), and it keeps each request's check to microseconds.
 * The server and the offline CLI share the file: writes take a lock file and replace the file
 * atomically, and every lookup re-reads it when it changed, so a key created or revoked by either
 * takes effect on the next request.
 */
export class KeyStore {
  private keys: StoredKey[] = [];
  private byId = new Map<string, StoredKey>();
  private version = '';

  constructor(readonly file: string) {
    this.reload();
  }

  /** Creates a key; returns it (the only time it exists in clear) with its record. */
  create(opts: { role: Role; tenant?: string | null; description?: string }): {
    key: string;
    record: KeyRecord;
  } {
    if (!ROLES.includes(opts.role))
      throw new KeyStoreError(`unknown role ${JSON.stringify(opts.role)}: use ${ROLES.join(', ')}`);
    const tenant = opts.tenant || null;
    if (tenant !== null && (!TENANT_PATTERN.test(tenant) || tenant === '.' || tenant === '..'))
      throw new KeyStoreError(
        `invalid tenant ${JSON.stringify(tenant)}: use 1-150 characters among A-Z a-z 0-9 _ . -`,
      );
    const id = randomBytes(8).toString('hex');
    const key = `emb_${id}_${randomBytes(24).toString('base64url')}`;
    const stored: StoredKey = {
      id,
      role: opts.role,
      tenant,
      description: opts.description ?? '',
      createdAt: new Date().toISOString(),
      sha256: digest(key).toString('hex'),
    };
    this.update((keys) => [...keys, stored]);
    return { key, record: publicRecord(stored) };
  }

  list(): KeyRecord[] {
    this.reloadIfChanged();
    return this.keys.map(publicRecord);
  }

  /** Revokes by id; false when no such key exists. */
  revoke(id: string): boolean {
    let found = false;
    this.update((keys) =>
      keys.filter((k) => {
        if (k.id !== id) return true;
        found = true;
        return false;
      }),
    );
    return found;
  }

  get size(): number {
    this.reloadIfChanged();
    return this.keys.length;
  }

  /** The record of a valid key, or undefined. The digest comparison takes the same time wherever it differs. */
  authenticate(key: string): KeyRecord | undefined {
    const match = KEY_PATTERN.exec(key);
    if (!match) return undefined;
    this.reloadIfChanged();
    const stored = this.byId.get(match[1]);
    if (!stored) return undefined;
    return timingSafeEqual(digest(key), Buffer.from(stored.sha256, 'hex')) ? publicRecord(stored) : undefined;
  }

  private reloadIfChanged(): void {
    if (this.fileVersion() !== this.version) this.reload();
  }

  private fileVersion(): string {
    try {
      const s = statSync(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw err;
    }
  }

  private reload(): void {
    const version = this.fileVersion();
    let keys: StoredKey[] = [];
    if (version !== 'none') {
      let parsed: KeyFile;
      try {
        parsed = JSON.parse(readFileSync(this.file, 'utf8')) as KeyFile;
      } catch (err) {
        throw new KeyStoreError(`cannot read the key file ${this.file}: ${(err as Error).message}`);
      }
      if (parsed?.version !== 1 || !Array.isArray(parsed.keys))
        throw new KeyStoreError(`the key file ${this.file} is not an Emberscope key file (version 1)`);
      keys = parsed.keys;
    }
    this.keys = keys;
    this.byId = new Map(keys.map((k) => [k.id, k]));
    this.version = version;
  }

  /** Read-modify-write under the lock file, replacing the key file atomically. */
  private update(change: (keys: StoredKey[]) => StoredKey[]): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const release = acquireLock(`${this.file}.lock`);
    try {
      this.reload();
      const next: KeyFile = { version: 1, keys: change(this.keys) };
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.reload();
    } finally {
      release();
    }
  }
}

function publicRecord(k: StoredKey): KeyRecord {
  return { id: k.id, role: k.role, tenant: k.tenant, description: k.description, createdAt: k.createdAt };
}

/** An exclusive lock file, waited for up to 5 s; a lock older than 30 s is left over from a crash and taken over. */
function acquireLock(path: string): () => void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
      return () => unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - lockMtime(path);
      if (age > 30_000) {
        unlinkSync(path);
        continue;
      }
      if (Date.now() > deadline)
        throw new KeyStoreError(`the key file is locked by another process (${path})`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

function lockMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
