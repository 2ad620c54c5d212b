import type { Matcher } from '@emberscope/model';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BlockReader, headBlockData, writeBlock } from '../src/block.js';
import { planCompaction } from '../src/compaction.js';
import { Head } from '../src/head.js';
import {
  type AppendRequest,
  type EmbeddedStorage,
  type EmbeddedStorageOptions,
  LocalFsObjectStore,
  type ObjectStore,
  openEmbeddedStorage,
  type TimeRange,
} from '../src/index.js';
import {
  ALL_TIME,
  CPU_TYPE,
  folded,
  foldedSamples,
  m,
  plain,
  recordingLogger,
  removeTempDirs,
  request,
  tempDir,
} from './helpers.js';

afterEach(removeTempDirs);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ALLOC_TYPE = 'memory:alloc_space:bytes:space:bytes';

function options(dataDir: string, extra: Partial<EmbeddedStorageOptions> = {}): EmbeddedStorageOptions {
  return {
    dataDir,
    walSync: false,
    compactionIntervalMs: 0,
    retentionIntervalMs: 0,
    retentionMs: 0,
    compactionGraceMs: 0,
    ...extra,
  };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random profiles over `days` days: two services, two profile types, pods, shared stacks. */
function randomRequests(seed: number, count: number, days: number): AppendRequest[] {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const out: AppendRequest[] = [];
  for (let i = 0; i < count; i++) {
    const samples: Record<string, number> = {};
    for (let k = 1 + int(6); k > 0; k--) samples[`main;f${int(8)};g${int(8)};h${int(3)}`] = 1 + int(100);
    out.push(
      request({
        tenant: rand() < 0.85 ? 'anonymous' : 'other',
        service: rand() < 0.6 ? 'api' : 'db',
        timeMs: 1000 + int(days * DAY),
        samples,
        labels: rand() < 0.8 ? { pod: `p${int(5)}` } : {},
        profileType: rand() < 0.8 ? CPU_TYPE : ALLOC_TYPE,
        period: [10_000_000, 20_000_000][int(2)],
      }),
    );
  }
  return out;
}

const QUERIES: { matchers: Matcher[]; range: TimeRange }[] = [
  { matchers: [], range: ALL_TIME },
  { matchers: [m('__profile_type__', '=', CPU_TYPE)], range: ALL_TIME },
  { matchers: [m('service_name', '=', 'api'), m('pod', '=~', 'p[0-2]')], range: { startMs: 0, endMs: DAY } },
  { matchers: [m('pod', '=', '')], range: { startMs: 5 * HOUR, endMs: 30 * HOUR + 17 } },
  { matchers: [m('__profile_type__', '=', ALLOC_TYPE)], range: { startMs: 2 * DAY, endMs: 3 * DAY } },
];

/** The answer to every query API, for comparing the engine with itself before and after a change. */
async function snapshot(s: EmbeddedStorage, tenant = 'anonymous'): Promise<unknown[]> {
  const out: unknown[] = [await s.profileTypes(tenant, ALL_TIME), await s.profileStats(tenant)];
  for (const { matchers, range } of QUERIES) {
    const profile = await s.mergeProfile(tenant, matchers, range);
    out.push({
      names: await s.labelNames(tenant, matchers, range),
      pods: await s.labelValues(tenant, 'pod', matchers, range),
      series: await s.series(tenant, matchers, [], range),
      merged: folded(await s.mergeStacks(tenant, matchers, range)),
      timeline: plain(
        await s.selectSeries(tenant, matchers, range, {
          stepMs: 15 * 60_000,
          groupBy: ['pod'],
          aggregation: 'sum',
        }),
      ),
      average: plain(
        await s.selectSeries(tenant, matchers, range, { stepMs: HOUR, groupBy: [], aggregation: 'average' }),
      ),
      profile: profile && { samples: foldedSamples(profile), period: profile.period },
    });
  }
  return out;
}

/** Appends in chunks, flushing after each: one level-0 block per tenant and chunk. */
async function appendInBlocks(s: EmbeddedStorage, requests: AppendRequest[], chunk: number): Promise<void> {
  for (let i = 0; i < requests.length; i += chunk) {
    await s.append(requests.slice(i, i + chunk));
    await s.flush();
  }
}

async function blockFiles(dataDir: string): Promise<string[]> {
  const objects = await new LocalFsObjectStore(dataDir).list('blocks/');
  return objects.map((o) => o.key);
}

describe('compaction', () => {
  it('answers every query identically before and after, and after a reopen', async () => {
    for (const seed of [1, 2, 3]) {
      const dataDir = await tempDir();
      const s = await openEmbeddedStorage(options(dataDir));
      // Time-ordered data, plus late profiles that land in older windows.
      const requests = randomRequests(seed, 400, 3).sort((a, b) => Number(a.timeNanos - b.timeNanos));
      const late = randomRequests(seed + 100, 40, 3);
      await appendInBlocks(s, [...requests, ...late], 25);
      const before = { anonymous: await snapshot(s), other: await snapshot(s, 'other') };
      const blocksBefore = s.stats().blocks;

      await s.compact();
      const report = await s.report();
      const levels = report.tenants.flatMap((t) => t.blocks.map((b) => b.level));
      expect(s.stats().compactions).toBeGreaterThan(0);
      expect(s.stats().blocks).toBeLessThan(blocksBefore / 3);
      expect(Math.max(...levels)).toBe(2);
      expect(await snapshot(s)).toEqual(before.anonymous);
      expect(await snapshot(s, 'other')).toEqual(before.other);
      // Every profile is in exactly one block.
      const profiles = report.tenants.flatMap((t) => t.blocks).reduce((n, b) => n + b.profiles, 0);
      expect(profiles).toBe(440);
      // Nothing is left to do.
      const files = await blockFiles(dataDir);
      await s.compact();
      expect(await blockFiles(dataDir)).toEqual(files);
      await s.close();

      const reopened = await openEmbeddedStorage(options(dataDir));
      expect(await snapshot(reopened)).toEqual(before.anonymous);
      expect(await snapshot(reopened, 'other')).toEqual(before.other);
      await reopened.close();
    }
  });

  it('levels: flushed blocks → 6 h windows → 24 h windows, only for windows that are over', async () => {
    const dataDir = await tempDir();
    const day = 20 * DAY;
    let now = day + 5 * HOUR;
    const s = await openEmbeddedStorage(options(dataDir, { now: () => now, compactionGraceMs: HOUR }));
    // Two blocks in each of the windows [0 h, 6 h) and [6 h, 12 h) of the day, one in [12 h, 18 h).
    for (const hour of [1, 2, 7, 8, 13]) {
      await s.append([request({ timeMs: day + hour * HOUR, samples: { [`main;h${hour}`]: hour } })]);
      await s.flush();
    }
    const levels = async () =>
      (await s.report()).tenants[0].blocks.map((b) => [new Date(b.minTimeMs).getUTCHours(), b.level]);
    // At 05:00 the first window is still open.
    await s.compact();
    expect(await levels()).toEqual([
      [1, 0],
      [2, 0],
      [7, 0],
      [8, 0],
      [13, 0],
    ]);
    now = day + 13 * HOUR; // [0, 6) and [6, 12) are over (grace 1 h)
    await s.compact();
    expect(await levels()).toEqual([
      [1, 1],
      [7, 1],
      [13, 0],
    ]);
    now = day + DAY + HOUR; // the whole day is over
    await s.compact();
    expect(await levels()).toEqual([[1, 2]]);
    expect(s.stats().compactions).toBe(3);
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({
      'main;h1': 1,
      'main;h2': 2,
      'main;h7': 7,
      'main;h8': 8,
      'main;h13': 13,
    });
    await s.close();
  });

  it('deduplicates symbols: the result is smaller than its inputs together', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage(options(dataDir));
    const requests = randomRequests(9, 200, 0.2).filter((r) => r.tenant === 'anonymous');
    await appendInBlocks(s, requests, 20);
    const before = (await s.report()).tenants[0];
    expect(before.blocks.length).toBeGreaterThan(5);
    await s.compact();
    const after = (await s.report()).tenants[0];
    expect(after.blocks).toHaveLength(1);
    expect(after.blockBytes).toBeLessThan(before.blockBytes * 0.6);
    await s.close();
  });

  it('plans the lowest level and oldest window first, within the input budget', () => {
    const block = (id: string, level: number, minTimeMs: number, rawBytes = 100) =>
      ({ id, level, minTimeMs, rawBytes }) as unknown as BlockReader;
    const policy = { windowsMs: [6 * HOUR, DAY], graceMs: HOUR, maxInputBytes: 250 };
    const now = 2 * DAY;
    const ids = (plan: ReturnType<typeof planCompaction>) =>
      plan && [plan.level, plan.inputs.map((b) => b.id)];
    // Oldest window first; oldest blocks first while they fit the budget (2 × 100 of 250).
    expect(
      ids(
        planCompaction(
          [block('c', 0, 7 * HOUR), block('b', 0, 2 * HOUR), block('a', 0, HOUR), block('d', 0, 3 * HOUR)],
          policy,
          now,
        ),
      ),
    ).toEqual([1, ['a', 'b']]);
    // A block over the budget on its own is left alone; one block is not a compaction.
    expect(
      ids(planCompaction([block('a', 0, HOUR, 300), block('b', 0, 2 * HOUR)], policy, now)),
    ).toBeUndefined();
    // Level 1 → 2 once no level-0 window is due; level-0 blocks of the day join.
    expect(
      ids(
        planCompaction([block('a', 1, HOUR), block('b', 1, 7 * HOUR), block('c', 0, 13 * HOUR)], policy, now),
      ),
    ).toEqual([2, ['a', 'b']]);
    // A window that is not over (plus grace) waits.
    expect(
      ids(planCompaction([block('a', 0, DAY + 19 * HOUR), block('b', 0, DAY + 20 * HOUR)], policy, now)),
    ).toBeUndefined();
    expect(
      ids(planCompaction([block('a', 0, DAY + 13 * HOUR), block('b', 0, DAY + 14 * HOUR)], policy, now)),
    ).toEqual([1, ['a', 'b']]);
    // The last level is final.
    expect(ids(planCompaction([block('a', 2, HOUR), block('b', 2, 2 * HOUR)], policy, now))).toBeUndefined();
  });

  it('runs on a timer', async () => {
    const s = await openEmbeddedStorage(options(await tempDir(), { compactionIntervalMs: 50 }));
    await appendInBlocks(
      s,
      [request({ timeMs: 1000, samples: { a: 1 } }), request({ timeMs: 2000, samples: { b: 1 } })],
      1,
    );
    await vi.waitFor(() => expect(s.stats()).toMatchObject({ blocks: 1, compactions: 1 }), { timeout: 5000 });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    await s.close();
  });

  it('reads blocks of format 1 (no row totals) and compacts them with newer ones', async () => {
    const dataDir = await tempDir();
    const old = [
      request({ timeMs: 1000, samples: { 'main;a': 3, 'main;b': 4 }, labels: { pod: 'x' } }),
      request({ timeMs: 2500, samples: { 'main;a': 5 }, labels: { pod: 'y' } }),
    ];
    const head = new Head(1024);
    for (const r of old) head.insert(r);
    const { toc } = await writeBlock(
      new LocalFsObjectStore(dataDir),
      headBlockData(head.tenant('anonymous'), 0),
      {
        format: 1,
      },
    );
    expect(toc.format).toBe(1);
    const s = await openEmbeddedStorage(options(dataDir));
    await s.append([request({ timeMs: 2000, samples: { 'main;a': 100 }, labels: { pod: 'x' } })]);
    const opts = { stepMs: 1000, groupBy: ['pod'], aggregation: 'sum' } as const;
    const expected = [
      [
        { pod: 'x' },
        [
          [1000, 7],
          [2000, 100],
        ],
      ],
      [{ pod: 'y' }, [[3000, 5]]],
    ];
    const range = { startMs: 1000, endMs: 3000 };
    expect(plain(await s.selectSeries('anonymous', [], range, opts))).toEqual(expected);
    const before = await snapshot(s);
    await s.flush();
    await s.compact();
    expect((await s.report()).tenants[0].blocks).toMatchObject([{ level: 1 }]);
    expect(plain(await s.selectSeries('anonymous', [], range, opts))).toEqual(expected);
    expect(await snapshot(s)).toEqual(before);
    await s.close();
  });
});

/** A local store whose delete and put can be made to fail, as a crash at that point would leave the disk. */
function faultyStore(dataDir: string) {
  const local = new LocalFsObjectStore(dataDir);
  const faults = {
    deletesLeft: Number.POSITIVE_INFINITY,
    failPuts: false,
    keep: (_key: string) => false,
  };
  const store: ObjectStore = {
    put: async (key, bytes) => {
      if (faults.failPuts) throw new Error('simulated crash before the put');
      await local.put(key, bytes);
    },
    get: (key) => local.get(key),
    getRange: (key, offset, length) => local.getRange(key, offset, length),
    list: (prefix) => local.list(prefix),
    delete: async (key) => {
      if (faults.deletesLeft <= 0 || faults.keep(key)) throw new Error('simulated crash before the delete');
      faults.deletesLeft--;
      await local.delete(key);
    },
  };
  return { store, faults };
}

describe('a crash during compaction', () => {
  it.each([
    ['after writing the result, before deleting any source', 0],
    ['after deleting some sources', 2],
  ])('%s loses and duplicates nothing on reopen', async (_, deletes) => {
    const dataDir = await tempDir();
    const { store, faults } = faultyStore(dataDir);
    const logger = recordingLogger();
    const s = await openEmbeddedStorage(options(dataDir, { objectStore: store, logger }));
    await appendInBlocks(s, randomRequests(5, 100, 0.2), 20);
    const before = await snapshot(s);
    const sources = await blockFiles(dataDir);
    const anonymousSources = sources.filter((k) => k.includes('/anonymous/'));
    expect(anonymousSources.length).toBe(5);

    faults.deletesLeft = deletes;
    await s.compact();
    // The engine itself already answers from the results only.
    expect(await snapshot(s)).toEqual(before);
    expect(logger.lines.some((l) => l.msg?.includes('could not delete'))).toBe(true);
    await s.close();
    // On disk: both results and the sources not deleted, as a crash at this point would leave them.
    const left = await blockFiles(dataDir);
    expect(left.length).toBe(sources.length - deletes + 2);

    const reopenLogger = recordingLogger();
    const reopened = await openEmbeddedStorage(options(dataDir, { logger: reopenLogger }));
    expect(await snapshot(reopened)).toEqual(before);
    expect(reopened.stats().blocks).toBe(2);
    expect(reopenLogger.lines.filter((l) => l.msg?.includes('interrupted compaction'))).toHaveLength(
      sources.length - deletes,
    );
    await reopened.close();
    expect(await blockFiles(dataDir)).toHaveLength(2);
  });

  it('before the result is durable leaves the sources, which answer as before', async () => {
    const dataDir = await tempDir();
    const { store, faults } = faultyStore(dataDir);
    const s = await openEmbeddedStorage(options(dataDir, { objectStore: store }));
    await appendInBlocks(s, randomRequests(6, 60, 0.2), 20);
    const before = await snapshot(s);
    const files = await blockFiles(dataDir);
    faults.failPuts = true;
    await expect(s.compact()).rejects.toThrow(/simulated crash/);
    expect(await snapshot(s)).toEqual(before);
    expect(await blockFiles(dataDir)).toEqual(files);
    await s.close();
    const reopened = await openEmbeddedStorage(options(dataDir));
    expect(await snapshot(reopened)).toEqual(before);
    await reopened.compact();
    expect(await snapshot(reopened)).toEqual(before);
    await reopened.close();
  });

  it('lists sources transitively, so a source deleted late never comes back', async () => {
    const dataDir = await tempDir();
    const { store, faults } = faultyStore(dataDir);
    let now = 10 * HOUR;
    const s = await openEmbeddedStorage(options(dataDir, { objectStore: store, now: () => now }));
    for (const hour of [1, 2]) {
      await s.append([request({ timeMs: hour * HOUR, samples: { [`h${hour}`]: 1 } })]);
      await s.flush();
    }
    // The two blocks of [0 h, 6 h) are never deleted (as if each deletion were cut by a crash)…
    const first = await blockFiles(dataDir);
    faults.keep = (key) => first.includes(key);
    await s.append([request({ timeMs: 7 * HOUR, samples: { h7: 1 } })]);
    await s.flush();
    // … while their level-1 result is compacted again, into the day's level-2 block, and deleted.
    await s.compact();
    now = 30 * DAY;
    await s.compact();
    expect(s.stats()).toMatchObject({ compactions: 2, blocks: 1 });
    await s.close();
    expect(await blockFiles(dataDir)).toHaveLength(3);
    const reopened = await openEmbeddedStorage(options(dataDir));
    expect(folded(await reopened.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ h1: 1, h2: 1, h7: 1 });
    expect(reopened.stats().blocks).toBe(1);
    await reopened.close();
    expect(await blockFiles(dataDir)).toHaveLength(1);
  });
});

describe('queries during compaction', () => {
  it('see the sources until the result is swapped in, never both, and keep their files while reading', async () => {
    const dataDir = await tempDir();
    const local = new LocalFsObjectStore(dataDir);
    let gate: Promise<void> | undefined;
    let gated: (() => void) | undefined;
    let putStarted: (() => void) | undefined;
    const store: ObjectStore = Object.assign(Object.create(local) as LocalFsObjectStore, {
      async put(key: string, bytes: Uint8Array) {
        putStarted?.();
        if (gate) await gate;
        await local.put(key, bytes);
      },
      async getRange(key: string, offset: number, length: number) {
        const bytes = await local.getRange(key, offset, length);
        if (gated) {
          const release = gated;
          gated = undefined;
          release();
          await gate;
        }
        return bytes;
      },
    });
    const seed = await openEmbeddedStorage(options(dataDir));
    await appendInBlocks(
      seed,
      randomRequests(8, 60, 0.2).filter((r) => r.tenant === 'anonymous'),
      20,
    );
    const expected = folded(await seed.mergeStacks('anonymous', [], ALL_TIME));
    await seed.close();

    // 1. While the result is being written, queries answer from the sources.
    const s = await openEmbeddedStorage(options(dataDir, { objectStore: store }));
    let open!: () => void;
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const writing = new Promise<void>((resolve) => {
      putStarted = resolve;
    });
    const compacting = s.compact();
    await writing;
    putStarted = undefined;
    expect(s.stats().blocks).toBe(3);
    gate = undefined;
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual(expected);
    open();
    await compacting;
    expect(s.stats().blocks).toBe(1);
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual(expected);
    await s.close();

    // 2. A query reading the sources (cold cache) when the result is swapped in: the sources' files
    // stay until it is done.
    const s2 = await openEmbeddedStorage(options(dataDir, { objectStore: store }));
    await appendInBlocks(
      s2,
      randomRequests(10, 20, 0.1).filter((r) => r.tenant === 'anonymous'),
      10,
    );
    const expected2 = folded(await s2.mergeStacks('anonymous', [], ALL_TIME));
    await s2.close();
    const s3 = await openEmbeddedStorage(options(dataDir, { objectStore: store }));
    const readStarted = new Promise<void>((resolve) => {
      gated = resolve;
    });
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const query = s3.mergeStacks('anonymous', [], ALL_TIME);
    await readStarted;
    const files = await blockFiles(dataDir);
    const gateOfQuery = gate;
    gate = undefined;
    let compacted = false;
    const compaction = s3.compact().then(() => {
      compacted = true;
    });
    await vi.waitFor(() => expect(s3.stats().compactions).toBe(1));
    // The two new level-0 blocks are swapped for their result, but stay on disk for the query in
    // flight; the day's level 1 → 2 compaction waits behind them.
    expect(s3.stats().blocks).toBe(2);
    expect(compacted).toBe(false);
    for (const f of files) expect(await blockFiles(dataDir)).toContain(f);
    gate = gateOfQuery;
    open();
    expect(folded(await query)).toEqual(expected2);
    await compaction;
    expect(s3.stats()).toMatchObject({ blocks: 1, compactions: 2 });
    expect(await blockFiles(dataDir)).toHaveLength(1);
    expect(folded(await s3.mergeStacks('anonymous', [], ALL_TIME))).toEqual(expected2);
    await s3.close();
  });
});

describe('retention', () => {
  it('deletes exactly the blocks whose newest profile is past the retention period, never the head', async () => {
    const dataDir = await tempDir();
    const now = 100 * DAY;
    const logger = recordingLogger();
    const s = await openEmbeddedStorage(options(dataDir, { now: () => now, retentionMs: 30 * DAY, logger }));
    // Blocks with newest profiles at day 10, 60, 69.9 (all too old), one spanning the cutoff (day 69
    // to 71), and day 95 (kept); a head profile at day 1 (kept: retention never touches the head).
    const blocks: [number, number][] = [
      [9, 10],
      [59, 60],
      [69.5, 69.9],
      [69, 71],
      [95, 95],
    ];
    for (const [from, to] of blocks) {
      await s.append([
        request({ timeMs: Math.round(from * DAY), samples: { [`d${from}`]: 1 } }),
        request({ timeMs: Math.round(to * DAY), samples: { [`d${to}`]: 1 } }),
      ]);
      await s.flush();
    }
    await s.append([request({ timeMs: 1 * DAY, samples: { d1: 1 } })]);
    const report = await s.report();
    const sizes = report.tenants[0].blocks.map((b) => b.bytes);

    const result = await s.enforceRetention();
    expect(result).toEqual({ deletedBlocks: 3, deletedBytes: sizes[0] + sizes[1] + sizes[3] });
    expect(s.stats()).toMatchObject({
      blocks: 2,
      retentionDeletedBlocks: 3,
      retentionDeletedBytes: result.deletedBytes,
    });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({
      d69: 1,
      d71: 1,
      d95: 2,
      d1: 1,
    });
    expect(logger.lines.filter((l) => l.msg?.startsWith('retention: deleting block'))).toHaveLength(3);
    expect(await blockFiles(dataDir)).toHaveLength(2);
    expect(await s.enforceRetention()).toEqual({ deletedBlocks: 0, deletedBytes: 0 });
    // Retention 0 keeps everything.
    await s.close();
    const forever = await openEmbeddedStorage(options(dataDir, { now: () => now, retentionMs: 0 }));
    expect(await forever.enforceRetention()).toEqual({ deletedBlocks: 0, deletedBytes: 0 });
    await forever.close();
  });

  it('with a disk budget, deletes the oldest blocks across tenants until blocks and WAL fit', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage(options(dataDir, { flushOnClose: false }));
    // Oldest to newest: a@1, b@2, a@3, b@4 (days); similar sizes.
    for (const [tenant, day] of [
      ['a', 3],
      ['b', 2],
      ['a', 1],
      ['b', 4],
    ] as const) {
      await s.append([request({ tenant, timeMs: day * DAY, samples: { [`main;day${day}`]: day } })]);
      await s.flush();
    }
    await s.append([request({ tenant: 'a', timeMs: 0, samples: { head: 1 } })]);
    const report = await s.report();
    const bytes = (tenant: string, day: number) =>
      report.tenants.find((t) => t.tenant === tenant)!.blocks.find((b) => b.minTimeMs === day * DAY)!.bytes;
    const wal = report.totals.walBytes;
    expect(wal).toBeGreaterThan(0);
    // Room for the two newest blocks and the WAL, one byte short of a third.
    const budget = bytes('a', 3) + bytes('b', 4) + wal + bytes('b', 2) - 1;
    await s.close();

    const logger = recordingLogger();
    const limited = await openEmbeddedStorage(options(dataDir, { maxDiskBytes: budget, logger }));
    const result = await limited.enforceRetention();
    expect(result).toEqual({ deletedBlocks: 2, deletedBytes: bytes('a', 1) + bytes('b', 2) });
    expect(folded(await limited.mergeStacks('a', [], ALL_TIME))).toEqual({ 'main;day3': 3, head: 1 });
    expect(folded(await limited.mergeStacks('b', [], ALL_TIME))).toEqual({ 'main;day4': 4 });
    const deleted = logger.lines.filter((l) => l.msg?.includes('over the disk budget'));
    expect(deleted.map((l) => (l.obj as { tenant: string }).tenant)).toEqual(['a', 'b']);
    await limited.close();
  });

  it('runs on a timer', async () => {
    const s = await openEmbeddedStorage(
      options(await tempDir(), { retentionMs: DAY, retentionIntervalMs: 50, now: () => 10 * DAY }),
    );
    await s.append([request({ timeMs: 1000, samples: { old: 1 } })]);
    await s.flush();
    await s.append([request({ timeMs: 10 * DAY, samples: { new: 1 } })]);
    await s.flush();
    await vi.waitFor(() => expect(s.stats()).toMatchObject({ blocks: 1, retentionDeletedBlocks: 1 }), {
      timeout: 5000,
    });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ new: 1 });
    await s.close();
  });
});

describe('deleteSeries', () => {
  it('removes exactly the matching series from blocks and head, durably', async () => {
    const requests = randomRequests(11, 200, 1);
    const doomed = (r: AppendRequest) =>
      r.tenant === 'anonymous' && r.series[0].labels.some((l) => l.name === 'pod' && l.value === 'p1');
    const reference = await openEmbeddedStorage(options(await tempDir()));
    await reference.append(requests.filter((r) => !doomed(r)));
    const expected = await snapshot(reference);
    await reference.close();

    const dataDir = await tempDir();
    const s = await openEmbeddedStorage(options(dataDir));
    await appendInBlocks(s, requests.slice(0, 150), 50);
    await s.compact();
    await s.append(requests.slice(150));
    expect(await s.deleteSeries('anonymous', [m('pod', '=', 'p1')])).toEqual({
      deletedProfiles: requests.filter(doomed).length,
    });
    expect(await snapshot(s)).toEqual(expected);
    expect(await s.deleteSeries('anonymous', [m('pod', '=', 'p1')])).toEqual({ deletedProfiles: 0 });
    // Every series of a tenant: its blocks go away.
    await s.deleteSeries('other', []);
    expect(s.tenants()).toEqual(['anonymous']);
    await s.close();
    const reopened = await openEmbeddedStorage(options(dataDir));
    expect(await snapshot(reopened)).toEqual(expected);
    expect(reopened.tenants()).toEqual(['anonymous']);
    await reopened.close();
  });
});

describe('report', () => {
  it('lists blocks, head, WAL and time bounds per tenant, and totals', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage(
      options(dataDir, { retentionMs: 7 * DAY, maxDiskBytes: 1 << 30, flushOnClose: false }),
    );
    expect(await s.report()).toMatchObject({
      tenants: [],
      totals: { blocks: 0, blockBytes: 0, headProfiles: 0, oldestProfileMs: 0, newestProfileMs: 0 },
      retentionMs: 7 * DAY,
      maxDiskBytes: 1 << 30,
    });
    await s.append([
      request({ timeMs: 2000, samples: { a: 1 }, labels: { pod: '1' } }),
      request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: '2' } }),
      request({ tenant: 'b', timeMs: 500, samples: { a: 1 } }),
    ]);
    await s.flush();
    await s.append([request({ timeMs: 3000, samples: { a: 1 } })]);
    const report = await s.report();
    const files = await new LocalFsObjectStore(dataDir).list('blocks/');
    const [anonymous, b] = report.tenants;
    expect(anonymous).toMatchObject({
      tenant: 'anonymous',
      blocks: [{ minTimeMs: 1000, maxTimeMs: 2000, profiles: 2, series: 2, level: 0 }],
      headProfiles: 1,
      oldestProfileMs: 1000,
      newestProfileMs: 3000,
    });
    expect(anonymous.blocks[0].id).toMatch(/^[0-9A-Z]{26}$/);
    expect(anonymous.blocks[0].bytes).toBe(files.find((f) => f.key.includes('/anonymous/'))!.size);
    expect(anonymous.headBytes).toBeGreaterThan(0);
    expect(anonymous.walBytes).toBeGreaterThan(0);
    expect(anonymous.diskBytes).toBe(anonymous.blockBytes + anonymous.walBytes);
    expect(b).toMatchObject({
      tenant: 'b',
      headProfiles: 0,
      walBytes: 0,
      oldestProfileMs: 500,
      newestProfileMs: 500,
    });
    expect(report.totals).toMatchObject({
      blocks: 2,
      blockBytes: files.reduce((n, f) => n + f.size, 0),
      headProfiles: 1,
      oldestProfileMs: 500,
      newestProfileMs: 3000,
    });
    expect(report.totals.walBytes).toBe(s.stats().walBytes);
    expect(s.stats()).toMatchObject({ oldestProfileMs: 500, newestProfileMs: 3000, compactions: 0 });
    await s.close();
    // WAL bytes per tenant also after a replay, and none once flushed.
    const reopened = await openEmbeddedStorage(options(dataDir));
    expect((await reopened.report()).tenants[0]).toMatchObject({
      headProfiles: 1,
      walBytes: anonymous.walBytes,
    });
    await reopened.flush();
    expect((await reopened.report()).tenants[0]).toMatchObject({ headProfiles: 0, walBytes: 0 });
    await reopened.close();
  });
});
