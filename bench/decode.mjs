// Decode benchmark: @emberscope/pprof against pprof-format on real Go profiles and a large synthetic one.
// Run after `npx tsc -b`: `node bench/decode.mjs`. Writes bench/results/decode-<date>.md.
//
// Throughput is in uncompressed pprof bytes; gunzip is measured on its own. Both decoders run in the
// same process, in alternating rounds, so the speed-up ratio holds even when the machine is busy.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeProfile, encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import { Profile as PprofFormatProfile } from 'pprof-format';
import { formatTable, machineInfo, measure, summarize } from './lib.mjs';

const ROUNDS = 3;
const FIXTURES = ['go-cpu', 'go-allocs', 'go-goroutine', 'go-mutex', 'go-block'];

/** Deterministic pseudo-random numbers (mulberry32), so every run decodes the same synthetic profile. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A Go-CPU-like profile: stacks of depth 16..32 (mean 24) over `functions` functions, walking a fixed
 * call graph from a few entry points so that stacks share prefixes the way real services do.
 */
function syntheticProfile({ samples = 10_000, functions = 3_000, seed = 1 } = {}) {
  const next = random(seed);
  const names = Array.from(
    { length: functions },
    (_, i) => `github.com/example/service/pkg${i % 97}.Func${i}`,
  );
  const builder = new ProfileBuilder({
    sampleTypes: [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
    ],
    periodType: ['cpu', 'nanoseconds'],
    period: 10_000_000,
    timeNanos: 1_700_000_000_000_000_000n,
    durationNanos: 10_000_000_000n,
  });
  for (let s = 0; s < samples; s++) {
    const depth = 16 + Math.floor(next() * 17);
    const stack = [];
    let fn = Math.floor(next() * 8);
    for (let d = 0; d < depth; d++) {
      stack.push(names[fn]);
      fn = (fn * 31 + 1 + Math.floor(next() * next() * 8)) % functions;
    }
    const count = 1 + Math.floor(next() * 4);
    builder.addSample(stack, [count, count * 10_000_000]);
  }
  return encodeProfile(builder.build(), { gzip: true });
}

function inputs() {
  const fixtures = FIXTURES.map((name) => ({
    name,
    gzipped: readFileSync(new URL(`../testdata/pprof/${name}.pb.gz`, import.meta.url)),
  }));
  return [...fixtures, { name: 'synthetic-10k', gzipped: syntheticProfile() }];
}

async function benchmark({ name, gzipped }) {
  const raw = gunzipSync(gzipped);
  const profile = decodeProfile(raw);
  const frames = profile.sampleLocs.length;
  if (PprofFormatProfile.decode(raw).sample.length !== profile.sampleCount) {
    throw new Error(`${name}: the decoders disagree on the sample count`);
  }
  const large = raw.length > 500_000;
  const ours = [];
  const theirs = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(...(await measure('ours', () => decodeProfile(raw), { iterations: 20 })).runs);
    const slow = { iterations: large ? 3 : 10, warmup: large ? 1 : 3 };
    theirs.push(...(await measure('pprof-format', () => PprofFormatProfile.decode(raw), slow)).runs);
  }
  const oursStats = summarize('ours', ours);
  const theirStats = summarize('pprof-format', theirs);
  const gunzip = await measure('gunzip', () => gunzipSync(gzipped), { iterations: 20 });
  const mbPerSecond = (ms) => raw.length / ms / 1000;
  return {
    profile: name,
    'raw KB': raw.length / 1024,
    'gz KB': gzipped.length / 1024,
    samples: profile.sampleCount,
    frames,
    'ours ms (median)': oursStats.medianMs,
    'ours ms (p95)': oursStats.p95Ms,
    'ours MB/s': mbPerSecond(oursStats.medianMs),
    'ours MB/s (best run)': mbPerSecond(oursStats.minMs),
    'ours Mframes/s': frames / oursStats.medianMs / 1000,
    'pprof-format ms': theirStats.medianMs,
    'pprof-format MB/s': mbPerSecond(theirStats.medianMs),
    'speed-up': theirStats.medianMs / oursStats.medianMs,
    'gunzip ms': gunzip.medianMs,
    'gunzip MB/s out': mbPerSecond(gunzip.medianMs),
  };
}

const machineBefore = machineInfo();
const rows = [];
for (const input of inputs()) {
  const row = await benchmark(input);
  rows.push(row);
  console.log(
    `${row.profile}: ours ${row['ours MB/s'].toFixed(0)} MB/s, speed-up ×${row['speed-up'].toFixed(1)}`,
  );
}

const info = Object.entries(machineBefore)
  .map(([key, value]) => `- ${key}: ${value}`)
  .join('\n');
const report = `# pprof decode: @emberscope/pprof vs pprof-format

${info}
- load average after the run: ${machineInfo().loadAverage}

Medians over ${ROUNDS} alternating rounds per decoder (ours: 20 runs a round; pprof-format: 10, or 3 on
profiles over 500 KB). MB/s counts uncompressed pprof bytes; gunzip is measured separately and is not
included in either decoder's time. Frames are location references in samples. The machine is shared:
medians move with its load, the speed-up (both decoders measured side by side) much less, and the best
run shows what an idle core does.

${formatTable(rows)}
`;
const resultsDir = new URL('./results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const file = new URL(`decode-${machineBefore.date.slice(0, 10)}.md`, resultsDir);
writeFileSync(file, report);
console.log(`\n${report}\nwritten to ${file.pathname}`);
