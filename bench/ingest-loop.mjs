// Event-loop cost of ingestion at the soak's scale (issue 6): the uploads of N services × 5 Go profile types,
// every 15 s of simulated time, through what the server does per /ingest request, without HTTP:
//   decode   — inflate + pprof decode + WAL framing (ingestLegacy task; on the decoder thread in the server),
//   loop     — unpacking the decoder's output + EmbeddedStorage.append (symbols, stack tree, head, WAL queue),
//              which is what runs on the event loop,
// in windows of simulated minutes, across head flushes, so that a cost growing with the run shows up.
//
//   npx tsc -b && node bench/ingest-loop.mjs [--services 1000] [--minutes 10] [--max-head-size 1024]
//
// Prints one line per simulated minute: loop ms per profile (median of the minute's profiles, and mean),
// decode ms per profile, GC ms in the minute, heap, head size, blocks. Compare variants by running both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openEmbeddedStorage } from '@emberscope/storage';
import { outputWires, runTask } from '../apps/server/dist/compute/tasks.js';
import { buildPool, KINDS, MULTIPART_CONTENT_TYPE } from '../test/soak/lib/profiles.mjs';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '10' },
    shapes: { type: 'string', default: '50' },
    'max-head-size': { type: 'string', default: '1024' },
  },
});
const services = Number(args.services);
const intervalS = 15;

process.stdout.write('building payloads…');
const pool = await buildPool({ shapes: Number(args.shapes), variants: 4, kinds: KINDS, intervalS });
process.stdout.write(' done\n');

const dataDir = mkdtempSync(join(tmpdir(), 'emberscope-ingest-loop-'));
const storage = await openEmbeddedStorage({
  dataDir,
  walSync: false,
  maxHeadBytes: Number(args['max-head-size']) * 2 ** 20,
  compactionIntervalMs: 0,
});
const decodeContext = {
  tenant: 'anonymous',
  nowMs: 0,
  limits: {
    maxProfileBytes: 16 * 2 ** 20,
    maxSamplesPerProfile: 1e6,
    maxLabelsPerSeries: 40,
    maxLabelNameLength: 1024,
    maxLabelValueLength: 2048,
  },
};

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const startMs = Date.now() - Number(args.minutes) * 60_000;
console.log('minute | loop ms/profile p50 / mean | decode ms/profile | GC ms | heap MiB | head MiB | blocks');
for (let minute = 0; minute < Number(args.minutes); minute++) {
  const loop = [];
  let decodeMs = 0;
  gcMs = 0;
  for (let tick = 0; tick < 60 / intervalS; tick++) {
    const nowMs = startMs + (minute * 60 + tick * intervalS) * 1000;
    for (let svc = 0; svc < services; svc++) {
      for (let kind = 0; kind < KINDS.length; kind++) {
        const payload = pool[svc % pool.length][kind][(tick + svc) % 4];
        const name = `soak-svc-${String(svc).padStart(4, '0')}`;
        const query = new URLSearchParams({
          name: `${name}{env=soak,host=host-${svc}}`,
          from: String(Math.floor(nowMs / 1000) - intervalS),
          until: String(Math.floor(nowMs / 1000)),
          spyName: 'gospy',
        }).toString();
        const t0 = performance.now();
        const decoded = runTask('ingestLegacy', {
          query,
          contentType: MULTIPART_CONTENT_TYPE,
          body: payload.multipart,
          ctx: { ...decodeContext, nowMs },
        });
        const { message } = outputWires.ingestLegacy.pack(decoded);
        const t1 = performance.now();
        await storage.append(outputWires.ingestLegacy.unpack(structuredClone(message)));
        loop.push(performance.now() - t1);
        decodeMs += t1 - t0;
      }
    }
  }
  const stats = storage.stats();
  const mean = loop.reduce((a, b) => a + b, 0) / loop.length;
  console.log(
    [
      minute + 1,
      `${median(loop).toFixed(3)} / ${mean.toFixed(3)}`,
      (decodeMs / loop.length).toFixed(3),
      gcMs.toFixed(0),
      (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0),
      (stats.headBytes / 2 ** 20).toFixed(0),
      stats.blocks,
    ].join(' | '),
  );
}
await storage.close();
rmSync(dataDir, { recursive: true, force: true });
