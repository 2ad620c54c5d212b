// Runs the published Node.js Pyroscope client (@pyroscope/nodejs, a dev dependency of the repo) against a
// server, for Emberscope's real-client conformance tests (test/e2e/clients.test.ts).
//
// Environment: SERVER_ADDRESS (required), APP_NAME (default "node-conformance"), RUN_SECONDS (default 7),
// FLUSH_INTERVAL_MS (default 2000), HOSTNAME_TAG (default "e2e-host").
// On exit it prints one JSON line to stdout describing what it did.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Pyroscope from '@pyroscope/nodejs';

const require = createRequire(import.meta.url);
const serverAddress = process.env.SERVER_ADDRESS;
if (!serverAddress) {
  console.error('SERVER_ADDRESS is required');
  process.exit(2);
}
const appName = process.env.APP_NAME || 'node-conformance';
const runSeconds = Number(process.env.RUN_SECONDS || '7');
const flushIntervalMs = Number(process.env.FLUSH_INTERVAL_MS || '2000');
const hostname = process.env.HOSTNAME_TAG || 'e2e-host';

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function hashLoop(ms) {
  const end = Date.now() + ms;
  let h = Buffer.from('emberscope');
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) h = createHash('sha256').update(h).digest();
  }
  return h;
}

let keep = [];
function churn() {
  const batch = [];
  for (let i = 0; i < 2000; i++) batch.push({ i, s: `item-${i}`, a: new Array(16).fill(i) });
  keep.push(batch);
  if (keep.length > 50) keep = keep.slice(-50);
}

Pyroscope.init({
  serverAddress,
  appName,
  tags: { hostname, env: 'e2e' },
  flushIntervalMs,
  wall: { collectCpuTime: true },
  heap: { samplingIntervalBytes: 32768 },
  // Optional credentials: the Node SDK sends authToken as a Bearer token, and tenantID as X-Scope-OrgID.
  authToken: process.env.AUTH_TOKEN || undefined,
  tenantID: process.env.TENANT_ID || undefined,
});
Pyroscope.start();

const end = Date.now() + runSeconds * 1000;
while (Date.now() < end) {
  Pyroscope.wrapWithLabels({ handler: 'fib' }, () => {
    fib(22);
  });
  Pyroscope.wrapWithLabels({ handler: 'hash' }, () => {
    hashLoop(20);
  });
  churn();
  // Let the profilers' timers (flush, upload) run.
  await new Promise((r) => setTimeout(r, 5));
}

await Pyroscope.stop();
const pkgJson = join(dirname(require.resolve('@pyroscope/nodejs')), '..', '..', 'package.json');
const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
console.log(JSON.stringify({ ok: true, appName, hostname, pyroscopeNodejs: version, node: process.version }));
