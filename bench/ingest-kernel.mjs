// Ingest kernel benchmark: gzipped Go CPU profiles through ingestLegacy (gunzip + pprof decode + series
// planning) and EmbeddedStorage.append (symbol import + stack tree + columns + WAL, walSync:false), no HTTP.
//
//   npx tsc -b && node bench/ingest-kernel.mjs [--seconds 5] [--runs 5] [--out]
//
// Reports profiles per CPU second of this process (user + system, all threads). The machine is shared:
// compare variants measured side by side, by their medians.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DeltaState, defaultIngestLimits, ingestLegacy } from '@emberscope/ingest';
import { openEmbeddedStorage } from '@emberscope/storage';
import { goCpuProfile, makeService } from './gen.mjs';
import { machineInfo } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 5);
const RUNS = arg('runs', 5);
const SERVICES = 20;

const services = Array.from({ length: SERVICES }, (_, i) => makeService({ seed: i + 1 }));
const bodies = [];
for (let round = 0; round < 10; round++)
  for (let i = 0; i < SERVICES; i++) bodies.push({ i, gz: goCpuProfile(services[i]).gz });

const deltas = new DeltaState();
function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function run() {
  const dir = await mkdtemp(join(os.tmpdir(), 'emberscope-kernel-'));
  const storage = await openEmbeddedStorage({
    dataDir: dir,
    walSync: false,
    flushOnClose: false,
    compactionIntervalMs: 0,
    retentionIntervalMs: 0,
  });
  let n = 0;
  const startWall = performance.now();
  const startCpu = cpuSeconds();
  while (performance.now() - startWall < SECONDS * 1000) {
    const { i, gz } = bodies[n % bodies.length];
    const nowMs = Date.now();
    const query = new URLSearchParams({
      from: String(nowMs - 15_000),
      until: String(nowMs),
      name: `svc-${i}{hostname=host-${i},env=bench}`,
      sampleRate: '100',
      spyName: 'gospy',
      units: 'samples',
      aggregationType: 'sum',
      format: 'pprof',
    });
    const ctx = { tenant: 'bench', nowMs, limits: defaultIngestLimits, deltas };
    const profiles = ingestLegacy({ query, contentType: 'application/octet-stream', body: gz }, ctx);
    await storage.append(profiles);
    n++;
  }
  const cpu = cpuSeconds() - startCpu;
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  return { profiles: n, cpu, perCpuSecond: n / cpu };
}

const results = [];
for (let r = 0; r < RUNS; r++) {
  const res = await run();
  results.push(res);
  console.log(
    `run ${r + 1}: ${res.profiles} profiles, ${res.cpu.toFixed(2)} CPU s, ${res.perCpuSecond.toFixed(0)} profiles/CPU s`,
  );
}
const sorted = results.map((r) => r.perCpuSecond).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(
  `median ${median.toFixed(0)} profiles/CPU s (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)})`,
);

if (process.argv.includes('--out')) {
  const info = machineInfo();
  const date = new Date().toISOString().slice(0, 10);
  const rows = results
    .map((r, k) => `| ${k + 1} | ${r.profiles} | ${r.cpu.toFixed(2)} | ${r.perCpuSecond.toFixed(0)} |`)
    .join('\n');
  const machine = Object.entries(info)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n');
  const report = `# Ingest kernel: gzipped Go CPU profiles through ingestLegacy + EmbeddedStorage.append (no HTTP)

${machine}
- ${SERVICES} services, ${SECONDS} s per run, walSync:false; per CPU second = profiles / process CPU time (user + system)

| run | profiles | CPU s | profiles per CPU s |
| --- | --- | --- | --- |
${rows}
| median | | | ${median.toFixed(0)} |
`;
  await writeFile(new URL(`./results/ingest-kernel-${date}.md`, import.meta.url), report);
}
