// Query benchmarks of the embedded engine (read path): flame graph merges over 1 h, 24 h and 7 d of one
// service, time series, pprof export, label and series queries at 10k and 100k series, and bytes on
// disk per profile after compaction versus the gzipped input.
//
//   npx tsc -b && node bench/query.mjs [--quick] [--days N]
//
// Input: synthetic Go CPU profiles from bench/gen.mjs (pprof-format, gzipped as the Go SDK sends them):
// one service, a profile every 15 s (5,760 a day), ~1000 samples each drawn Zipf-like from the
// service's 1,500 stacks, so consecutive profiles share most stacks. They are appended through the
// engine (walSync off for setup speed), flushed every hour of data as a live server would, then
// compacted. Latencies are medians of warm runs; the machine is shared, so compare runs made side by
// side rather than with another day's numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildFunctionTree, createMatcher, toFlameGraph } from '@emberscope/model';
import { decodeProfile, encodeProfile } from '@emberscope/pprof';
import { openEmbeddedStorage } from '@emberscope/storage';
import { goCpuProfile, makeService } from './gen.mjs';
import { formatTable, machineInfo, measure } from './lib.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, days: { type: 'string' } },
});
const DAYS = Number(args.days ?? (args.quick ? 1 : 7));
const STEP_MS = 15_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const TENANT = 'bench';
const SERVICE = 'shop';
const PROFILE_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const UNTRUNCATED = Number.MAX_SAFE_INTEGER;
const machineBefore = machineInfo();

const rows = [];
const record = (row) => {
  rows.push(row);
  console.log(Object.values(row).join(' | '));
};
const fmt = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : `${Math.round(n)}`;

const seriesLabels = (extra = []) =>
  [
    { name: '__name__', value: 'process_cpu' },
    { name: '__period_type__', value: 'cpu' },
    { name: '__period_unit__', value: 'nanoseconds' },
    { name: '__profile_type__', value: PROFILE_TYPE },
    { name: '__type__', value: 'cpu' },
    { name: '__unit__', value: 'nanoseconds' },
    { name: 'service_name', value: SERVICE },
    ...extra,
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

// --- 1. one service over DAYS days ----------------------------------------------------------------

const dataDir = await mkdtemp(join(os.tmpdir(), 'emberscope-query-bench-'));
const engineOptions = {
  dataDir,
  walSync: false,
  compactionIntervalMs: 0,
  retentionIntervalMs: 0,
  retentionMs: 0,
  // Hold the whole service's decoded sections for warm runs (a 7 d merge reads ~270 MB decoded).
  blockCacheBytes: 1024 * 1024 * 1024,
};
try {
  let storage = await openEmbeddedStorage(engineOptions);
  const service = makeService({ seed: 42 });
  const profiles = (DAYS * DAY_MS) / STEP_MS;
  const endMs = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const startMs = endMs - DAYS * DAY_MS;
  const labels = seriesLabels([{ name: 'hostname', value: 'shop-7d9f' }]);
  let gzBytes = 0;
  let samples = 0;
  const setupStart = performance.now();
  for (let i = 0; i < profiles; i++) {
    const timeMs = startMs + i * STEP_MS;
    const timeNanos = BigInt(timeMs) * 1_000_000n;
    const { gz } = goCpuProfile(service, { timeNanos });
    gzBytes += gz.length;
    const profile = decodeProfile(gz);
    samples += profile.sampleCount;
    await storage.append([
      {
        tenant: TENANT,
        partition: SERVICE,
        profile,
        payload: gz,
        timeNanos,
        durationNanos: 15_000_000_000n,
        series: [{ labels, sampleType: 1 }],
      },
    ]);
    // One block per hour of data, as the head's blockDurationMs would cut them.
    if ((i + 1) % (HOUR_MS / STEP_MS) === 0) await storage.flush();
    if ((i + 1) % 5760 === 0) console.log(`appended ${i + 1} profiles`);
  }
  await storage.flush();
  const appendMs = performance.now() - setupStart;
  const flushed = storage.stats();
  const compactStart = performance.now();
  await storage.compact();
  const compactMs = performance.now() - compactStart;
  const compacted = storage.stats();
  console.log(
    `setup: ${profiles} profiles in ${(appendMs / 1000).toFixed(1)} s, ${flushed.blocks} blocks → compacted to ${compacted.blocks} in ${(compactMs / 1000).toFixed(1)} s`,
  );
  // Reopen, so that the numbers are those of a server that restarted (the blocks' metadata only).
  await storage.close();
  storage = await openEmbeddedStorage(engineOptions);
  const report = await storage.report();
  const levels = report.tenants[0].blocks.map((b) => b.level);
  const storageRows = [
    {
      measure: 'profiles stored',
      value: fmt(profiles),
      note: `${fmt(samples / profiles)} samples per profile on average`,
    },
    {
      measure: 'gzipped input per profile',
      value: `${fmt(gzBytes / profiles)} B`,
      note: 'what the clients sent',
    },
    {
      measure: 'on disk per profile, flushed (level 0)',
      value: `${fmt(flushed.blockBytes / profiles)} B`,
      note: `${((100 * flushed.blockBytes) / gzBytes).toFixed(1)}% of the gzipped input, ${flushed.blocks} blocks`,
    },
    {
      measure: 'on disk per profile, compacted',
      value: `${fmt(compacted.blockBytes / profiles)} B`,
      note: `${((100 * compacted.blockBytes) / gzBytes).toFixed(1)}% of the gzipped input (target < 25%), ${compacted.blocks} blocks, levels ${[...new Set(levels)].sort().join('/')}`,
    },
    {
      measure: 'setup',
      value: `${(appendMs / 1000).toFixed(0)} s + ${(compactMs / 1000).toFixed(1)} s`,
      note: 'append (decode included, generation too) + compaction',
    },
  ];

  const matchers = [
    createMatcher('__profile_type__', '=', PROFILE_TYPE),
    createMatcher('service_name', '=', SERVICE),
  ];
  const ranges = [
    ['1 h', HOUR_MS],
    ['24 h', DAY_MS],
    ['7 d', 7 * DAY_MS],
  ].filter(([, ms]) => ms <= DAYS * DAY_MS);
  const target = { '24 h': 300, '7 d': 2000 };
  for (const [name, ms] of ranges) {
    const range = { startMs: endMs - ms, endMs };
    const iterations = ms > DAY_MS ? 9 : 21;
    const opts = { warmup: 3, iterations, minRunMs: 0 };
    const inRange = ms / STEP_MS;
    const merge = await measure(`merge ${name}`, () => storage.mergeStacks(TENANT, matchers, range), opts);
    const parts = await storage.mergeStacks(TENANT, matchers, range);
    const tree = buildFunctionTree(parts);
    for (const maxNodes of [8192, UNTRUNCATED]) {
      const full = await measure(
        `flame graph ${name}`,
        async () =>
          toFlameGraph(buildFunctionTree(await storage.mergeStacks(TENANT, matchers, range)), maxNodes),
        opts,
      );
      const build = await measure('build', () => toFlameGraph(buildFunctionTree(parts), maxNodes), opts);
      record({
        query: `flame graph, ${name} (${fmt(inRange)} profiles), maxNodes ${maxNodes === UNTRUNCATED ? 'untruncated' : maxNodes}`,
        medianMs: full.medianMs,
        p95Ms: full.p95Ms,
        detail: `mergeStacks ${merge.medianMs.toFixed(1)} ms + tree and layout ${build.medianMs.toFixed(1)} ms; ${fmt(tree.size)} tree nodes${target[name] ? `; target < ${target[name]} ms` : ''}`,
      });
    }
    const series = await measure(
      `selectSeries ${name}`,
      () =>
        storage.selectSeries(TENANT, matchers, range, { stepMs: STEP_MS, groupBy: [], aggregation: 'sum' }),
      opts,
    );
    const points = (
      await storage.selectSeries(TENANT, matchers, range, {
        stepMs: STEP_MS,
        groupBy: [],
        aggregation: 'sum',
      })
    )[0].values.length;
    record({
      query: `selectSeries, ${name}, 15 s step`,
      medianMs: series.medianMs,
      p95Ms: series.p95Ms,
      detail: `${fmt(points)} points`,
    });
    const pprof = await measure(
      `mergeProfile ${name}`,
      async () => encodeProfile(await storage.mergeProfile(TENANT, matchers, range), { gzip: true }),
      { ...opts, iterations: Math.min(iterations, 9) },
    );
    const bytes = encodeProfile(await storage.mergeProfile(TENANT, matchers, range), { gzip: true }).length;
    record({
      query: `mergeProfile + encode (gzipped pprof), ${name}`,
      medianMs: pprof.medianMs,
      p95Ms: pprof.p95Ms,
      detail: `${fmt(bytes)} B`,
    });
  }
  await storage.close();

  // The longest range again with the default 256 MiB block cache, which holds less than 7 d of
  // decoded samples: every run reads and inflates part of the blocks again.
  {
    const [name, ms] = ranges[ranges.length - 1];
    const small = await openEmbeddedStorage({ ...engineOptions, blockCacheBytes: undefined });
    const range = { startMs: endMs - ms, endMs };
    const m = await measure(
      `flame graph ${name}, default cache`,
      async () => toFlameGraph(buildFunctionTree(await small.mergeStacks(TENANT, matchers, range)), 8192),
      { warmup: 2, iterations: 7, minRunMs: 0 },
    );
    record({
      query: `flame graph, ${name}, maxNodes 8192, default 256 MiB block cache`,
      medianMs: m.medianMs,
      p95Ms: m.p95Ms,
      detail: 'sections evicted between runs are read and inflated again',
    });
    await small.close();
  }
  await rm(dataDir, { recursive: true, force: true });

  // --- 2. label and series queries at 10k and 100k series ----------------------------------------
  for (const seriesCount of args.quick ? [10_000] : [10_000, 100_000]) {
    const dir = await mkdtemp(join(os.tmpdir(), 'emberscope-query-bench-'));
    const s = await openEmbeddedStorage({ ...engineOptions, dataDir: dir });
    const { gz } = goCpuProfile(makeService({ seed: 1, functions: 20, stacks: 10 }), { samples: 5 });
    const profile = decodeProfile(gz);
    const t0 = endMs - HOUR_MS;
    const batch = [];
    for (let i = 0; i < seriesCount; i++) {
      const timeMs = t0 + (i % 240) * STEP_MS;
      batch.push({
        tenant: TENANT,
        partition: `svc-${i % 50}`,
        profile,
        payload: gz,
        timeNanos: BigInt(timeMs) * 1_000_000n,
        durationNanos: 15_000_000_000n,
        series: [
          {
            labels: [
              { name: '__name__', value: 'process_cpu' },
              { name: '__profile_type__', value: PROFILE_TYPE },
              { name: 'env', value: ['prod', 'staging', 'dev'][i % 3] },
              { name: 'pod', value: `pod-${i}` },
              { name: 'region', value: `r${i % 7}` },
              { name: 'service_name', value: `svc-${i % 50}` },
            ],
            sampleType: 1,
          },
        ],
      });
      if (batch.length === 1000) await s.append(batch.splice(0));
      // Half the series in a block, half in the head: both paths are measured.
      if (i + 1 === seriesCount / 2) {
        await s.append(batch.splice(0));
        await s.flush();
      }
    }
    if (batch.length) await s.append(batch.splice(0));
    const range = { startMs: t0, endMs };
    const one = [createMatcher('service_name', '=', 'svc-7')];
    const queries = [
      ['labelNames {}', () => s.labelNames(TENANT, [], range)],
      ['labelValues pod {}', () => s.labelValues(TENANT, 'pod', [], range)],
      ['labelValues pod {service_name="svc-7"}', () => s.labelValues(TENANT, 'pod', one, range)],
      [
        'series {} [service_name, __profile_type__] (UI app list)',
        () => s.series(TENANT, [], ['service_name', '__profile_type__'], range),
      ],
      ['series {service_name="svc-7"} (all labels)', () => s.series(TENANT, one, [], range)],
      ['profileTypes', () => s.profileTypes(TENANT, range)],
    ];
    for (const [name, fn] of queries) {
      const result = await fn();
      const m = await measure(name, fn, {
        warmup: 3,
        iterations: seriesCount > 10_000 ? 9 : 21,
        minRunMs: 0,
      });
      record({
        query: `${name}, ${fmt(seriesCount)} series`,
        medianMs: m.medianMs,
        p95Ms: m.p95Ms,
        detail: `${fmt(result.length)} results`,
      });
    }
    await s.close();
    await rm(dir, { recursive: true, force: true });
  }

  const info = Object.entries(machineBefore)
    .map(([key, value]) => `- ${key}: ${value}`)
    .join('\n');
  const out = `# Query benchmarks, ${machineBefore.date.slice(0, 10)}

${info}
- load average after the run: ${machineInfo().loadAverage}

One service, ${DAYS} d of 15-second synthetic Go CPU profiles (\`bench/gen.mjs\`: ~1000 samples drawn
Zipf-like from 1,500 stacks of 600 functions, so consecutive profiles share most stacks), appended
through the engine, flushed every hour of data, compacted (6 h, then 24 h windows) and reopened.
Ranges end at the newest profile. Latencies are medians (and 95th percentiles) of warm runs, wall time,
with a 1 GiB block cache.

## Storage

${formatTable(storageRows)}

## Queries

${formatTable(rows)}

Produced by \`node bench/query.mjs${args.quick ? ' --quick' : ''}${args.days ? ` --days ${args.days}` : ''}\`.
`;
  const resultsDir = new URL('./results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const file = new URL(`query-${machineBefore.date.slice(0, 10)}.md`, resultsDir);
  writeFileSync(file, out);
  console.log(`\n${out}\nwritten to ${file.pathname}`);
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
