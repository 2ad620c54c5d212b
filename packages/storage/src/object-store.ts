import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fsyncDir } from './fsync.js';

export interface ObjectInfo {
  key: string;
  size: number;
}

/**
 * The storage blocks are written to: the local filesystem now, an S3-compatible store when Emberscope
 * scales out. Objects are immutable once put; keys are `/`-separated paths.
 */
export interface ObjectStore {
  /** Stores the object atomically: readers see all of it or nothing. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  /** `length` bytes from `offset`; fails when the object is shorter. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
}

const TEMP_MARKER = '.tmp-';

export class LocalFsObjectStore implements ObjectStore {
  constructor(readonly rootDir: string) {}

  private path(key: string): string {
    const parts = key.split('/');
    if (
      parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes(TEMP_MARKER))
    ) {
      throw new Error(`invalid object key: ${JSON.stringify(key)}`);
    }
    return join(this.rootDir, ...parts);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key);
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const temp = `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    await fsyncDir(dir);
  }

  async get(key: string): Promise<Uint8Array> {
    return readFile(this.path(key));
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const file = await open(this.path(key), 'r');
    try {
      const out = Buffer.allocUnsafe(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await file.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new RangeError(`object ${key} ends before ${offset + length}`);
        done += bytesRead;
      }
      return out;
    } finally {
      await file.close();
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk only the directory that contains every key with this prefix.
    const base = join(this.rootDir, ...prefix.split('/').slice(0, -1));
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      },
    );
    const out: ObjectInfo[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.includes(TEMP_MARKER)) continue;
      const path = join(e.parentPath, e.name);
      const key = relative(this.rootDir, path).split(sep).join('/');
      if (key.startsWith(prefix)) out.push({ key, size: (await stat(path)).size });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    // Remove directories the object leaves empty, up to the root.
    for (let dir = dirname(path); dir.startsWith(this.rootDir) && dir !== this.rootDir; dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }
}
