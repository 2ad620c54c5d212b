// Block flush under ingest: a head of many services (one partition each) is written to a block while
// concurrent writers keep appending, as on a busy server. Reports how long the flush takes and how many
// writes are acknowledged meanwhile; both matter, since the next head grows while the flush runs (the
// storage answers 503 head_full once it is full, which is what keeps memory bounded).
//
//   npm run build && node bench/flush.mjs [--services 1000] [--profiles 5000] [--writers 50] [--runs 3]
//
// Input: synthetic Go CPU profiles (bench/gen.mjs, 50 service shapes). The WAL is fsynced as in
// production. Medians of the runs; the machine is shared, so compare runs made side by side.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeProfile } from '@emberscope/pprof';
import { openEmbeddedStorage } from '@emberscope/storage';
import { goCpuProfile, makeService } from './gen.mjs';
import { formatTable, machineInfo } from './lib.mjs';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    profiles: { type: 'string', default: '5000' },
    writers: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const SERVICES = Number(values.services);
const PROFILES = Number(values.profiles);
const RUNS = Number(values.runs);
const TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const payloads = Array.from({ length: 50 }, (_, i) => goCpuProfile(makeService({ seed: i + 1 })).gz);

let next = 0;
function request() {
  const service = `svc-${next % SERVICES}`;
  const payload = payloads[(next * 7) % payloads.length];
  next++;
  return {
    tenant: 'bench',
    partition: service,
    profile: decodeProfile(payload),
    payload,
    timeNanos: BigInt(Date.now()) * 1_000_000n,
    durationNanos: 10_000_000_000n,
    series: [
      {
        labels: [
          { name: '__name__', value: 'process_cpu' },
          { name: '__profile_type__', value: TYPE },
          { name: 'service_name', value: service },
        ],
        sampleType: 1,
      },
    ],
  };
}

async function run(writers) {
  const dataDir = mkdtempSync(join(tmpdir(), 'emberscope-bench-flush-'));
  const storage = await openEmbeddedStorage({
    dataDir,
    maxHeadBytes: 1e12,
    blockDurationMs: 1e9,
    compactionIntervalMs: 0,
    retentionIntervalMs: 0,
  });
  try {
    for (let i = 0; i < PROFILES; i++) await storage.append([request()]);
    let acked = 0;
    let stop = false;
    const appenders = Array.from({ length: writers }, async () => {
      while (!stop) {
        await storage.append([request()]);
        acked++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    const start = performance.now();
    await storage.flush();
    const ms = performance.now() - start;
    stop = true;
    await Promise.all(appenders);
    return { ms, ackedPerS: (acked / ms) * 1000 };
  } finally {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const writers of [0, Number(values.writers)]) {
  const results = [];
  for (let r = 0; r < RUNS; r++) results.push(await run(writers));
  rows.push({
    case: `flush ${PROFILES} profiles / ${SERVICES} partitions, ${writers} writers`,
    'flush ms (median)': median(results.map((x) => x.ms)).toFixed(0),
    'flush ms (all)': results.map((x) => x.ms.toFixed(0)).join(' '),
    'acks/s during flush': writers ? median(results.map((x) => x.ackedPerS)).toFixed(0) : '-',
  });
}
const table = formatTable(rows);
console.log(table);
const machine = machineInfo();
const file = new URL(`./results/flush-${machine.date.slice(0, 10)}.md`, import.meta.url);
writeFileSync(
  file,
  `# Block flush under ingest\n\n\`node bench/flush.mjs --services ${SERVICES} --profiles ${PROFILES} --writers ${values.writers} --runs ${RUNS}\`\n\n${table}\n\nMachine: ${JSON.stringify(machine)}\n`,
);
console.log(`written to ${file.pathname}`);
