// Synthetic, Go-like profiles for benchmarks. Built with pprof-format (independent of our encoder) so
// that a bug in our codec cannot make the benchmark input easier.
//
// A "service" has a fixed call graph: a pool of functions and a set of distinct stacks (depth 6–30)
// drawn from it. Each profile samples its stacks from a Zipf-like distribution, so consecutive profiles
// of one service share most stacks, as real consecutive profiles do.
import { gzipSync } from 'node:zlib';
import {
  Line,
  Location,
  Mapping,
  Function as PFunction,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';

/** Deterministic PRNG (mulberry32) so runs are comparable. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeService({ seed = 1, functions = 600, stacks = 1500 } = {}) {
  const rand = rng(seed);
  const pkgs = [
    'net/http',
    'encoding/json',
    'runtime',
    'github.com/acme/shop/internal/cart',
    'github.com/acme/shop/internal/db',
    'compress/gzip',
    'sync',
    'fmt',
    'reflect',
    'strings',
  ];
  const fnNames = [];
  for (let i = 0; i < functions; i++) {
    const pkg = pkgs[Math.floor(rand() * pkgs.length)];
    fnNames.push(`${pkg}.(*T${i % 97}).Method${i}`);
  }
  const roots = ['runtime.goexit', 'runtime.main', 'runtime.gcBgMarkWorker'];
  const stackList = [];
  for (let s = 0; s < stacks; s++) {
    // Stacks share prefixes: extend an earlier stack most of the time.
    let stack;
    if (s > 0 && rand() < 0.8) {
      const base = stackList[Math.floor(rand() * stackList.length)];
      stack = base.slice(0, Math.max(1, Math.floor(base.length * (0.5 + rand() * 0.5))));
    } else stack = [fnNames.indexOf(roots[0]) >= 0 ? 0 : 0];
    const depth = 6 + Math.floor(rand() * 24);
    while (stack.length < depth) stack.push(Math.floor(rand() * functions));
    stackList.push(stack);
  }
  return { fnNames, stackList, roots, rand };
}

const cpuKind = {
  sampleTypes: [
    ['samples', 'count'],
    ['cpu', 'nanoseconds'],
  ],
  periodType: ['cpu', 'nanoseconds'],
  period: 10_000_000,
  values: (n) => [n, n * 10_000_000],
};
const heapKind = {
  sampleTypes: [
    ['alloc_objects', 'count'],
    ['alloc_space', 'bytes'],
    ['inuse_objects', 'count'],
    ['inuse_space', 'bytes'],
  ],
  periodType: ['space', 'bytes'],
  period: 524_288,
  values: (n) => [n * 3, n * 3 * 4096, n, n * 4096],
};

/** A Go CPU profile of `samples` samples (default ~1000, 15 s at 100 Hz), gzipped like the Go SDK sends it. */
export function goCpuProfile(service, opts = {}) {
  return goProfile(service, cpuKind, opts);
}

/** A Go heap profile (godeltaprof: alloc_* deltas and inuse_* values), gzipped like the Go SDK sends it. */
export function goHeapProfile(service, opts = {}) {
  return goProfile(service, heapKind, opts);
}

/** The sample_type_config part the Go SDK sends with heap profiles. */
export const goHeapSampleTypeConfig = JSON.stringify({
  alloc_objects: { units: 'objects' },
  alloc_space: { units: 'bytes' },
  inuse_objects: { units: 'objects', aggregation: 'average' },
  inuse_space: { units: 'bytes', aggregation: 'average' },
});

function goProfile(service, kind, { samples = 1000, timeNanos = BigInt(Date.now()) * 1_000_000n } = {}) {
  const { fnNames, stackList, rand } = service;
  const st = new StringTable();
  const functionIds = new Map();
  const fns = [];
  const locs = [];
  const locIds = new Map();
  const locationOf = (fnIndex) => {
    let id = locIds.get(fnIndex);
    if (id) return id;
    let fid = functionIds.get(fnIndex);
    if (!fid) {
      fid = fns.length + 1;
      functionIds.set(fnIndex, fid);
      const name = fnNames[fnIndex];
      fns.push(
        new PFunction({
          id: fid,
          name: st.dedup(name),
          systemName: st.dedup(name),
          filename: st.dedup(`/src/${name.split('.')[0]}/file${fnIndex % 50}.go`),
        }),
      );
    }
    id = locs.length + 1;
    locIds.set(fnIndex, id);
    locs.push(
      new Location({
        id,
        mappingId: 1,
        address: 0x400000 + fnIndex * 64,
        line: [new Line({ functionId: fid, line: 10 + (fnIndex % 300) })],
      }),
    );
    return id;
  };
  const counts = new Map();
  for (let i = 0; i < samples; i++) {
    // Zipf-like: low stack indexes are hot.
    const s = Math.floor(stackList.length * rand() ** 3);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const sampleList = [];
  for (const [s, n] of counts) {
    const stack = stackList[s];
    const locationId = [];
    for (let d = stack.length - 1; d >= 0; d--) locationId.push(locationOf(stack[d])); // leaf first
    sampleList.push(new Sample({ locationId, value: kind.values(n) }));
  }
  const profile = new Profile({
    sampleType: kind.sampleTypes.map(
      ([type, unit]) => new ValueType({ type: st.dedup(type), unit: st.dedup(unit) }),
    ),
    sample: sampleList,
    mapping: [
      new Mapping({
        id: 1,
        memoryStart: 0x400000,
        memoryLimit: 0x1000000,
        filename: st.dedup('/app/server'),
        hasFunctions: true,
        hasFilenames: true,
        hasLineNumbers: true,
      }),
    ],
    location: locs,
    function: fns,
    stringTable: st,
    timeNanos,
    durationNanos: 15_000_000_000,
    periodType: new ValueType({ type: st.dedup(kind.periodType[0]), unit: st.dedup(kind.periodType[1]) }),
    period: kind.period,
  });
  const raw = profile.encode();
  return { raw, gz: gzipSync(raw), samples: sampleList.length };
}

/**
 * Synthetic StackValues, as storage hands them over after a merge: stacks sampled from a random call
 * graph (`functions` functions, `linesPerFunction` locations each, 10% with an inlined frame) and
 * inserted root first, so a new path gets consecutive ids, as in the storage stack tree. Paths are long
 * and rarely shared: a pessimistic ~0.9 tree node per stack node. `sampleSeed` varies the sampled stacks
 * over one call graph (e.g. two time ranges of one service).
 */
export function callGraphStackValues({
  seed,
  sampleSeed = seed,
  stackNodes,
  functions = 20_000,
  linesPerFunction = 4,
}) {
  const rand = rng(seed);
  const names = Array.from(
    { length: functions },
    (_, i) => `github.com/acme/shop/internal/pkg${i % 211}.(*T${i % 97}).Method${i}`,
  );
  const locations = functions * linesPerFunction;
  const locFrameStart = new Uint32Array(locations + 1);
  const frames = [];
  for (let loc = 0; loc < locations; loc++) {
    locFrameStart[loc] = frames.length;
    if (rand() < 0.1) frames.push(Math.floor(rand() * functions));
    frames.push(Math.floor(loc / linesPerFunction));
  }
  locFrameStart[locations] = frames.length;
  const callees = Array.from({ length: functions }, () =>
    Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * functions)),
  );
  const sample = rng(sampleSeed * 7919);
  const parent = [];
  const location = [];
  const values = [];
  const nodeOf = new Map();
  while (parent.length < stackNodes) {
    let fn = Math.floor(sample() * 3);
    let node = -1;
    const depth = 8 + Math.floor(sample() * 50);
    for (let d = 0; d < depth; d++) {
      const loc = fn * linesPerFunction + Math.floor(sample() ** 2 * linesPerFunction);
      const key = (node + 1) * locations + loc;
      let child = nodeOf.get(key);
      if (child === undefined) {
        child = parent.push(node) - 1;
        location.push(loc);
        values.push(0);
        nodeOf.set(key, child);
      }
      node = child;
      const options = callees[fn];
      fn = options[Math.floor(sample() ** 3 * options.length)];
    }
    values[node] += 1 + Math.floor(sample() * 100);
  }
  return {
    parent: Int32Array.from(parent),
    location: Int32Array.from(location),
    values: Float64Array.from(values),
    locFrameStart,
    locFrameName: Uint32Array.from(frames),
    names,
  };
}
