import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockCorruptError, LocalFsObjectStore, openEmbeddedStorage } from '../src/index.js';
import { ALL_TIME, folded, m, recordingLogger, removeTempDirs, request, tempDir } from './helpers.js';

afterEach(removeTempDirs);

/** Flushes one block per given tenant and closes; returns the data dir and each block's path. */
async function blocksOnDisk(tenants: string[]): Promise<{ dataDir: string; paths: Map<string, string> }> {
  const dataDir = await tempDir();
  const s = await openEmbeddedStorage({ dataDir, walSync: false });
  for (const tenant of tenants) await s.append([request({ tenant, timeMs: 1000, samples: { 'main;x': 7 } })]);
  await s.close();
  const objects = await new LocalFsObjectStore(dataDir).list('blocks/');
  const paths = new Map(
    tenants.map((t) => [t, join(dataDir, objects.find((o) => o.key.includes(`/${t}/`))!.key)]),
  );
  return { dataDir, paths };
}

describe('blocks', () => {
  it('answers like the head after a reopen, across many sample pages and time ranges', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage({ dataDir, walSync: false });
    // 60 profiles × 2000 distinct stacks: 120k samples, several 64k-sample pages.
    for (let i = 0; i < 60; i++) {
      const samples: Record<string, number> = {};
      for (let k = 0; k < 2000; k++) samples[`main;f${k % 50};g${(k * 7 + i) % 2000}`] = (k % 13) + 1;
      await s.append([request({ timeMs: 1000 * (i + 1), samples, labels: { pod: `p${i % 3}` } })]);
    }
    const queries = [
      { matchers: [], range: ALL_TIME },
      { matchers: [m('pod', '=', 'p1')], range: ALL_TIME },
      { matchers: [m('pod', '!=', 'p1')], range: { startMs: 10_000, endMs: 45_000 } },
      { matchers: [], range: { startMs: 59_500, endMs: 70_000 } },
    ];
    const fromHead = [];
    for (const q of queries) fromHead.push(folded(await s.mergeStacks('anonymous', q.matchers, q.range)));
    await s.close();

    const reopened = await openEmbeddedStorage({ dataDir });
    expect(reopened.stats()).toMatchObject({ blocks: 1, headProfiles: 0, walBytes: 0 });
    for (const [i, q] of queries.entries()) {
      expect(folded(await reopened.mergeStacks('anonymous', q.matchers, q.range))).toEqual(fromHead[i]);
    }
    expect(await reopened.labelValues('anonymous', 'pod', [], { startMs: 2000, endMs: 2000 })).toEqual([
      'p1',
    ]);
    await reopened.close();
  });

  it.each([
    ['trailer magic', (b: Buffer) => b.fill(0, b.length - 8), /trailer magic/],
    ['TOC bytes', (b: Buffer) => b.fill(32, b.length - 30, b.length - 29), /TOC checksum/],
    ['TOC length', (b: Buffer) => b.fill(0xff, b.length - 16, b.length - 13), /TOC length/],
    ['truncation', (b: Buffer) => b.subarray(0, b.length - 5), /trailer magic/],
  ])('detects a corrupt footer (%s), logs it and skips the block', async (_, damage, message) => {
    const { dataDir, paths } = await blocksOnDisk(['good', 'bad']);
    const bytes = await readFile(paths.get('bad')!);
    await writeFile(paths.get('bad')!, damage(bytes));
    const logger = recordingLogger();
    const s = await openEmbeddedStorage({ dataDir, logger });
    const skipped = logger.lines.find((l) => l.msg === 'skipping unreadable block');
    const { err } = skipped!.obj as { err: Error };
    expect(err).toBeInstanceOf(BlockCorruptError);
    expect(err.message).toMatch(message);
    expect(s.tenants()).toEqual(['good']);
    expect(folded(await s.mergeStacks('good', [], ALL_TIME))).toEqual({ 'main;x': 7 });
    await s.close();
  });

  /** The block's TOC (JSON between the data and the 16-byte trailer). */
  function tocOf(bytes: Buffer): { sections: { kind: string; offset: number; length: number }[] } {
    const tocEnd = bytes.length - 16;
    return JSON.parse(bytes.subarray(tocEnd - bytes.readUInt32LE(tocEnd), tocEnd).toString());
  }

  it.each(['samples', 'series'])(
    'fails a query that reads a corrupt %s section with a clear error',
    async (kind) => {
      const { dataDir, paths } = await blocksOnDisk(['t']);
      const bytes = await readFile(paths.get('t')!);
      const section = tocOf(bytes).sections.find((s) => s.kind === kind)!;
      bytes[section.offset + 1] ^= 0xff;
      await writeFile(paths.get('t')!, bytes);
      const s = await openEmbeddedStorage({ dataDir });
      await expect(s.mergeStacks('t', [], ALL_TIME)).rejects.toThrow(
        new RegExp(`corrupt block .*${kind} section #\\d+ checksum`),
      );
      await s.close();
    },
  );

  it('reads the series of a block only for queries, and again once the cache has dropped them', async () => {
    const { dataDir, paths } = await blocksOnDisk(['t']);
    const series = tocOf(await readFile(paths.get('t')!)).sections.find((s) => s.kind === 'series')!;
    const store = new LocalFsObjectStore(dataDir);
    let seriesReads = 0;
    const getRange = store.getRange.bind(store);
    store.getRange = (key, offset, length) => {
      if (offset === series.offset && length === series.length) seriesReads++;
      return getRange(key, offset, length);
    };
    const s = await openEmbeddedStorage({ dataDir, objectStore: store, blockCacheBytes: 1 });
    expect(seriesReads).toBe(0);
    for (let i = 1; i <= 2; i++) {
      expect(folded(await s.mergeStacks('t', [], ALL_TIME))).toEqual({ 'main;x': 7 });
      expect(seriesReads).toBe(i);
    }
    await s.close();
  });

  it('ignores a block filed under another tenant', async () => {
    const { dataDir, paths } = await blocksOnDisk(['a', 'b']);
    await writeFile(paths.get('b')!, await readFile(paths.get('a')!));
    const logger = recordingLogger();
    const s = await openEmbeddedStorage({ dataDir, logger });
    expect(s.tenants()).toEqual(['a']);
    expect(
      logger.lines.some((l) => /filed under/.test(String((l.obj as { err?: Error }).err?.message))),
    ).toBe(true);
    await s.close();
  });
});
