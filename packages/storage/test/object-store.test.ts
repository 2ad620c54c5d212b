import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LruCache } from '../src/lru.js';
import { LocalFsObjectStore } from '../src/object-store.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('LocalFsObjectStore', () => {
  it('puts, reads ranges, lists by prefix and deletes', async () => {
    const root = await tempDir();
    const store = new LocalFsObjectStore(root);
    await store.put('blocks/a/1/block.bin', Buffer.from('0123456789'));
    await store.put('blocks/ab/2/block.bin', Buffer.from('xyz'));
    await store.put('other/thing', Buffer.from('!'));
    expect(Buffer.from(await store.get('blocks/a/1/block.bin')).toString()).toBe('0123456789');
    expect(Buffer.from(await store.getRange('blocks/a/1/block.bin', 3, 4)).toString()).toBe('3456');
    await expect(store.getRange('blocks/a/1/block.bin', 8, 4)).rejects.toThrow(/ends before 12/);
    expect(await store.list('blocks/a')).toEqual([
      { key: 'blocks/a/1/block.bin', size: 10 },
      { key: 'blocks/ab/2/block.bin', size: 3 },
    ]);
    expect(await store.list('blocks/a/')).toEqual([{ key: 'blocks/a/1/block.bin', size: 10 }]);
    expect(await store.list('nothing/')).toEqual([]);
    await store.delete('blocks/a/1/block.bin');
    await store.delete('blocks/a/1/block.bin');
    // Emptied directories go too, and no temporary files are left behind.
    expect(await readdir(join(root, 'blocks'))).toEqual(['ab']);
    expect(await readdir(join(root, 'blocks', 'ab', '2'))).toEqual(['block.bin']);
  });

  it('rejects keys that would escape the root or collide with temporary files', async () => {
    const store = new LocalFsObjectStore('/nonexistent');
    for (const key of ['../x', 'a/../../x', '/abs', 'a//b', 'a\\b', 'a/b.tmp-123']) {
      await expect(store.get(key), key).rejects.toThrow(/invalid object key/);
    }
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entries beyond its byte budget and shares pending loads', async () => {
    const cache = new LruCache<string>(10);
    let loads = 0;
    const load = (value: string) => async () => {
      loads++;
      return value;
    };
    const size = (v: string) => v.length;
    const [a1, a2] = await Promise.all([
      cache.getOrLoad('a', load('aaaa'), size),
      cache.getOrLoad('a', load('x'), size),
    ]);
    expect([a1, a2, loads]).toEqual(['aaaa', 'aaaa', 1]);
    await cache.getOrLoad('b', load('bbbb'), size);
    await cache.getOrLoad('a', load('never'), size); // a is now the most recent
    await cache.getOrLoad('c', load('cccc'), size); // over budget: b goes
    expect(cache.sizeBytes).toBe(8);
    expect(await cache.getOrLoad('a', load('reloaded'), size)).toBe('aaaa');
    expect(await cache.getOrLoad('b', load('reloaded'), size)).toBe('reloaded');
    await expect(cache.getOrLoad('d', () => Promise.reject(new Error('boom')), size)).rejects.toThrow('boom');
    expect(await cache.getOrLoad('d', load('ok'), size)).toBe('ok');
  });
});
