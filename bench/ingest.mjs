// End-to-end ingest benchmark: a stream of realistic Go CPU and heap profiles posted to a running
// `emberscope server` over HTTP exactly as the Go SDK posts them (multipart /ingest), closed loop with
// N concurrent requests. Reports profiles/s and samples/s per server CPU-second (= per core), latency
// and the server's peak resident memory.
//
//   npm run build && node bench/ingest.mjs [--seconds 20] [--concurrency 8] [--services 20]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { goCpuProfile, goHeapProfile, goHeapSampleTypeConfig, makeService } from './gen.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    services: { type: 'string', default: '20' },
    'heap-share': { type: 'string', default: '0.2' },
    out: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);

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

const dataDir = mkdtempSync(join(tmpdir(), 'emberscope-bench-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = spawn(
  process.execPath,
  [
    'apps/cli/bin/emberscope.js',
    'server',
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
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

// Pre-generate the request bodies so the load generator spends its CPU on sending, not encoding.
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
      path: `/ingest?${query}`,
      body,
      contentType,
      samples: p.samples,
      rawBytes: p.raw.length,
    });
    nowNs += 1_000_000n;
  }

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
const deadline = performance.now() + seconds * 1000;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const r = requests[next++ % requests.length];
      const t0 = performance.now();
      const res = await fetch(url + r.path, {
        method: 'POST',
        body: r.body,
        headers: { 'content-type': r.contentType },
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.ok) {
        profiles++;
        samples += r.samples;
        rawBytes += r.rawBytes;
      } else failures++;
    }
  }),
);
const elapsedS = (performance.now() - started) / 1000;
clearInterval(rssPoller);
const after = await scrapeMetrics(url);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dataDir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const cpuS = after.cpuSeconds - before.cpuSeconds;
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
const result = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  seconds: elapsedS.toFixed(1),
  concurrency,
  profiles,
  failures,
  profilesPerSecond: (profiles / elapsedS).toFixed(0),
  serverCpuSeconds: cpuS.toFixed(2),
  profilesPerCoreSecond: (profiles / cpuS).toFixed(0),
  samplesPerCoreSecond: (samples / cpuS).toFixed(0),
  uncompressedMBPerCoreSecond: (rawBytes / 1e6 / cpuS).toFixed(1),
  latencyMs: { p50: q(0.5).toFixed(2), p99: q(0.99).toFixed(2) },
  peakRssMiB: (peakRss / 2 ** 20).toFixed(0),
};
console.log(JSON.stringify(result, null, 2));
if (args.out) writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
