import { afterEach, describe, expect, it } from 'vitest';
import { LocalFsObjectStore, type ObjectStore, openEmbeddedStorage } from '../src/index.js';
import { WalWriter } from '../src/wal.js';
import { removeTempDirs, request, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('WAL backlog (what the server sheds load on when the disk is slow)', () => {
  it('counts appends from the call until they are durable, then drops to zero', async () => {
    const s = await openEmbeddedStorage({ dataDir: await tempDir() });
    try {
      expect(s.walBacklog()).toEqual({ appends: 0, bytes: 0 });
      // append() queues its WAL write synchronously: three calls in one tick are all pending.
      const writes = [1, 2, 3].map((i) =>
        s.append([request({ timeMs: 1000 * i, samples: { 'main;a': i } })]),
      );
      const pending = s.walBacklog();
      expect(pending.appends).toBe(3);
      expect(pending.bytes).toBeGreaterThan(3 * 8);
      await Promise.all(writes);
      expect(s.walBacklog()).toEqual({ appends: 0, bytes: 0 });
    } finally {
      await s.close();
    }
  });

  it('counts the bytes of every record of one append', async () => {
    const dir = await tempDir();
    const wal = await WalWriter.create(dir, 1, false, new Map());
    const done = wal.append([new Uint8Array(10), new Uint8Array(32)]);
    expect(wal.backlog).toEqual({ appends: 1, bytes: 42 });
    await done;
    expect(wal.backlog).toEqual({ appends: 0, bytes: 0 });
    await wal.close();
  });

  it('releases appends whose write failed', async () => {
    const dir = await tempDir();
    const wal = await WalWriter.create(dir, 1, false, new Map());
    // Close the segment file under the writer: the next write fails with EBADF.
    await (wal as unknown as { file: { close(): Promise<void> } }).file.close();
    const failed = wal.append([new Uint8Array(16)]);
    expect(wal.backlog).toEqual({ appends: 1, bytes: 16 });
    await expect(failed).rejects.toThrow();
    expect(wal.backlog).toEqual({ appends: 0, bytes: 0 });
  });
});

describe('head backpressure (memory stays bounded when blocks are written slower than data arrives)', () => {
  it('reports the head full while it is over max_head_size and the previous head is still being written', async () => {
    const dataDir = await tempDir();
    const disk = new LocalFsObjectStore(dataDir);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A block store that does not finish writing until released: the flush stays in progress.
    const slowStore: ObjectStore = {
      ...disk,
      put: async (key, bytes) => {
        await held;
        return disk.put(key, bytes);
      },
      get: (key) => disk.get(key),
      getRange: (key, offset, length) => disk.getRange(key, offset, length),
      list: (prefix) => disk.list(prefix),
      delete: (key) => disk.delete(key),
    };
    const s = await openEmbeddedStorage({ dataDir, objectStore: slowStore, maxHeadBytes: 1, walSync: false });
    try {
      expect(s.headFull()).toBe(false);
      // Over the limit: a flush starts and freezes this head; the next append fills the new head.
      await s.append([request({ timeMs: 1000, samples: { 'main;a': 1 } })]);
      expect(s.headFull()).toBe(false);
      await s.append([request({ timeMs: 2000, samples: { 'main;b': 2 } })]);
      // Never full below 32 MiB, whatever max_head_size says: a head that small puts no memory at risk.
      expect(s.headFull()).toBe(false);
      // Each service is a partition with its own symbol tables and stack tree (~250 KiB when new).
      let services = 0;
      for (; !s.headFull() && services < 2000; services++)
        await s.append([
          request({ timeMs: 3000 + services, service: `svc-${services}`, samples: { 'main;c': 1 } }),
        ]);
      expect(s.headFull()).toBe(true);
      expect(s.stats().headBytes).toBeGreaterThanOrEqual(32 * 1024 * 1024);
      expect(services).toBeGreaterThan(10);
      release();
      await s.flush();
      expect(s.headFull()).toBe(false);
      expect(s.stats().blocks).toBeGreaterThan(0);
    } finally {
      release();
      await s.close();
    }
  });
});
