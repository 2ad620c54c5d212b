import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFsObjectStore, openEmbeddedStorage } from '../src/index.js';
import { scanSegment } from '../src/wal.js';
import { ALL_TIME, folded, recordingLogger, removeTempDirs, request, sumOf, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const p1 = { 'main;a': 1, 'main;b': 2 };
const p2 = { 'main;a': 10 };
const p3 = { 'main;c': 100 };

async function walFiles(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'wal'))).sort().map((f) => join(dataDir, 'wal', f));
}

/** Writes p1, p2, p3 as three WAL records of one segment and closes without flushing. */
async function threeRecordWal(): Promise<{ dataDir: string; segment: Buffer; ends: number[] }> {
  const dataDir = await tempDir();
  const s = await openEmbeddedStorage({ dataDir, flushOnClose: false });
  for (const [i, samples] of [p1, p2, p3].entries())
    await s.append([request({ timeMs: 1000 * (i + 1), samples })]);
  await s.close();
  const [file] = await walFiles(dataDir);
  const segment = await readFile(file);
  let end = 0;
  const ends = scanSegment(segment).bodies.map((b) => (end += 8 + b.length));
  expect(ends).toHaveLength(3);
  return { dataDir, segment, ends };
}

/** Replaces the WAL with one segment holding `bytes`, opens, and returns the merged stacks. */
async function reopenWith(dataDir: string, bytes: Uint8Array) {
  const walDir = join(dataDir, 'wal');
  await rm(walDir, { recursive: true, force: true });
  await mkdir(walDir);
  await writeFile(join(walDir, '0000000001.wal'), bytes);
  const logger = recordingLogger();
  const s = await openEmbeddedStorage({ dataDir, flushOnClose: false, walSync: false, logger });
  const merged = folded(await s.mergeStacks('anonymous', [], ALL_TIME));
  await s.close();
  const segmentLength = (await stat(join(walDir, '0000000001.wal'))).size;
  return { merged, logger, segmentLength };
}

describe('WAL replay', () => {
  it('restores the head after close without flush', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage({ dataDir, flushOnClose: false });
    await s.append([
      request({ timeMs: 1000, samples: p1 }),
      request({ tenant: 'b', timeMs: 1000, samples: p2 }),
    ]);
    await s.close();
    const reopened = await openEmbeddedStorage({ dataDir });
    expect(reopened.stats()).toMatchObject({ blocks: 0, headProfiles: 2 });
    expect(folded(await reopened.mergeStacks('anonymous', [], ALL_TIME))).toEqual(p1);
    expect(folded(await reopened.mergeStacks('b', [], ALL_TIME))).toEqual(p2);
    await reopened.close();
    // close() flushed: the next open reads blocks and has no WAL left to replay.
    const again = await openEmbeddedStorage({ dataDir });
    expect(again.stats()).toMatchObject({ headProfiles: 0, walBytes: 0 });
    expect(again.stats().blocks).toBe(2);
    expect(folded(await again.mergeStacks('anonymous', [], ALL_TIME))).toEqual(p1);
    await again.close();
  });

  it('numbers new segments above every block, even when the WAL directory is gone', async () => {
    const dataDir = await tempDir();
    const first = await openEmbeddedStorage({ dataDir, walSync: false });
    await first.append([request({ timeMs: 1000, samples: p1 })]);
    await first.close();
    await rm(join(dataDir, 'wal'), { recursive: true });
    const second = await openEmbeddedStorage({ dataDir, walSync: false, flushOnClose: false });
    await second.append([request({ timeMs: 2000, samples: p2 })]);
    await second.close();
    const third = await openEmbeddedStorage({ dataDir });
    expect(folded(await third.mergeStacks('anonymous', [], ALL_TIME))).toEqual(sumOf(p1, p2));
    await third.close();
  });

  it('refuses a second engine on the same data directory', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage({ dataDir });
    await expect(openEmbeddedStorage({ dataDir })).rejects.toThrow(/in use by process/);
    await s.close();
  });

  it('truncates a torn tail record, whatever byte the write stopped at', async () => {
    const { dataDir, segment, ends } = await threeRecordWal();
    for (let cut = ends[1] + 1; cut < ends[2]; cut++) {
      const { merged, logger, segmentLength } = await reopenWith(dataDir, segment.subarray(0, cut));
      expect(merged, `cut at ${cut}`).toEqual(sumOf(p1, p2));
      expect(segmentLength).toBe(ends[1]);
      expect(logger.lines.some((l) => l.level === 'warn' && /torn tail/.test(l.msg ?? ''))).toBe(true);
    }
  });

  it('skips a corrupt record in the middle and keeps the ones after it', async () => {
    const { dataDir, segment, ends } = await threeRecordWal();
    for (const at of [ends[0] + 2, ends[0] + 20, ends[1] - 1]) {
      const corrupt = Buffer.from(segment);
      corrupt[at] ^= 0xff;
      const { merged, logger } = await reopenWith(dataDir, corrupt);
      expect(merged, `byte ${at} flipped`).toEqual(sumOf(p1, p3));
      expect(logger.lines.some((l) => l.level === 'error' && /corrupt record/.test(l.msg ?? ''))).toBe(true);
    }
  });
});

describe('crash safety', () => {
  const child = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
  const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

  /** Runs the child until `killAfter` acks, SIGKILLs it, and returns how many appends it acknowledged. */
  async function runAndKill(
    dataDir: string,
    killAfter: number,
    env: Record<string, string> = {},
  ): Promise<number> {
    const proc = spawn(process.execPath, [child], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    let buffered = '';
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ack ')) acked = Number(line.slice(4));
        if (acked >= killAfter || line === 'done') proc.kill('SIGKILL');
      }
    });
    await exited;
    return acked;
  }

  /** Per tenant: "main;work" is 1 per profile, so it counts the profiles stored. */
  async function storedProfiles(dataDir: string): Promise<number> {
    const s = await openEmbeddedStorage({ dataDir });
    let n = 0;
    for (const tenant of ['even', 'odd'])
      n += folded(await s.mergeStacks(tenant, [], ALL_TIME))['main;work'] ?? 0;
    await s.close();
    return n;
  }

  it('keeps every acknowledged append when the process is killed right after append resolved', async () => {
    const dataDir = await tempDir();
    const acked = await runAndKill(dataDir, 20, { TOTAL: '20' });
    expect(acked).toBe(20);
    expect(await storedProfiles(dataDir)).toBe(20);
  });

  it('neither loses nor double counts when killed during flushes', async () => {
    for (const killAfter of [3, 9, 14]) {
      const dataDir = await tempDir();
      const acked = await runAndKill(dataDir, killAfter, { FLUSH_EVERY: '2' });
      const stored = await storedProfiles(dataDir);
      // Appends are sequential: at most one was in flight, unacknowledged, when the kill landed.
      expect(stored).toBeGreaterThanOrEqual(acked);
      expect(stored).toBeLessThanOrEqual(acked + 1);
    }
  });

  it('does not double count after a crash between writing a block and deleting the WAL', async () => {
    const dataDir = await tempDir();
    const snapshots: string[] = [];
    const local = new LocalFsObjectStore(dataDir);
    // Copies the data directory right after each block is durable: the state a crash would leave
    // before the WAL segments are deleted (for the second tenant, also before its block is written).
    const store = Object.assign(Object.create(local) as LocalFsObjectStore, {
      async put(key: string, bytes: Uint8Array) {
        await local.put(key, bytes);
        const snapshot = await tempDir();
        cpSync(dataDir, snapshot, { recursive: true });
        snapshots.push(snapshot);
      },
    });
    const s = await openEmbeddedStorage({ dataDir, objectStore: store, walSync: false });
    await s.append([
      request({ tenant: 'a', timeMs: 1000, samples: p1 }),
      request({ tenant: 'b', timeMs: 1000, samples: p2 }),
    ]);
    await s.flush();
    await s.append([request({ tenant: 'a', timeMs: 2000, samples: p3 })]);
    await s.close();
    expect(snapshots).toHaveLength(3);

    for (const [i, snapshot] of snapshots.entries()) {
      expect((await walFiles(snapshot)).length).toBeGreaterThan(0);
      for (let round = 0; round < 2; round++) {
        // Round 0 replays the WAL into the head; round 1 reads what closing flushed into blocks.
        const r = await openEmbeddedStorage({ dataDir: snapshot, walSync: false });
        const a = folded(await r.mergeStacks('a', [], ALL_TIME));
        expect(a, `snapshot ${i}, round ${round}`).toEqual(i < 2 ? p1 : sumOf(p1, p3));
        expect(folded(await r.mergeStacks('b', [], ALL_TIME))).toEqual(p2);
        await r.close();
      }
    }
  });
});
