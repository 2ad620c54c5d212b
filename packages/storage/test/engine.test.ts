import { buildFunctionTree, toFlameGraph } from '@emberscope/model';
import { decodeProfile, encodeProfile, type Profile, ProfileBuilder } from '@emberscope/pprof';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type EmbeddedStorage,
  LocalFsObjectStore,
  openEmbeddedStorage,
  StorageLimitError,
} from '../src/index.js';
import {
  ALL_TIME,
  CPU_TYPE,
  folded,
  m,
  removeTempDirs,
  request,
  seriesLabels,
  sumOf,
  tempDir,
} from './helpers.js';

const ALLOC_TYPE = 'memory:alloc_space:bytes:space:bytes';

afterEach(removeTempDirs);

async function open(opts: Partial<Parameters<typeof openEmbeddedStorage>[0]> = {}): Promise<EmbeddedStorage> {
  return openEmbeddedStorage({ dataDir: await tempDir(), walSync: false, ...opts });
}

/** Runs the same assertions against the head and, after a flush, against the block. */
function headAndBlock(
  name: string,
  fn: (storage: EmbeddedStorage) => Promise<void>,
  fill: (s: EmbeddedStorage) => Promise<void>,
) {
  it(`${name} (head)`, async () => {
    const storage = await open();
    await fill(storage);
    await fn(storage);
    await storage.close();
  });
  it(`${name} (block)`, async () => {
    const storage = await open();
    await fill(storage);
    await storage.flush();
    expect(storage.stats()).toMatchObject({ headProfiles: 0 });
    expect(storage.stats().blocks).toBeGreaterThan(0);
    await fn(storage);
    await storage.close();
  });
}

const api1 = { 'main;http;handler;json.Marshal': 30, 'main;http;handler': 10, 'main;gc': 5 };
const api2 = { 'main;http;handler;json.Marshal': 20, 'main;http;read': 7 };
const worker = { 'main;loop;crunch': 100 };

async function fillThreeSeries(storage: EmbeddedStorage): Promise<void> {
  await storage.append([
    request({ service: 'api', timeMs: 1000, samples: api1, labels: { env: 'prod', pod: 'a' } }),
    request({ service: 'api', timeMs: 2000, samples: api2, labels: { env: 'staging', pod: 'b' } }),
    request({
      service: 'worker',
      timeMs: 3000,
      samples: worker,
      labels: { env: 'prod' },
      profileType: ALLOC_TYPE,
    }),
  ]);
}

describe('append and query', () => {
  headAndBlock(
    'profile types, label names and values',
    async (s) => {
      expect(await s.profileTypes('anonymous', ALL_TIME)).toEqual([ALLOC_TYPE, CPU_TYPE]);
      expect(await s.profileTypes('anonymous', { startMs: 0, endMs: 2500 })).toEqual([CPU_TYPE]);
      expect(await s.labelNames('anonymous', [], ALL_TIME)).toEqual([
        '__name__',
        '__profile_type__',
        'env',
        'pod',
        'service_name',
      ]);
      expect(await s.labelNames('anonymous', [m('service_name', '=', 'worker')], ALL_TIME)).toEqual([
        '__name__',
        '__profile_type__',
        'env',
        'service_name',
      ]);
      expect(await s.labelValues('anonymous', 'env', [], ALL_TIME)).toEqual(['prod', 'staging']);
      expect(await s.labelValues('anonymous', 'pod', [m('env', '!=', 'prod')], ALL_TIME)).toEqual(['b']);
      expect(
        await s.labelValues('anonymous', 'service_name', [m('env', '=~', 'prod|stag.*')], ALL_TIME),
      ).toEqual(['api', 'worker']);
      expect(await s.labelValues('anonymous', 'service_name', [m('pod', '!~', 'a|b')], ALL_TIME)).toEqual([
        'worker',
      ]);
      // A matcher accepting "" selects series without the label.
      expect(await s.labelValues('anonymous', 'service_name', [m('pod', '=', '')], ALL_TIME)).toEqual([
        'worker',
      ]);
      expect(await s.labelValues('anonymous', 'env', [], { startMs: 1500, endMs: 2500 })).toEqual([
        'staging',
      ]);
      expect(await s.labelValues('anonymous', 'env', [], { startMs: 1001, endMs: 1999 })).toEqual([]);
    },
    fillThreeSeries,
  );

  headAndBlock(
    'series, restricted to label names',
    async (s) => {
      expect(await s.series('anonymous', [m('service_name', '=', 'api')], [], ALL_TIME)).toEqual([
        seriesLabels('api', CPU_TYPE, { env: 'prod', pod: 'a' }),
        seriesLabels('api', CPU_TYPE, { env: 'staging', pod: 'b' }),
      ]);
      expect(await s.series('anonymous', [], ['service_name', '__profile_type__'], ALL_TIME)).toEqual([
        [
          { name: '__profile_type__', value: ALLOC_TYPE },
          { name: 'service_name', value: 'worker' },
        ],
        [
          { name: '__profile_type__', value: CPU_TYPE },
          { name: 'service_name', value: 'api' },
        ],
      ]);
    },
    fillThreeSeries,
  );

  headAndBlock(
    'merged values equal the sum of appended samples per stack',
    async (s) => {
      const cpu = [m('__profile_type__', '=', CPU_TYPE)];
      expect(folded(await s.mergeStacks('anonymous', cpu, ALL_TIME))).toEqual(sumOf(api1, api2));
      expect(folded(await s.mergeStacks('anonymous', [...cpu, m('pod', '=', 'a')], ALL_TIME))).toEqual(api1);
      expect(folded(await s.mergeStacks('anonymous', cpu, { startMs: 1500, endMs: 2000 }))).toEqual(api2);
      expect(folded(await s.mergeStacks('anonymous', [m('service_name', '=~', '.*')], ALL_TIME))).toEqual(
        sumOf(api1, api2, worker),
      );
      expect(await s.mergeStacks('anonymous', [m('service_name', '=', 'nope')], ALL_TIME)).toEqual([]);
      // One StackValues per partition (service) and source.
      const parts = await s.mergeStacks('anonymous', [], ALL_TIME);
      expect(parts).toHaveLength(2);
      for (const part of parts) {
        for (let n = 0; n < part.parent.length; n++) expect(part.parent[n]).toBeLessThan(n);
      }
    },
    fillThreeSeries,
  );

  it('merges head and blocks together, and the flame graph builder reads the result', async () => {
    const s = await open();
    await s.append([request({ service: 'api', timeMs: 1000, samples: api1 })]);
    await s.flush();
    await s.append([request({ service: 'api', timeMs: 2000, samples: api2 })]);
    const parts = await s.mergeStacks('anonymous', [], ALL_TIME);
    expect(parts).toHaveLength(2);
    expect(folded(parts)).toEqual(sumOf(api1, api2));
    const graph = toFlameGraph(buildFunctionTree(parts), 100);
    expect(graph.names).toContain('json.Marshal');
    await s.close();
  });

  it('sums duplicate stacks within a profile and drops zero values', async () => {
    const s = await open();
    const req = request({ timeMs: 1000, samples: { 'a;b': 1 } });
    // Three samples on the same stack (1 + 2 + 3) and one that is zero.
    const p = req.profile;
    req.profile = {
      ...p,
      sampleCount: 4,
      values: Float64Array.from([1, 2, 3, 0]),
      sampleLocStart: Uint32Array.from([0, 2, 4, 6, 8]),
      sampleLocs: Uint32Array.from([...p.sampleLocs, ...p.sampleLocs, ...p.sampleLocs, ...p.sampleLocs]),
      sampleLabelStart: new Uint32Array(5),
    };
    await s.append([req]);
    expect(s.stats().headProfiles).toBe(1);
    const parts = await s.mergeStacks('anonymous', [], ALL_TIME);
    expect(folded(parts)).toEqual({ 'a;b': 6 });
    expect([...parts[0].values].filter((v) => v !== 0)).toEqual([6]);
    await s.close();
  });

  it('stores only the selected samples of a series plan', async () => {
    const s = await open();
    const req = request({ timeMs: 1000, samples: { 'a;x': 1, 'a;y': 2, 'a;z': 4 } });
    req.series = [
      {
        labels: seriesLabels('svc', CPU_TYPE, { span: 'one' }),
        sampleType: 0,
        samples: Uint32Array.from([0, 2]),
      },
      {
        labels: seriesLabels('svc', CPU_TYPE, { span: 'two' }),
        sampleType: 0,
        samples: Uint32Array.from([1]),
      },
    ];
    await s.append([req]);
    expect(folded(await s.mergeStacks('anonymous', [m('span', '=', 'one')], ALL_TIME))).toEqual({
      'a;x': 1,
      'a;z': 4,
    });
    expect(folded(await s.mergeStacks('anonymous', [m('span', '=', 'two')], ALL_TIME))).toEqual({ 'a;y': 2 });
    await s.close();
  });

  it('keeps the leaf side of stacks deeper than maxStackDepth', async () => {
    const s = await open({ maxStackDepth: 3 });
    await s.append([request({ timeMs: 1000, samples: { 'a;b;c;d;e': 5, 'x;c;d;e': 1, 'b;c': 2 } })]);
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ 'c;d;e': 6, 'b;c': 2 });
    await s.close();
  });

  it('rejects with a validation error before writing anything', async () => {
    const s = await open();
    const bad = request({ timeMs: 1000, samples: { a: 1 } });
    bad.series[0].sampleType = 3;
    await expect(s.append([request({ timeMs: 1000, samples: { a: 1 } }), bad])).rejects.toThrow(RangeError);
    expect(s.stats()).toMatchObject({ headProfiles: 0, walBytes: 0 });
    await s.close();
  });
});

describe('tenants', () => {
  headAndBlock(
    'never see each other’s series, values or label values',
    async (s) => {
      expect(s.tenants()).toEqual(['tenant-a', 'tenant-b']);
      expect(await s.labelValues('tenant-a', 'service_name', [], ALL_TIME)).toEqual(['shop']);
      expect(await s.labelValues('tenant-b', 'service_name', [], ALL_TIME)).toEqual(['secret-svc', 'shop']);
      expect(await s.labelValues('tenant-a', 'env', [], ALL_TIME)).toEqual([]);
      expect(await s.series('tenant-a', [], [], ALL_TIME)).toEqual([seriesLabels('shop', CPU_TYPE)]);
      // Same service name (same partition name) in both tenants: symbols are still separate.
      expect(folded(await s.mergeStacks('tenant-a', [], ALL_TIME))).toEqual({ 'main;a-only': 3 });
      expect(folded(await s.mergeStacks('tenant-b', [m('service_name', '=', 'shop')], ALL_TIME))).toEqual({
        'main;b-only': 4,
      });
      expect(await s.mergeStacks('other', [], ALL_TIME)).toEqual([]);
      expect(await s.labelNames('other', [], ALL_TIME)).toEqual([]);
    },
    async (s) => {
      await s.append([
        request({ tenant: 'tenant-a', service: 'shop', timeMs: 1000, samples: { 'main;a-only': 3 } }),
        request({ tenant: 'tenant-b', service: 'shop', timeMs: 1000, samples: { 'main;b-only': 4 } }),
        request({
          tenant: 'tenant-b',
          service: 'secret-svc',
          timeMs: 1000,
          samples: { 'main;secret': 9 },
          labels: { env: 'x' },
        }),
      ]);
    },
  );

  it('stores tenants with path-unsafe names in their own directories', async () => {
    const s = await open();
    for (const tenant of ['../evil', 'a/b', '.', 'ünï']) {
      await s.append([request({ tenant, timeMs: 1000, samples: { [tenant]: 1 } })]);
    }
    await s.flush();
    for (const tenant of ['../evil', 'a/b', '.', 'ünï']) {
      expect(folded(await s.mergeStacks(tenant, [], ALL_TIME))).toEqual({ [tenant]: 1 });
    }
    await s.close();
  });
});

describe('series limit', () => {
  it('refuses a call that would exceed maxSeriesPerTenant, writing none of it', async () => {
    const s = await open({ maxSeriesPerTenant: 2 });
    await s.append([request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: '1' } })]);
    const call = s.append([
      request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: '1' } }),
      request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: '2' } }),
      request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: '3' } }),
    ]);
    await expect(call).rejects.toBeInstanceOf(StorageLimitError);
    await expect(call).rejects.toMatchObject({
      reason: 'series_limit',
      message: expect.stringMatching(/limit of 2/),
    });
    expect(s.stats()).toMatchObject({ headProfiles: 1, headSeries: 1 });
    // Existing series still take writes; other tenants have their own budget.
    await s.append([request({ timeMs: 2000, samples: { a: 1 }, labels: { pod: '1' } })]);
    await s.append([request({ timeMs: 2000, samples: { a: 1 }, labels: { pod: '2' } })]);
    await s.append([request({ tenant: 'other', timeMs: 2000, samples: { a: 1 }, labels: { pod: '3' } })]);
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 3 });
    await s.close();
  });

  it('counts the new series of appends still waiting for the WAL', async () => {
    const s = await open({ maxSeriesPerTenant: 2 });
    const pod = (p: string) => s.append([request({ timeMs: 1000, samples: { a: 1 }, labels: { pod: p } })]);
    // Issued in one tick: none is in the head when the next is checked.
    const results = await Promise.allSettled([pod('1'), pod('1'), pod('2'), pod('3'), pod('4')]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    expect(s.stats()).toMatchObject({ headSeries: 2, headProfiles: 3 });
    // Released once written: the same series take writes again, a new one is still refused.
    await pod('2');
    await expect(pod('5')).rejects.toBeInstanceOf(StorageLimitError);
    await s.close();
  });
});

describe('flush triggers', () => {
  it('flushes a head that has been open for blockDurationMs', async () => {
    const s = await open({ blockDurationMs: 200 });
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    expect(s.stats().blocks).toBe(0);
    await vi.waitFor(() => expect(s.stats()).toMatchObject({ blocks: 1, headProfiles: 0, walBytes: 0 }), {
      timeout: 5000,
    });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1 });
    await s.close();
  });

  it('flushes when the head grows past maxHeadBytes, while appends continue', async () => {
    const s = await open({ maxHeadBytes: 1 });
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    await s.append([request({ timeMs: 2000, samples: { b: 1 } })]);
    await vi.waitFor(() => expect(s.stats()).toMatchObject({ blocks: 2, headProfiles: 0 }), {
      timeout: 5000,
    });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    await s.close();
  });

  it("flushes when the head's WAL grows past maxWalBytes, counting what a restart replayed", async () => {
    const s = await open({ maxWalBytes: 1, flushOnClose: false });
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    await vi.waitFor(() => expect(s.stats()).toMatchObject({ blocks: 1, headProfiles: 0, walBytes: 0 }), {
      timeout: 5000,
    });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1 });
    await s.close();

    // What a restart replays counts: the replayed record alone stays under the limit, and so would
    // the next one alone, but together they pass it.
    const dataDir = await tempDir();
    const crashed = await openEmbeddedStorage({
      dataDir,
      walSync: false,
      flushOnClose: false,
      maxWalBytes: 0,
    });
    await crashed.append([request({ timeMs: 2000, samples: { b: 1 } })]);
    const replayed = crashed.stats().walBytes;
    await crashed.close();
    const reopened = await openEmbeddedStorage({ dataDir, walSync: false, maxWalBytes: replayed + 1 });
    expect(reopened.stats()).toMatchObject({ headProfiles: 1, blocks: 0 });
    await reopened.append([request({ timeMs: 3000, samples: { c: 1 } })]);
    await vi.waitFor(() => expect(reopened.stats()).toMatchObject({ blocks: 1, headProfiles: 0 }), {
      timeout: 5000,
    });
    expect(folded(await reopened.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ b: 1, c: 1 });
    await reopened.close();
  });
});

describe('frames', () => {
  /** "main;work" where `work` has `helper` inlined and `main` is a bare kernel address in a mapping. */
  function inlinedAndAddressOnly() {
    const built = new ProfileBuilder({ sampleTypes: [['cpu', 'nanoseconds']] })
      .addSample(['main', 'work'], [5])
      .addSample(['helper'], [0])
      .build();
    // Functions and locations of the builder: 0 = work, 1 = main, 2 = helper.
    const profile: Profile = {
      ...built,
      strings: [...built.strings, '/usr/lib/debug/vmlinux'],
      mappingCount: 1,
      mappingId: Float64Array.of(1),
      mappingStart: BigUint64Array.of(0xffffffff81000000n),
      mappingLimit: BigUint64Array.of(0xffffffff82000000n),
      mappingOffset: BigUint64Array.of(0n),
      mappingFile: Uint32Array.of(built.strings.length),
      mappingBuildId: Uint32Array.of(0),
      mappingFlags: Uint8Array.of(0),
      locationMapping: Int32Array.of(-1, 0, -1),
      locationAddress: BigUint64Array.of(0n, 0xffffffff81000123n, 0n),
      locationLineStart: Uint32Array.of(0, 2, 2, 3),
      lineFunction: Int32Array.of(0, 2, 2),
      lineNumber: Float64Array.of(10, 20, 30),
      lineColumn: new Float64Array(3),
    };
    const req = request({ timeMs: 1000, samples: {} });
    req.payload = encodeProfile(profile);
    req.profile = decodeProfile(req.payload);
    return req;
  }

  headAndBlock(
    'name inlined lines innermost first and bare addresses in hex',
    async (s) => {
      expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({
        '0xffffffff81000123;helper;work': 10,
      });
    },
    async (s) => {
      await s.append([inlinedAndAddressOnly()]);
      await s.append([inlinedAndAddressOnly()]);
    },
  );

  it('deduplicates symbols and stacks across profiles of a partition', async () => {
    const s = await open();
    await s.append([request({ timeMs: 1000, samples: { 'a;b;c': 1, 'a;b': 2 } })]);
    const [first] = await s.mergeStacks('anonymous', [], ALL_TIME);
    await s.append([request({ timeMs: 2000, samples: { 'a;b': 3, 'a;b;c': 4 } })]);
    const [second] = await s.mergeStacks('anonymous', [], ALL_TIME);
    expect(second.parent.length).toBe(first.parent.length);
    expect([...second.names].sort()).toEqual(['a', 'b', 'c']);
    expect(folded([second])).toEqual({ 'a;b;c': 5, 'a;b': 5 });
    await s.close();
  });
});

describe('during a flush', () => {
  it('answers from the frozen head until the block is durable, never from both, and keeps ingesting', async () => {
    const dataDir = await tempDir();
    const local = new LocalFsObjectStore(dataDir);
    let putStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      putStarted = resolve;
    });
    let releasePut!: () => void;
    const released = new Promise<void>((resolve) => {
      releasePut = resolve;
    });
    const slowStore = Object.assign(Object.create(local) as LocalFsObjectStore, {
      async put(key: string, bytes: Uint8Array) {
        putStarted();
        await released;
        await local.put(key, bytes);
      },
    });
    const s = await openEmbeddedStorage({ dataDir, objectStore: slowStore, walSync: false });
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    const flushing = s.flush();
    await started;
    expect(s.stats()).toMatchObject({ blocks: 0, headProfiles: 1 });
    await s.append([request({ timeMs: 2000, samples: { b: 1 } })]);
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    releasePut();
    await flushing;
    expect(s.stats()).toMatchObject({ blocks: 1, headProfiles: 1 });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    await s.close();
  });
});

describe('WAL writes', () => {
  it('does not store a write the WAL refused, so that the client retrying it leaves one copy', async () => {
    const s = await open();
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    // Close the segment file under the WAL writer: its next write fails with EBADF.
    await (s as unknown as { wal: { file: { close(): Promise<void> } } }).wal.file.close();
    await expect(s.append([request({ timeMs: 2000, samples: { b: 1 } })])).rejects.toThrow();
    expect(s.stats()).toMatchObject({ headProfiles: 1 });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1 });
    await s.close().catch(() => {});
  });

  it('puts an append in flight when a flush starts into the flushed head, once', async () => {
    const dataDir = await tempDir();
    const s = await openEmbeddedStorage({ dataDir, walSync: false });
    await s.append([request({ timeMs: 1000, samples: { a: 1 } })]);
    // Queued in the WAL segment that the flush seals, durable only after the flush has frozen the head.
    const inFlight = s.append([request({ timeMs: 2000, samples: { b: 1 } })]);
    await Promise.all([s.flush(), inFlight]);
    expect(s.stats()).toMatchObject({ blocks: 1, headProfiles: 0 });
    expect(folded(await s.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    await s.close();
    const reopened = await openEmbeddedStorage({ dataDir, walSync: false });
    expect(folded(await reopened.mergeStacks('anonymous', [], ALL_TIME))).toEqual({ a: 1, b: 1 });
    await reopened.close();
  });
});
