// Storage engine benchmarks: the insert kernel (symbol dedup + stack tree + sample columns), the merge
// kernel (dense accumulation over head and block), and end-to-end append through the WAL.
//
//   npm run build && node bench/storage.mjs [--quick]
//
// Input: synthetic Go-CPU-like profiles built with ProfileBuilder (~1000 samples, depth ~20, from a
// service call graph of 600 functions and 1500 stacks; each profile draws its samples Zipf-like, so
// consecutive profiles share most stacks). Results are medians; the machine is shared, so compare runs
// made side by side, not with numbers from another day.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeProfile, encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import { openEmbeddedStorage } from '@emberscope/storage';
// The kernels are internal; the bench reads them from the build output.
import { Head } from '../packages/storage/dist/head.js';

const quick = process.argv.includes('--quick');
const loadAtStart = os.loadavg()[0].toFixed(1);
const RUNS = quick ? 3 : 7;
// Merges are short: more runs, and enough warm-up for the JIT and for the garbage of earlier steps.
const MERGE_RUNS = quick ? 5 : 21;
const MERGE_WARMUP = 10;
const TENANT = 'bench';
const PROFILE_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A service: a pool of function names and a set of root-first stacks sharing prefixes. */
function makeService(seed, functionCount = 600, stackCount = 1500) {
  const rand = rng(seed);
  const pkgs = ['net/http', 'encoding/json', 'runtime', 'github.com/acme/shop/cart', 'database/sql', 'sync'];
  const names = Array.from(
    { length: functionCount },
    (_, i) => `${pkgs[i % pkgs.length]}.(*T${i % 97}).Method${i}`,
  );
  const stacks = [];
  for (let s = 0; s < stackCount; s++) {
    const base = s > 0 && rand() < 0.8 ? stacks[Math.floor(rand() * stacks.length)] : ['runtime.goexit'];
    const stack = base.slice(0, Math.max(1, Math.floor(base.length * (0.5 + rand() * 0.5))));
    const depth = 16 + Math.floor(rand() * 9);
    while (stack.length < depth) stack.push(names[Math.floor(rand() * functionCount)]);
    stacks.push(stack);
  }
  return { stacks, rand };
}

/** One ~1000-sample CPU profile: stacks drawn Zipf-like (hot stacks recur in every profile). */
function cpuProfile(service, timeMs, samples = 1000) {
  const builder = new ProfileBuilder({
    sampleTypes: [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
    ],
    periodType: ['cpu', 'nanoseconds'],
    period: 10_000_000,
    timeNanos: BigInt(timeMs) * 1_000_000n,
    durationNanos: 10_000_000_000n,
  });
  for (let i = 0; i < samples; i++) {
    const stack = service.stacks[Math.floor(service.stacks.length * service.rand() ** 3)];
    const n = 1 + Math.floor(service.rand() * 5);
    builder.addSample(stack, [n, n * 10_000_000]);
  }
  return encodeProfile(builder.build(), { gzip: true });
}

function appendRequest(payload, timeMs, service = 'shop') {
  const profile = decodeProfile(payload);
  return {
    tenant: TENANT,
    partition: service,
    profile,
    payload,
    timeNanos: BigInt(timeMs) * 1_000_000n,
    durationNanos: 10_000_000_000n,
    series: [
      {
        labels: [
          { name: '__name__', value: 'process_cpu' },
          { name: '__profile_type__', value: PROFILE_TYPE },
          { name: 'service_name', value: service },
        ],
        sampleType: 1,
      },
    ],
  };
}

async function medianMs(fn, runs = RUNS, warmup = 2) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);

const service = makeService(42);
const PROFILES = quick ? 300 : 1000;
const requests = Array.from({ length: PROFILES }, (_, i) =>
  appendRequest(cpuProfile(service, 1000 * i), 1000 * i),
);
const samples = requests.reduce((n, r) => n + r.profile.sampleCount, 0);
const frames = requests.reduce((n, r) => n + r.profile.sampleLocs.length, 0);
const rows = [];
/** Samples left after summing duplicate stacks within each profile: what a merge reads. */
let storedSamples = 0;
const record = (name, ms, per) => {
  rows.push({ name, ms, per });
  console.log(`${name}: ${ms.toFixed(2)} ms — ${per}`);
};

// 1. Insert kernel: a fresh head takes every profile (decode excluded: profiles are decoded up front).
{
  let head;
  const ms = await medianMs(() => {
    head = new Head(1024);
    for (const r of requests) head.insert(r);
  });
  record(
    `insert kernel, ${PROFILES} profiles into a fresh head`,
    ms,
    `${fmt((PROFILES / ms) * 1000)} profiles/s, ${fmt((samples / ms) * 1000)} samples/s, ${fmt((frames / ms) * 1000)} frames/s`,
  );
  const tenant = head.tenants.get(TENANT);
  storedSamples = tenant.sampleStack.length;
  const nodes = tenant.partitions[0].tree.size;

  // 2. Merge kernel on the head: every profile, one series.
  const all = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER };
  const mergeMs = await medianMs(() => tenant.mergeStacks([], all), MERGE_RUNS, MERGE_WARMUP);
  record(
    `merge ${PROFILES} profiles from the head (${fmt(storedSamples)} stored samples, ${fmt(nodes)} stack nodes)`,
    mergeMs,
    `${fmt((storedSamples / mergeMs) * 1000)} samples/s`,
  );
}

// 3. The same data through the engine: append (WAL, no fsync), then merge from the block.
const dataDir = await mkdtemp(join(os.tmpdir(), 'emberscope-bench-'));
try {
  const storage = await openEmbeddedStorage({ dataDir, walSync: false });
  const t0 = performance.now();
  for (const r of requests) await storage.append([r]);
  const appendMs = performance.now() - t0;
  record(
    'append() one at a time, WAL without fsync (1 run)',
    appendMs,
    `${fmt((PROFILES / appendMs) * 1000)} profiles/s`,
  );
  const headStats = storage.stats();
  const flushStart = performance.now();
  await storage.flush();
  const flushMs = performance.now() - flushStart;
  const { blockBytes, walBytes } = storage.stats();
  record(
    'flush head to a block (1 run)',
    flushMs,
    `${fmt(blockBytes)} B block (${(blockBytes / samples).toFixed(2)} B/input sample), WAL was ${fmt(headStats.walBytes)} B, ${walBytes} B after`,
  );
  const range = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER };
  const blockMs = await medianMs(() => storage.mergeStacks(TENANT, [], range), MERGE_RUNS, MERGE_WARMUP);
  record(
    `merge ${PROFILES} profiles from the block (warm section cache)`,
    blockMs,
    `${fmt((storedSamples / blockMs) * 1000)} samples/s`,
  );
  await storage.close();

  // 4. Group commit: 64 concurrent appends with fsync share writes.
  const synced = await openEmbeddedStorage({ dataDir: join(dataDir, 'sync'), walSync: true });
  const batch = requests.slice(0, 64);
  const syncMs = await medianMs(() => Promise.all(batch.map((r) => synced.append([r]))), quick ? 2 : 5);
  record(
    '64 concurrent append() with fdatasync (group commit)',
    syncMs,
    `${fmt((64 / syncMs) * 1000)} profiles/s`,
  );
  const serialMs = await medianMs(
    async () => {
      for (const r of batch.slice(0, 16)) await synced.append([r]);
    },
    quick ? 2 : 5,
  );
  record('16 sequential append() with fdatasync', serialMs, `${fmt((16 / serialMs) * 1000)} profiles/s`);
  await synced.close();
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

const date = new Date().toISOString().slice(0, 10);
const cpu = os.cpus();
const report = [
  `# Storage benchmarks, ${date}`,
  '',
  `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${loadAtStart} at the start (a shared machine: compare side-by-side runs only).`,
  `Input: ${PROFILES} synthetic Go CPU profiles, ${fmt(samples / PROFILES)} samples and ${fmt(frames / samples)} frames per sample on average; medians of ${RUNS} runs (merges: ${MERGE_RUNS} after ${MERGE_WARMUP} warm-up runs) unless marked.`,
  '',
  '| Benchmark | Median | Throughput |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${r.ms.toFixed(2)} ms | ${r.per} |`),
  '',
  'Produced by `node bench/storage.mjs`.',
  '',
].join('\n');
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
const out = new URL(`./results/storage-${date}.md`, import.meta.url);
await writeFile(out, report);
console.log(`wrote ${out.pathname}`);
