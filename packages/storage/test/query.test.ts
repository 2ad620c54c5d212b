import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildFunctionTree, type Labels, labelsKey, type Matcher, matchLabels } from '@emberscope/model';
import { decodeProfile, encodeProfile, type Profile, ProfileBuilder } from '@emberscope/pprof';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AppendRequest,
  type EmbeddedStorage,
  openEmbeddedStorage,
  type SelectSeriesOptions,
  type TimeRange,
} from '../src/index.js';
import {
  ALL_TIME,
  CPU_TYPE,
  foldedSamples,
  m,
  plain,
  removeTempDirs,
  request,
  seriesLabels,
  tempDir,
} from './helpers.js';

const run = promisify(execFile);
const TESTDATA = join(import.meta.dirname, '../../../testdata/pprof');

afterEach(removeTempDirs);

async function open(opts: Partial<Parameters<typeof openEmbeddedStorage>[0]> = {}): Promise<EmbeddedStorage> {
  return openEmbeddedStorage({ dataDir: await tempDir(), walSync: false, compactionGraceMs: 0, ...opts });
}

/**
 * Where the data lives when queried: only the head; only one block; two blocks and the head; one
 * compacted block (two flushes, then compact).
 */
const LAYOUTS = ['head', 'block', 'blocks+head', 'compacted'] as const;
type Layout = (typeof LAYOUTS)[number];

async function store(s: EmbeddedStorage, requests: AppendRequest[], layout: Layout): Promise<void> {
  const third = Math.ceil(requests.length / 3);
  if (layout === 'head') await s.append(requests);
  if (layout === 'block') {
    await s.append(requests);
    await s.flush();
  }
  if (layout === 'blocks+head' || layout === 'compacted') {
    await s.append(requests.slice(0, third));
    await s.flush();
    await s.append(requests.slice(third, 2 * third));
    await s.flush();
    await s.append(requests.slice(2 * third));
  }
  if (layout === 'compacted') {
    await s.flush();
    await s.compact();
    // Three level-0 blocks in one window become one level-1 block.
    expect(s.stats()).toMatchObject({ blocks: 1, headProfiles: 0, compactions: 1 });
  }
}

describe('selectSeries', () => {
  // Range 10 000 … 20 000 at 1 000 ms steps: boundaries 10 000, 11 000, …
  const range = { startMs: 10_000, endMs: 20_000 };
  const profiles = [
    request({ timeMs: 9_999, samples: { 'main;x': 100 }, labels: { pod: 'a' } }), // before the range
    request({ timeMs: 10_000, samples: { 'main;x': 1 }, labels: { pod: 'a' } }), // on the first boundary
    request({ timeMs: 10_001, samples: { 'main;x': 2 }, labels: { pod: 'a' } }), // just after it → 11 000
    request({ timeMs: 11_000, samples: { 'main;x': 4 }, labels: { pod: 'a' } }), // on a boundary → 11 000
    request({ timeMs: 11_000, samples: { 'main;y': 32 }, labels: { pod: 'b' } }),
    request({ timeMs: 13_500, samples: { 'main;x': 3, 'main;y': 5 }, labels: { pod: 'a' } }), // → 14 000
    request({ timeMs: 14_000, samples: { 'main;z': 64 } }), // no pod label
    request({ timeMs: 20_000, samples: { 'main;x': 16 }, labels: { pod: 'a' } }), // on the last boundary
    request({ timeMs: 20_001, samples: { 'main;x': 200 }, labels: { pod: 'a' } }), // after the range
  ];
  const sum = (groupBy: string[] = [], limit?: number): SelectSeriesOptions => ({
    stepMs: 1000,
    groupBy,
    aggregation: 'sum',
    limit,
  });

  for (const layout of LAYOUTS) {
    it(`buckets (ts − step, ts], sparse, grouped, averaged and limited (${layout})`, async () => {
      const s = await open();
      await store(s, profiles, layout);
      const cpu = [m('__profile_type__', '=', CPU_TYPE)];
      expect(plain(await s.selectSeries('anonymous', cpu, range, sum()))).toEqual([
        [
          {},
          [
            [10_000, 1],
            [11_000, 2 + 4 + 32],
            [14_000, 8 + 64],
            [20_000, 16],
          ],
        ],
      ]);
      // A missing group-by label groups under "" and is left out of the result's labels.
      expect(plain(await s.selectSeries('anonymous', cpu, range, sum(['pod'])))).toEqual([
        [{}, [[14_000, 64]]],
        [
          { pod: 'a' },
          [
            [10_000, 1],
            [11_000, 6],
            [14_000, 8],
            [20_000, 16],
          ],
        ],
        [{ pod: 'b' }, [[11_000, 32]]],
      ]);
      expect(
        plain(await s.selectSeries('anonymous', cpu, range, { ...sum(), aggregation: 'average' })),
      ).toEqual([
        [
          {},
          [
            [10_000, 1],
            [11_000, 38 / 3],
            [14_000, 36],
            [20_000, 16],
          ],
        ],
      ]);
      // Top N by the sum of the points: {} 64, pod=b 32, pod=a 31; the result stays sorted by labels.
      expect(plain(await s.selectSeries('anonymous', cpu, range, sum(['pod'], 1)))).toEqual([
        [{}, [[14_000, 64]]],
      ]);
      expect(plain(await s.selectSeries('anonymous', cpu, range, sum(['pod'], 2))).map(([l]) => l)).toEqual([
        {},
        { pod: 'b' },
      ]);
      expect(await s.selectSeries('anonymous', [m('pod', '=', 'nope')], range, sum())).toEqual([]);
      expect(await s.selectSeries('other-tenant', [], range, sum())).toEqual([]);
      // Group by two labels, one of them on every series; label sets compare label by label.
      expect(
        plain(await s.selectSeries('anonymous', cpu, range, sum(['service_name', 'pod']))).map(([l]) => l),
      ).toEqual([
        { pod: 'a', service_name: 'svc' },
        { pod: 'b', service_name: 'svc' },
        { service_name: 'svc' },
      ]);
      await s.close();
    });
  }

  it('rejects a step that is not positive', async () => {
    const s = await open();
    await expect(s.selectSeries('anonymous', [], range, { ...sum(), stepMs: 0 })).rejects.toThrow(RangeError);
    await s.close();
  });

  it('agrees with a reference over random data and queries, in every layout', async () => {
    const rand = rng(7);
    const int = (n: number) => Math.floor(rand() * n);
    const stored: { timeMs: number; labels: Labels; total: number }[] = [];
    const requests: AppendRequest[] = [];
    for (let i = 0; i < 300; i++) {
      const extra: Record<string, string> = {};
      if (rand() < 0.7) extra.pod = `p${int(4)}`;
      if (rand() < 0.5) extra.env = rand() < 0.5 ? 'prod' : 'dev';
      const service = rand() < 0.5 ? 'api' : 'db';
      const samples: Record<string, number> = {};
      for (let k = int(4); k >= 0; k--) samples[`main;f${int(6)};g${int(3)}`] = 1 + int(1000);
      const req = request({ service, timeMs: 1000 + int(100_000), samples, labels: extra });
      requests.push(req);
      stored.push({
        timeMs: Number(req.timeNanos / 1_000_000n),
        labels: req.series[0].labels,
        total: Object.values(samples).reduce((a, b) => a + b, 0),
      });
    }
    const queries: { matchers: Matcher[]; range: TimeRange; opts: SelectSeriesOptions }[] = [];
    for (let q = 0; q < 40; q++) {
      const startMs = int(90_000);
      const groupBy = [['pod'], ['env', 'pod'], [], ['service_name'], ['nope']][int(5)];
      queries.push({
        matchers: [[], [m('service_name', '=', 'api')], [m('pod', '=~', 'p[12]')]][int(3)],
        range: { startMs, endMs: startMs + int(50_000) },
        opts: {
          stepMs: [1, 15, 1000, 7_777, 60_000][int(5)],
          groupBy,
          aggregation: rand() < 0.5 ? 'sum' : 'average',
          limit: rand() < 0.3 ? 1 + int(3) : undefined,
        },
      });
    }
    for (const layout of LAYOUTS) {
      const s = await open();
      await store(s, requests, layout);
      for (const q of queries) {
        const got = plain(await s.selectSeries('anonymous', q.matchers, q.range, q.opts));
        expect(got, `${layout} ${JSON.stringify(q)}`).toEqual(
          referenceSeries(stored, q.matchers, q.range, q.opts),
        );
      }
      await s.close();
    }
  });
});

/** selectSeries written the obvious way. */
function referenceSeries(
  stored: { timeMs: number; labels: Labels; total: number }[],
  matchers: Matcher[],
  range: TimeRange,
  opts: SelectSeriesOptions,
): [Record<string, string>, [number, number][]][] {
  const groups = new Map<string, { labels: Record<string, string>; buckets: Map<number, number[]> }>();
  for (const p of stored) {
    if (!matchLabels(p.labels, matchers) || p.timeMs < range.startMs || p.timeMs > range.endMs) continue;
    const labels: Record<string, string> = {};
    for (const name of [...opts.groupBy].sort()) {
      const value = p.labels.find((l) => l.name === name)?.value;
      if (value) labels[name] = value;
    }
    const key = labelsKey(Object.entries(labels).map(([name, value]) => ({ name, value })));
    let group = groups.get(key);
    if (!group) {
      group = { labels, buckets: new Map() };
      groups.set(key, group);
    }
    let ts = range.startMs;
    while (ts < p.timeMs) ts += opts.stepMs;
    const list = group.buckets.get(ts) ?? [];
    list.push(p.total);
    group.buckets.set(ts, list);
  }
  let out = [...groups.entries()].map(([key, g]) => {
    const points = [...g.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, totals]): [number, number] => {
        const s = totals.reduce((a, b) => a + b, 0);
        return [ts, opts.aggregation === 'average' ? s / totals.length : s];
      });
    return { key, labels: g.labels, points, sum: points.reduce((a, p) => a + p[1], 0) };
  });
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (opts.limit) out = out.sort((a, b) => b.sum - a.sum || byKey(a, b)).slice(0, opts.limit);
  return out.sort(byKey).map((g) => [g.labels, g.points]);
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

// --- mergeProfile -------------------------------------------------------------------------------

/** The request of a real profile file, stored as one series of the given sample type. */
async function fileRequest(
  file: string,
  timeMs: number,
  sampleType: number,
  profileType: string,
  service = 'svc',
): Promise<AppendRequest> {
  const payload = await readFile(join(TESTDATA, file));
  return {
    tenant: 'anonymous',
    partition: service,
    profile: decodeProfile(payload),
    payload,
    timeNanos: BigInt(timeMs) * 1_000_000n,
    durationNanos: 10_000_000_000n,
    series: [{ labels: seriesLabels(service, profileType), sampleType }],
  };
}

/** `go tool pprof -top` lines (flat, flat%, sum%, cum, cum% and name), sorted, without the header. */
async function goTop(files: string[], args: string[]): Promise<string[]> {
  const { stdout } = await run(
    'go',
    ['tool', 'pprof', '-top', '-nodecount=1000000', '-nodefraction=0', '-edgefraction=0', ...args, ...files],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => /^\s*flat\s+flat%/.test(l));
  // sum% depends on the order of equal rows, which is not part of the profile: keep the rest.
  return lines
    .slice(header + 1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/))
    .map(([flat, flatPct, , cum, cumPct, ...name]) => [flat, flatPct, cum, cumPct, ...name].join(' '))
    .sort();
}

/** Sum of the sample values printed by `go tool pprof -raw`. */
async function goRawTotal(file: string): Promise<number> {
  const { stdout } = await run('go', ['tool', 'pprof', '-raw', file], { maxBuffer: 64 * 1024 * 1024 });
  const lines = stdout.split('\n');
  // Sample lines ("   value: location ids") lie between "Samples:" plus its header line and "Locations".
  const samples = lines.slice(lines.indexOf('Samples:') + 2, lines.indexOf('Locations'));
  let total = 0;
  for (const line of samples) {
    const match = /^\s*(-?\d+):/.exec(line);
    if (match) total += Number(match[1]);
  }
  return total;
}

async function writeTemp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, bytes);
  return path;
}

function profileTotal(p: Profile): number {
  return p.values.reduce((a, b) => a + b, 0);
}

describe('mergeProfile', () => {
  const ALLOC = 'memory:alloc_space:bytes:space:bytes';

  for (const layout of LAYOUTS) {
    it(`gives go tool pprof the same per-function values as the original files (${layout})`, async () => {
      const s = await open();
      const requests = [];
      for (let i = 0; i < 3; i++) {
        requests.push(await fileRequest('go-cpu.pb.gz', 1000 + i, 1, CPU_TYPE));
        requests.push(await fileRequest('go-allocs.pb.gz', 1000 + i, 1, ALLOC));
      }
      await store(s, requests, layout);
      const cpuFile = join(TESTDATA, 'go-cpu.pb.gz');
      const allocFile = join(TESTDATA, 'go-allocs.pb.gz');

      const cpu = await s.mergeProfile('anonymous', [m('__profile_type__', '=', CPU_TYPE)], ALL_TIME);
      expect(cpu).not.toBeNull();
      const cpuOut = await writeTemp('cpu.pb.gz', encodeProfile(cpu!, { gzip: true }));
      const original = decodeProfile(await readFile(cpuFile));
      let cpuTotal = 0;
      for (let i = 1; i < original.values.length; i += 2) cpuTotal += original.values[i];
      expect(profileTotal(cpu!)).toBe(3 * cpuTotal);
      expect(await goRawTotal(cpuOut)).toBe(3 * cpuTotal);
      const top = await goTop([cpuOut], ['-unit=ns']);
      expect(top.length).toBeGreaterThan(50);
      expect(top).toEqual(await goTop([cpuFile, cpuFile, cpuFile], ['-unit=ns', '-sample_index=cpu']));
      // Granularity lines: the same inlined frames and line numbers.
      expect(await goTop([cpuOut], ['-unit=ns', '-lines'])).toEqual(
        await goTop([cpuFile, cpuFile, cpuFile], ['-unit=ns', '-lines', '-sample_index=cpu']),
      );

      const alloc = await s.mergeProfile('anonymous', [m('__profile_type__', '=', ALLOC)], {
        startMs: 1001,
        endMs: 1002,
      });
      const allocOut = await writeTemp('alloc.pb.gz', encodeProfile(alloc!));
      expect(await goTop([allocOut], ['-unit=B'])).toEqual(
        await goTop([allocFile, allocFile], ['-unit=B', '-sample_index=alloc_space']),
      );
      await s.close();
    });
  }

  it('has one sample type, the period, the range as time and duration, and full symbols', async () => {
    const s = await open();
    await s.append([
      request({ timeMs: 5000, samples: { 'main;work': 5 }, period: 10_000_000 }),
      request({ timeMs: 6000, samples: { 'main;work': 1, 'main;idle': 2 }, period: 10_000_000 }),
      request({ timeMs: 7000, samples: { 'main;idle': 4 }, period: 20_000_000 }),
    ]);
    await s.flush();
    await s.append([inlinedProfile(8000)]);
    const merged = await s.mergeProfile('anonymous', [], { startMs: 4000, endMs: 10_000 });
    const p = decodeProfile(encodeProfile(merged!));
    const str = (i: number) => p.strings[i];
    expect([str(p.sampleTypes[0]), str(p.sampleTypes[1])]).toEqual(['cpu', 'nanoseconds']);
    expect([str(p.periodType[0]), str(p.periodType[1])]).toEqual(['cpu', 'nanoseconds']);
    expect(p.period).toBe(10_000_000); // the most common
    expect(p.timeNanos).toBe(4000n * 1_000_000n);
    expect(p.durationNanos).toBe(6000n * 1_000_000n);
    expect(foldedSamples(p)).toEqual({
      'main;work': 6,
      'main;idle': 6,
      // Root first; the frames of one location innermost first, as pprof lists lines.
      'kernel@0xffffffff81000123;work@/src/work.go:10(start 7);helper@/src/helper.go:30(start 29)': 5,
    });
    // Mappings and addresses survive.
    expect(p.mappingCount).toBe(1);
    expect(str(p.mappingFile[0])).toBe('/usr/lib/debug/vmlinux');
    expect(p.mappingStart[0]).toBe(0xffffffff81000000n);
    // Functions are unique by content (two `work`s: one without a file name).
    const functions = Array.from(
      { length: p.functionCount },
      (_, f) => `${str(p.functionName[f])} ${str(p.functionFilename[f])} ${p.functionStartLine[f]}`,
    );
    expect(new Set(functions).size).toBe(functions.length);
    expect(functions.filter((f) => f.startsWith('work '))).toHaveLength(2);
    expect(await s.mergeProfile('anonymous', [m('pod', '=', 'x')], ALL_TIME)).toBeNull();
    expect(await s.mergeProfile('anonymous', [], { startMs: 0, endMs: 10 })).toBeNull();
    await s.close();
  });

  it('merges partitions and blocks into one table: one sample per distinct stack', async () => {
    const s = await open();
    await s.append([request({ service: 'a', timeMs: 1000, samples: { 'main;x;y': 1, 'main;x': 2 } })]);
    await s.flush();
    await s.append([request({ service: 'b', timeMs: 2000, samples: { 'main;x;y': 10, 'main;z': 20 } })]);
    await s.append([request({ service: 'a', timeMs: 3000, samples: { 'main;x;y': 100 } })]);
    const p = (await s.mergeProfile('anonymous', [], ALL_TIME))!;
    expect(p.sampleCount).toBe(3);
    expect(foldedSamples(p)).toEqual({ 'main;x;y': 111, 'main;x': 2, 'main;z': 20 });
    expect(p.functionCount).toBe(4);
    expect(p.locationCount).toBe(4);
    await s.close();
  });
});

/** One sample: `work` (with `helper` inlined) called from a bare kernel address in a mapping. */
function inlinedProfile(timeMs: number): AppendRequest {
  const built = new ProfileBuilder({ sampleTypes: [['cpu', 'nanoseconds']] })
    .addSample(['main', 'work'], [5])
    .addSample(['helper'], [0])
    .build();
  const n = built.strings.length;
  // Functions and locations of the builder: 0 = work, 1 = main, 2 = helper.
  const profile: Profile = {
    ...built,
    strings: [...built.strings, '/usr/lib/debug/vmlinux', '/src/work.go', '/src/helper.go'],
    functionFilename: Uint32Array.of(n + 1, 0, n + 2),
    functionStartLine: Float64Array.of(7, 0, 29),
    mappingCount: 1,
    mappingId: Float64Array.of(1),
    mappingStart: BigUint64Array.of(0xffffffff81000000n),
    mappingLimit: BigUint64Array.of(0xffffffff82000000n),
    mappingOffset: BigUint64Array.of(0n),
    mappingFile: Uint32Array.of(n),
    mappingBuildId: Uint32Array.of(0),
    mappingFlags: Uint8Array.of(0),
    locationMapping: Int32Array.of(-1, 0, -1),
    locationAddress: BigUint64Array.of(0n, 0xffffffff81000123n, 0n),
    locationLineStart: Uint32Array.of(0, 2, 2, 3),
    lineFunction: Int32Array.of(0, 2, 2),
    lineNumber: Float64Array.of(10, 30, 30),
    lineColumn: new Float64Array(3),
  };
  const req = request({ timeMs, samples: {} });
  req.payload = encodeProfile(profile);
  req.profile = decodeProfile(req.payload);
  return req;
}

describe('samples without locations', () => {
  // Go writes them under load (golang/go#51550); go tool pprof counts them in the total.
  function withEmptyStack(timeMs: number): AppendRequest {
    const profile = new ProfileBuilder({ sampleTypes: [['cpu', 'nanoseconds']] })
      .addSample(['main', 'work'], [30])
      .addSample([], [12])
      .build();
    const payload = encodeProfile(profile, { gzip: true });
    return {
      tenant: 'anonymous',
      partition: 'svc',
      profile: decodeProfile(payload),
      payload,
      timeNanos: BigInt(timeMs) * 1_000_000n,
      durationNanos: 10_000_000_000n,
      series: [{ labels: seriesLabels('svc', CPU_TYPE), sampleType: 0 }],
    };
  }

  for (const layout of LAYOUTS) {
    it(`stay in the totals as the root's self value, with no frame (${layout})`, async () => {
      const s = await open();
      await store(s, [1000, 2000, 3000].map(withEmptyStack), layout);
      const selector = [m('__profile_type__', '=', CPU_TYPE)];
      const tree = buildFunctionTree(await s.mergeStacks('anonymous', selector, ALL_TIME));
      expect(tree.total[0]).toBe(3 * 42);
      expect(tree.self[0]).toBe(3 * 12);
      expect(tree.names.filter((n) => n !== '')).not.toContain('0x0');

      const merged = await s.mergeProfile('anonymous', selector, ALL_TIME);
      expect(profileTotal(merged!)).toBe(3 * 42);
      const empty = [...Array(merged!.sampleCount).keys()].filter(
        (i) => merged!.sampleLocStart[i] === merged!.sampleLocStart[i + 1],
      );
      expect(empty.map((i) => merged!.values[i])).toEqual([3 * 12]);
      expect(await goRawTotal(await writeTemp('empty.pb.gz', encodeProfile(merged!, { gzip: true })))).toBe(
        3 * 42,
      );
    });
  }
});

describe('profileStats', () => {
  it('reports the oldest and newest profile of the tenant, 0s when empty', async () => {
    const s = await open();
    expect(await s.profileStats('anonymous')).toEqual({
      dataIngested: false,
      oldestProfileMs: 0,
      newestProfileMs: 0,
    });
    await s.append([
      request({ timeMs: 5000, samples: { a: 1 } }),
      request({ timeMs: 3000, samples: { a: 1 } }),
    ]);
    await s.flush();
    await s.append([request({ timeMs: 9000, samples: { a: 1 } })]);
    await s.append([request({ tenant: 'other', timeMs: 1, samples: { a: 1 } })]);
    expect(await s.profileStats('anonymous')).toEqual({
      dataIngested: true,
      oldestProfileMs: 3000,
      newestProfileMs: 9000,
    });
    expect(await s.profileStats('other')).toEqual({
      dataIngested: true,
      oldestProfileMs: 1,
      newestProfileMs: 1,
    });
    expect(await s.profileStats('nobody')).toMatchObject({ dataIngested: false });
    await s.close();
  });
});
