// What each part of ingest costs: a bare node:http server for `bench/ingest.mjs --floor MODE`, answering the same
// multipart /ingest uploads with less and less behind them, so that the end-to-end figures can be read against floors.
//   MODE=http    reads each body and answers 200: Node's HTTP server and the loopback TCP on this machine;
//   MODE=decode  also decodes it as `emberscope server` does (ingestLegacy: multipart, gunzip, pprof decode,
//                validation, series planning), inline on the event loop, and drops the result;
//   MODE=store   also appends it to an EmbeddedStorage in DATA_DIR (WAL with fdatasync, head),
//                as `emberscope server --ingest-workers 0` does, without its HTTP framework, limits and metrics.
// It serves /ready and /metrics (process CPU seconds and resident memory, under emberscope's metric names).
//
//   node bench/ingest-floor-server.mjs MODE PORT DATA_DIR
import { createServer } from 'node:http';
import { ingestLegacy } from '@emberscope/ingest';
import { openEmbeddedStorage } from '@emberscope/storage';

const [mode, port, dataDir] = process.argv.slice(2);
if (!['http', 'decode', 'store'].includes(mode))
  throw new Error(`unknown floor mode ${mode}: http, decode or store`);
const storage = mode === 'store' ? await openEmbeddedStorage({ dataDir }) : undefined;

const limits = {
  maxProfileBytes: 64 << 20,
  maxSamplesPerProfile: 1 << 20,
  maxLabelsPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
};

function metrics() {
  const cpu = process.cpuUsage();
  return [
    `emberscope_process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    `emberscope_process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    '',
  ].join('\n');
}

const server = createServer((req, res) => {
  if (req.url === '/ready') return res.end('ready');
  if (req.url === '/metrics') return res.end(metrics());
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    if (mode !== 'http') {
      const url = req.url ?? '';
      const profiles = ingestLegacy(
        {
          query: new URLSearchParams(url.slice(url.indexOf('?') + 1)),
          contentType: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        },
        { tenant: 'anonymous', nowMs: Date.now(), limits },
      );
      await storage?.append(profiles);
    }
    res.end();
  });
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () =>
  server.close(async () => {
    await storage?.close();
    process.exit(0);
  }),
);
