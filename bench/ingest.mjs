// End-to-end ingest benchmark: a stream of realistic Go CPU and heap profiles posted to a running
// `emberscope server` over HTTP exactly as the Go SDK posts them (multipart /ingest), closed loop with
// N concurrent requests. Reports profiles/s and samples/s per server CPU-second (= per core), latency
// and the server's peak resident memory.
//
// The load generator runs on the same 2-core machine, so the per-core figures divide by the server's
// own CPU time (process_cpu_seconds_total from its /metrics), not by wall time; it sends pre-serialized
// requests over keep-alive sockets (http-client.mjs), so that it leaves the server most of the machine.
//
//   npx tsc -b && node bench/ingest.mjs [--seconds 20] [--warmup 10] [--runs 3] [--concurrency 8] [--services 20]
//     [--floor http|decode|store] [--out FILE]
// Writes bench/results/ingest-<date>.md (or --out). --floor measures bench/ingest-floor-server.mjs instead: the
// same load against a bare HTTP server that only reads the uploads, or also decodes them, or also stores them.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { goCpuProfile, goHeapProfile, goHeapSampleTypeConfig, makeService } from './gen.mjs';
import { KeepAliveConnection, serializePost } from './http-client.mjs';
import { formatTable, machineInfo } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    // Load before the measurement, not counted: the server's first seconds go to V8 compiling its hot code on
    // background threads (~5 s of CPU here, 15–20% of a 20-s run), a cost a running server paid long ago.
    warmup: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    services: { type: 'string', default: '20' },
    'heap-share': { type: 'string', default: '0.2' },
    'server-arg': { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    // Pin the server to core 0 and this load generator to core 1 (Linux taskset), so they do not share a core.
    pin: { type: 'boolean', default: false },
    // Instead of emberscope, a floor: bench/ingest-floor-server.mjs in mode http, decode or store (see there).
    floor: { type: 'string' },
    // Where to write the report (default bench/results/ingest-<date>.md).
    out: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
/** Extra `emberscope server` flags, e.g. --server-arg=--wal-fsync=false to see what fsync costs. */
const extraServerArgs = args['server-arg'];
// and Node flags for it, e.g. --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=/tmp/prof (every thread).

async function freePort() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (port !== 4045) return port;
  }
}

function multipart(gz, sampleTypeConfig) {
  const boundary = 'bench0123456789';
  const parts = [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    gz,
  ];
  if (sampleTypeConfig)
    parts.push(
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Disposition: form-data; name="sample_type_config"; filename="sample_type_config.json"\r\nContent-Type: application/octet-stream\r\n\r\n${sampleTypeConfig}`,
      ),
    );
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function scrapeMetrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    cpuSeconds: get('emberscope_process_cpu_seconds_total'),
    rssBytes: get('emberscope_process_resident_memory_bytes'),
  };
}

/** Pre-generated request bodies, so the load generator spends its CPU on sending, not encoding. */
function buildRequests() {
  const services = Array.from({ length: Number(args.services) }, (_, i) => makeService({ seed: i + 1 }));
  const requests = [];
  let nowNs = BigInt(Date.now()) * 1_000_000n;
  for (let round = 0; round < 10; round++)
    for (let i = 0; i < services.length; i++) {
      const heap = (round * services.length + i) % Math.round(1 / Number(args['heap-share'])) === 0;
      const p = heap ? goHeapProfile(services[i]) : goCpuProfile(services[i]);
      const { body, contentType } = multipart(p.gz, heap ? goHeapSampleTypeConfig : undefined);
      const from = nowNs - 15_000_000_000n;
      const query = new URLSearchParams({
        aggregationType: heap ? '' : 'sum',
        from: String(from),
        name: `svc-${i}{hostname=host-${i},env=bench}`,
        sampleRate: '100',
        spyName: 'gospy',
        units: heap ? '' : 'samples',
        until: String(nowNs),
      });
      requests.push({
        wire: serializePost('127.0.0.1', `/ingest?${query}`, body, contentType),
        samples: p.samples,
        rawBytes: p.raw.length,
      });
      nowNs += 1_000_000n;
    }
  return requests;
}

const requests = buildRequests();
if (args.pin) execFileSync('taskset', ['-cp', '1', String(process.pid)]);

async function runOnce() {
  const dataDir = mkdtempSync(join(tmpdir(), 'emberscope-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(
    args.pin ? 'taskset' : process.execPath,
    [
      ...(args.pin ? ['-c', '0', process.execPath] : []),
      ...args['node-arg'],
      ...(args.floor
        ? ['bench/ingest-floor-server.mjs', args.floor, String(port), dataDir]
        : [
            'apps/cli/bin/emberscope.js',
            'server',
            '--listen',
            `127.0.0.1:${port}`,
            '--data-dir',
            dataDir,
            '--log-level',
            'warn',
            ...extraServerArgs,
          ]),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {}
    if (i > 100) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }

  // Closed loop: `concurrency` clients, each posting the next request as soon as its previous one is answered.
  let next = 0;
  const drive = (forSeconds, onAnswer) => {
    const deadline = performance.now() + forSeconds * 1000;
    return Promise.all(
      Array.from({ length: concurrency }, async () => {
        const connection = await KeepAliveConnection.open(port);
        while (performance.now() < deadline) {
          const r = requests[next++ % requests.length];
          const t0 = performance.now();
          const status = await connection.send(r.wire);
          onAnswer(r, status === 200, performance.now() - t0);
        }
        connection.close();
      }),
    );
  };
  await drive(Number(args.warmup), () => {});

  const before = await scrapeMetrics(url);
  let peakRss = before.rssBytes;
  const rssPoller = setInterval(async () => {
    try {
      peakRss = Math.max(peakRss, (await scrapeMetrics(url)).rssBytes);
    } catch {}
  }, 500);
  const latencies = [];
  let profiles = 0;
  let samples = 0;
  let rawBytes = 0;
  let failures = 0;
  const started = performance.now();
  await drive(seconds, (r, ok, ms) => {
    latencies.push(ms);
    if (ok) {
      profiles++;
      samples += r.samples;
      rawBytes += r.rawBytes;
    } else failures++;
  });
  const elapsedS = (performance.now() - started) / 1000;
  clearInterval(rssPoller);
  const after = await scrapeMetrics(url);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const cpuS = after.cpuSeconds - before.cpuSeconds;
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return {
    profiles,
    failures,
    'profiles/s': profiles / elapsedS,
    'server CPU s': cpuS,
    'profiles/s per core': profiles / cpuS,
    'samples/s per core': samples / cpuS,
    'uncompressed MB/s per core': rawBytes / 1e6 / cpuS,
    'p50 ms': q(0.5),
    'p99 ms': q(0.99),
    'peak RSS MiB': peakRss / 2 ** 20,
  };
}

const machine = machineInfo();
const results = [];
for (let run = 1; run <= Number(args.runs); run++) {
  const r = await runOnce();
  console.log(`run ${run}:`, JSON.stringify(r));
  results.push({ run: String(run), ...r });
}
const median = (key) => results.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
const summary = {
  run: 'median',
  ...Object.fromEntries(
    Object.keys(results[0])
      .filter((k) => k !== 'run')
      .map((k) => [k, median(k)]),
  ),
};
const report = `# End-to-end ingest: Go CPU and heap profiles over HTTP (multipart /ingest, as the Go SDK sends them)${args.floor ? `, floor server (${args.floor})` : ''}

${Object.entries(machine)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join('\n')}
- load generator: same machine (bench/http-client.mjs, keep-alive)${args.pin ? ' (server pinned to core 0, load generator to core 1)' : ''}, ${concurrency} concurrent requests, ${seconds} s per run after ${args.warmup} s of warm-up (not counted), ${args.services} services, ${Number(args['heap-share']) * 100}% heap profiles
- profiles: synthetic Go-like (bench/gen.mjs): CPU ~1000 samples in ~560 stacks, ~70 KB raw, ~27 KB gzipped; heap 4 sample types
- per-core figures divide by the server process's CPU time (all its threads), read from its /metrics

${formatTable([...results, summary])}
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = args.out ?? new URL(`./results/ingest-${machine.date.slice(0, 10)}.md`, import.meta.url);
writeFileSync(file, report);
console.log(report);
