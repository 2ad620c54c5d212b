#!/usr/bin/env node
// Soak and fault driver for Emberscope (issue #6): N simulated services × up to 5 Go profile types,
// each pushed every --interval seconds, for --minutes, against the built server started as a child
// process. Keeps a ledger of every acknowledged upload, samples the server's RSS and /metrics into a
// CSV, optionally injects faults (SIGKILL, full disk, slow fsync, clients that disconnect mid-upload),
// and at the end checks through the query API that every acknowledged profile is readable — live,
// after a SIGKILL + restart (WAL replay) and after a graceful restart (blocks).
//
//   npx tsc -b
//   node test/soak/soak.mjs --services 1000 --types 5 --interval 15 --minutes 30 --warmup-minutes 5
//   node test/soak/soak.mjs --services 300 --minutes 20 --faults kill,disk-full,slow-disk,disconnect --fault-every 2m
//
// See test/soak/README.md. Writes bench/results/soak-<date>-<label>.md and .csv.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from '../../bench/lib.mjs';
import { FAULTS, faultDurationMs, runFault } from './lib/faults.mjs';
import { buildPool, KINDS, MULTIPART_CONTENT_TYPE, pushBody } from './lib/profiles.mjs';
import { renderReport } from './lib/report.mjs';
import { freePort, request, ServerProcess } from './lib/server.mjs';
import { MinHeap, mib, parseBytes, parseDuration, quantile } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const USAGE = `usage: node test/soak/soak.mjs [options]   (see test/soak/README.md)
  --services N            simulated services (1000)
  --types N               profile types per service, 1..5: cpu, alloc, inuse, goroutine, mutex (5)
  --interval S            seconds between two uploads of one service and type (15)
  --minutes M             load duration (30)
  --warmup-minutes M      memory is judged after this (5)
  --push-share F          share of services using Connect Push instead of multipart /ingest (0.2)
  --jitter F              send delay after each 15 s window, uniform in [0, F × interval) (0.1)
  --faults LIST           comma list of ${FAULTS.join(', ')} ('' = plain soak)
  --fault-every D         time between fault starts, e.g. 3m, 90s (3m)
  --kill-down D           how long the server stays dead after SIGKILL before the restart (0s)
  --disk-full-seconds S   (60)   --slow-disk-seconds S (90)   --slow-fsync-ms MS (200)
  --disconnect-seconds S  (60)   --stall-clients N (100)      --half-body-every-ms MS (50)
  --tmpfs-size SIZE       tmpfs for the data dir when disk-full is on (4g)
  --rss-limit SIZE        stop the load early if the server's RSS passes this, to protect the
                          shared machine; recorded in the report (8g)
  --data-dir DIR          data dir (default: a new temp dir, deleted at the end)
  --keep-data             keep the temp dir (data, server log)
  --max-sockets N         upload connections (one per service, at most 1000)
  --max-outstanding N     uploads in flight before the client drops new ones, like SDKs whose
                          upload queues are full (5 × services: one per service and profile type)
  --timeout S             per-upload timeout (30)
  --sample-every S        RSS/metrics sampling period (5)
  --shapes N --variants N payload pool: distinct call graphs × profiles per type (50 × 4)
  --server-arg=--flag=v   extra server flag (repeatable)
  --node-arg=--flag       extra flag for the server's node, e.g. --node-arg=--cpu-prof (repeatable)
  --final-checks LIST     verifications at the end: live,kill,term (all)
  --label NAME            results file suffix (default: <services>x<types>, or "faults")
  --out FILE.md           report path (default bench/results/soak-<date>-<label>.md; CSV next to it)`;

const { values: opt } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    types: { type: 'string', default: '5' },
    interval: { type: 'string', default: '15' },
    minutes: { type: 'string', default: '30' },
    'warmup-minutes': { type: 'string', default: '5' },
    'push-share': { type: 'string', default: '0.2' },
    jitter: { type: 'string', default: '0.1' },
    faults: { type: 'string', default: '' },
    'fault-every': { type: 'string', default: '3m' },
    'kill-down': { type: 'string', default: '0s' },
    'disk-full-seconds': { type: 'string', default: '60' },
    'slow-disk-seconds': { type: 'string', default: '90' },
    'slow-fsync-ms': { type: 'string', default: '200' },
    'disconnect-seconds': { type: 'string', default: '60' },
    'stall-clients': { type: 'string', default: '100' },
    'half-body-every-ms': { type: 'string', default: '50' },
    'tmpfs-size': { type: 'string', default: '4g' },
    'rss-limit': { type: 'string', default: '8g' },
    'data-dir': { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    'max-sockets': { type: 'string' },
    'max-outstanding': { type: 'string', default: '' },
    timeout: { type: 'string', default: '30' },
    'sample-every': { type: 'string', default: '5' },
    shapes: { type: 'string', default: '50' },
    variants: { type: 'string', default: '4' },
    'server-arg': { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'final-checks': { type: 'string', default: 'live,kill,term' },
    label: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}

const args = {
  services: Number(opt.services),
  types: Number(opt.types),
  intervalS: Number(opt.interval),
  minutes: Number(opt.minutes),
  warmupMinutes: Number(opt['warmup-minutes']),
  pushShare: Number(opt['push-share']),
  jitter: Number(opt.jitter),
  faults: opt.faults
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  faultEveryMs: parseDuration(opt['fault-every'], 'm'),
  killDownMs: parseDuration(opt['kill-down'], 's'),
  diskFullMs: Number(opt['disk-full-seconds']) * 1000,
  slowDiskMs: Number(opt['slow-disk-seconds']) * 1000,
  slowFsyncMs: Number(opt['slow-fsync-ms']),
  disconnectMs: Number(opt['disconnect-seconds']) * 1000,
  stallClients: Number(opt['stall-clients']),
  halfBodyEveryMs: Number(opt['half-body-every-ms']),
  tmpfsBytes: parseBytes(opt['tmpfs-size']),
  rssLimitBytes: parseBytes(opt['rss-limit']),
  // One connection per simulated service (each is its own process in reality), at most 1000.
  maxSockets: Number(opt['max-sockets'] ?? Math.min(Number(opt.services), 1000)),
  // Default: each service's SDK queue holds one upload per profile type.
  maxOutstanding: Number(opt['max-outstanding'] || 5 * Number(opt.services)),
  timeoutMs: Number(opt.timeout) * 1000,
  sampleEveryMs: Number(opt['sample-every']) * 1000,
  shapes: Math.min(Number(opt.shapes), Number(opt.services)),
  variants: Number(opt.variants),
  serverArgs: opt['server-arg'],
  nodeArgs: opt['node-arg'],
  finalChecks: opt['final-checks']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  seed: Number(opt.seed),
};
for (const f of args.faults)
  if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f} (known: ${FAULTS.join(', ')})`);
if (!(args.types >= 1 && args.types <= KINDS.length)) throw new Error('--types must be 1..5');
for (const c of args.finalChecks)
  if (!['live', 'kill', 'term'].includes(c)) throw new Error(`unknown final check ${c}`);

const kinds = KINDS.slice(0, args.types);
const date = new Date().toISOString().slice(0, 10);
const label = opt.label ?? (args.faults.length ? 'faults' : `${args.services}x${args.types}`);
const outMd = resolve(opt.out ?? join(repo, 'bench/results', `soak-${date}-${label}.md`));
const outCsv = outMd.replace(/\.md$/, '') + '.csv';
const runId = `${Date.now().toString(36)}`;

// ---------------------------------------------------------------------------------------------------
// Shared state (the faults module and the report read it).

const S = {
  args,
  repo,
  runId,
  kinds,
  label,
  outMd,
  outCsv,
  phase: 'startup',
  phases: new Map(),
  /** Per sampling window; reset by the sampler. */
  window: newWindow(),
  /** Acked uploads of the last 3 minutes: {doneAt, dispatchedAt, ms} (performance.now() ms). */
  recentAcks: [],
  ackWaiters: [],
  samples: [],
  faultLog: [],
  events: [],
  /** Errors outside fault phases: when, what, how long after the server's last (re)start. */
  errorLog: [],
  notes: [],
  outstanding: 0,
  inflight: new Set(),
  totals: { dispatched: 0, acked: 0, ackedValue: 0 },
  stopping: false,
  interrupted: false,
  cleanups: [],
};

function newWindow() {
  return { acks: 0, errors: 0, latencies: [], lags: [], dispatched: 0 };
}

function phaseStats(name) {
  let p = S.phases.get(name);
  if (!p) {
    p = {
      name,
      startedAt: performance.now(),
      endedAt: undefined,
      dispatched: 0,
      acked: 0,
      byStatus: new Map(),
      latencies: [],
      lags: [],
      firstError: new Map(),
    };
    S.phases.set(name, p);
  }
  return p;
}

S.setPhase = (name) => {
  const old = S.phases.get(S.phase);
  if (old) old.endedAt = performance.now();
  S.phase = name;
  phaseStats(name);
  console.log(`[${elapsed()}] phase ${name}`);
};

/** Resolves with performance.now() at the first ack of an upload dispatched at or after `after`. */
S.waitForAck = (after, timeoutMs) =>
  new Promise((resolve) => {
    const waiter = { after, resolve };
    S.ackWaiters.push(waiter);
    setTimeout(() => {
      const i = S.ackWaiters.indexOf(waiter);
      if (i >= 0) {
        S.ackWaiters.splice(i, 1);
        resolve(undefined);
      }
    }, timeoutMs);
  });

let loadStartPerf = 0;
const elapsed = () => `${((performance.now() - loadStartPerf) / 1000).toFixed(0).padStart(5)}s`;
S.elapsedS = () => (performance.now() - loadStartPerf) / 1000;

// ---------------------------------------------------------------------------------------------------
// Cleanup: every server, socket and mount is released even when the script fails.

let cleanedUp = false;
function cleanupSync() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const fn of S.cleanups.reverse()) {
    try {
      fn();
    } catch (err) {
      console.error(`cleanup: ${err.message}`);
    }
  }
}
process.on('exit', cleanupSync);
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    signals++;
    if (signals === 1) {
      console.error(`\n${sig}: stopping the load, then verifying and writing the report (again to abort)`);
      S.interrupted = true;
      S.stopping = true;
      for (const wake of S.stopWaiters ?? []) wake();
    } else {
      console.error(`${sig}: aborting`);
      cleanupSync();
      process.exit(130);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Setup: work dir, tmpfs, shim, payloads, server.

const work = mkdtempSync(join(tmpdir(), 'emberscope-soak-'));
S.work = work;
S.cleanups.push(() => {
  if (opt['keep-data']) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});
S.logFile = join(work, 'server.log');

let dataDir = opt['data-dir'] ? resolve(opt['data-dir']) : join(work, 'data');
S.dataFs = 'the machine disk (same filesystem as /tmp)';
if (args.faults.includes('disk-full')) {
  const mountDir = join(work, 'disk');
  mkdirSync(mountDir);
  try {
    if (process.getuid?.() !== 0) throw new Error('not root');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${args.tmpfsBytes}`, 'tmpfs', mountDir]);
    S.cleanups.push(() => {
      try {
        execFileSync('umount', [mountDir], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', mountDir], { stdio: 'ignore' });
      }
      console.log(`unmounted ${mountDir}`);
    });
    S.mountDir = mountDir;
    if (opt['data-dir']) S.notes.push('--data-dir was ignored: disk-full puts the data dir on a tmpfs.');
    dataDir = join(mountDir, 'data');
    S.dataFs = `tmpfs of ${(args.tmpfsBytes / 2 ** 30).toFixed(1)} GiB (needed by the disk-full fault; fsync is free on tmpfs except in the slow-disk phase)`;
  } catch (err) {
    S.diskFullSkipped = `disk-full skipped: cannot mount a tmpfs (${err.message.split('\n')[0]}); run as root`;
    console.warn(S.diskFullSkipped);
    S.notes.push(S.diskFullSkipped);
  }
}
mkdirSync(dataDir, { recursive: true });
S.dataDir = dataDir;

const serverEnv = {};
if (args.faults.includes('slow-disk')) {
  const so = join(work, 'slow-fsync.so');
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, join(here, 'slow-fsync.c'), '-ldl'], {
      stdio: 'pipe',
    });
    const ctl = join(work, 'slow-fsync.ctl');
    writeFileSync(ctl, Buffer.alloc(4096));
    const fd = openSync(ctl, 'r+');
    S.cleanups.push(() => closeSync(fd));
    S.slowFsync = {
      so,
      ctl,
      setDelayUs(us) {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(Math.round(us)));
        writeSync(fd, b, 0, 8, 0);
      },
      counters() {
        const b = readFileSync(ctl).subarray(0, 24);
        return {
          delayUs: Number(b.readBigInt64LE(0)),
          calls: Number(b.readBigInt64LE(8)),
          sleptUs: Number(b.readBigInt64LE(16)),
        };
      },
    };
    serverEnv.LD_PRELOAD = so;
    serverEnv.SLOW_FSYNC_CONTROL = ctl;
  } catch (err) {
    S.slowDiskSkipped = `slow-disk skipped: cannot build the LD_PRELOAD shim (${err.message.split('\n')[0]})`;
    console.warn(S.slowDiskSkipped);
    S.notes.push(S.slowDiskSkipped);
  }
}

// What the server offers today (features being added concurrently are detected, not assumed).
const help = execFileSync(process.execPath, ['apps/cli/bin/emberscope.js', 'server', '--help'], {
  cwd: repo,
  encoding: 'utf8',
});
S.serverFeatures = {
  minFreeDisk: /--min-free-disk-bytes/.test(help),
  walBackpressure: /--max-wal-pending/.test(help),
  headersTimeout: /--http-headers-timeout/.test(help),
};
S.git = gitInfo();
S.machine = machineInfo();

const port = await freePort();
const serverArgs = ['--log-level', 'warn', ...args.serverArgs];
S.serverArgs = serverArgs;
const server = new ServerProcess({
  repo,
  port,
  dataDir,
  args: serverArgs,
  nodeArgs: args.nodeArgs,
  logFile: S.logFile,
  env: serverEnv,
  onUnexpectedExit: (info) => {
    const tail = readFileSync(S.logFile, 'utf8').split('\n').slice(-15).join('\n');
    const event = { type: 'crash', atS: S.elapsedS(), ...info, phase: S.phase, logTail: tail };
    S.events.push(event);
    console.error(
      `[${elapsed()}] SERVER EXITED UNEXPECTEDLY (code ${info.code}, signal ${info.signal}); restarting\n${tail}`,
    );
    if (!S.stopping || S.verifying) S.restartAfterCrash = restartAfterCrash(event);
  },
});
S.server = server;
S.cleanups.push(() => server.killNow());

async function restartAfterCrash(event) {
  await sleep(1000);
  if (server.running) return;
  const t = performance.now();
  try {
    const { readyAt } = await server.start();
    event.restartMs = readyAt - t;
  } catch (err) {
    event.restartError = err.message;
  }
}

console.log(
  `soak ${runId}: ${args.services} services × ${kinds.length} types every ${args.intervalS} s for ${args.minutes} min` +
    (args.faults.length ? `, faults ${args.faults.join(',')} every ${args.faultEveryMs / 1000} s` : '') +
    `\n  data dir ${dataDir}\n  server log ${S.logFile}\n  report ${relative(repo, outMd)}`,
);

const poolStarted = performance.now();
const pool = await buildPool({
  shapes: args.shapes,
  variants: args.variants,
  kinds,
  intervalS: args.intervalS,
  seed: args.seed,
  onProgress: (n, total) => {
    if (n % 10 === 0 || n === total) process.stdout.write(`\r  payloads: ${n}/${total} shapes`);
  },
});
process.stdout.write('\n');
S.poolInfo = kinds.map((kind, k) => {
  const list = pool.flatMap((byKind) => byKind[k]);
  const avg = (f) => list.reduce((a, p) => a + f(p), 0) / list.length;
  return {
    kind: kind.name,
    typeIds: kind.typeIds.join(', '),
    'samples (avg)': avg((p) => p.samples),
    'raw KB': avg((p) => p.raw.length) / 1000,
    'gzip KB': avg((p) => p.gz.length) / 1000,
  };
});
S.poolMs = performance.now() - poolStarted;

// ---------------------------------------------------------------------------------------------------
// Tasks and ledger. Task = (service, kind). Its upload k covers [from_k, from_k + interval) with
// from_k = t0 + k·interval + offset (offset fixed per task, 1 ms … interval − 1 ms), and is sent at
// from_k + interval + jitter. The profile's time is from_k, so a SelectSeries with step = interval
// starting at t0 puts upload k of every task in the point t0 + (k+1)·interval, alone.

const intervalMs = args.intervalS * 1000;
const maxK = Math.ceil((args.minutes * 60_000) / intervalMs) + 3;
const ST = { NONE: 0, ACKED: 1, UNCERTAIN: 2, REFUSED: 3, REJECTED: 4, DROPPED: 5 };
S.ST = ST;
const tasks = [];
const pushEvery = args.pushShare > 0 ? Math.max(1, Math.round(1 / args.pushShare)) : 0;
for (let svc = 0; svc < args.services; svc++) {
  const name = `soak-svc-${String(svc).padStart(4, '0')}`;
  const push = pushEvery > 0 && svc % pushEvery === pushEvery - 1;
  for (let kind = 0; kind < kinds.length; kind++) {
    const task = {
      index: tasks.length,
      svc,
      name,
      kind,
      shape: svc % args.shapes,
      push,
      offset: 1 + Math.floor(Math.random() * (intervalMs - 2)),
      states: new Uint8Array(maxK),
    };
    if (push) {
      const metric = kinds[kind].metric;
      task.labels = [
        ['__name__', metric],
        ['service_name', name],
        ['soak_run', runId],
        ['env', 'soak'],
        ['host', `host-${svc}`],
        ...(metric === 'memory' ? [['__delta__', 'false']] : []),
      ];
    } else {
      task.query = new URLSearchParams({
        name: `${name}{soak_run=${runId},env=soak,host=host-${svc}}`,
        sampleRate: '100',
        spyName: 'gospy',
      }).toString();
    }
    tasks.push(task);
  }
}
S.tasks = tasks;
S.maxK = maxK;
S.intervalMs = intervalMs;
S.pool = pool;
S.variantOf = (task, k) => (k + task.svc) % args.variants;

// ---------------------------------------------------------------------------------------------------
// Uploads

// Every simulated service keeps its connection between uploads, as the SDKs' HTTP clients do (Go keeps idle
// connections 90 s): the default maxFreeSockets (256) would close most of them after each burst and make
// the next burst reconnect, a SYN flood no fleet of real clients sends.
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: args.maxSockets,
  maxFreeSockets: args.maxSockets,
  timeout: 60_000,
});
S.cleanups.push(() => agent.destroy());

function post(path, body, contentType) {
  return new Promise((resolveResult) => {
    let done = false;
    let timer;
    const finish = (r) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolveResult(r);
      }
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent,
      headers: { 'content-type': contentType, 'content-length': body.length },
    });
    // Whole-exchange deadline from dispatch (connect, send, wait), like Go's http.Client.Timeout.
    timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
      args.timeoutMs,
    );
    req.on('response', (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        if (size < 2000) chunks.push(c);
        size += c.length;
      });
      res.on('end', () =>
        finish({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8', 0, 400) }),
      );
      res.on('error', (err) => finish({ status: 0, code: err.code ?? 'response_error', body: err.message }));
    });
    // A reused keep-alive socket that the server had closed is a client-side race, not a refusal.
    req.on('error', (err) =>
      finish({
        status: 0,
        code: (err.code ?? 'error') + (req.reusedSocket ? '(reused socket)' : ''),
        body: err.message,
      }),
    );
    req.end(body);
  });
}

function count(phase, key, message) {
  phase.byStatus.set(key, (phase.byStatus.get(key) ?? 0) + 1);
  if (message !== undefined && !phase.firstError.has(key)) phase.firstError.set(key, message);
}

const isFaultPhase = (name) => /#\d+$/.test(name);

async function fire(task, k, lag) {
  let phase = phaseStats(S.phase);
  phase.dispatched++;
  phase.lags.push(lag);
  S.window.dispatched++;
  S.window.lags.push(lag);
  S.totals.dispatched++;
  if (S.outstanding >= args.maxOutstanding) {
    task.states[k] = ST.DROPPED;
    count(phase, 'client_backlog_full', `more than ${args.maxOutstanding} uploads in flight`);
    S.window.errors++;
    return;
  }
  S.outstanding++;
  const dispatchedAt = performance.now();
  const payload = pool[task.shape][task.kind][S.variantOf(task, k)];
  const fromMs = S.t0 + k * intervalMs + task.offset;
  const fromNs = `${fromMs}000000`;
  let res;
  try {
    if (task.push) {
      const body = await pushBody(task.labels, payload.raw, BigInt(fromNs));
      res = await post('/push.v1.PusherService/Push', body, 'application/proto');
    } else {
      const untilNs = `${fromMs + intervalMs}000000`;
      res = await post(
        `/ingest?${task.query}&from=${fromNs}&until=${untilNs}`,
        payload.multipart,
        MULTIPART_CONTENT_TYPE,
      );
    }
  } finally {
    S.outstanding--;
  }
  const now = performance.now();
  const ms = now - dispatchedAt;
  if (res.status >= 200 && res.status < 300) {
    task.states[k] = ST.ACKED;
    phase.acked++;
    phase.latencies.push(ms);
    count(phase, String(res.status));
    S.window.acks++;
    S.window.latencies.push(ms);
    S.totals.acked++;
    S.recentAcks.push({ doneAt: now, dispatchedAt, ms });
    if (S.ackWaiters.length) {
      for (const w of [...S.ackWaiters])
        if (dispatchedAt >= w.after) {
          S.ackWaiters.splice(S.ackWaiters.indexOf(w), 1);
          w.resolve(now);
        }
    }
    return;
  }
  S.window.errors++;
  // An upload sent just before a fault started and failed by it belongs to the fault.
  if (isFaultPhase(S.phase) && S.phase !== phase.name) {
    phase.dispatched--;
    phase = phaseStats(S.phase);
    phase.dispatched++;
  }
  const key = res.status ? String(res.status) : res.code;
  count(phase, key, res.body);
  S.errorLogCount ??= new Map();
  const logged = S.errorLogCount.get(key) ?? 0;
  if (!isFaultPhase(phase.name) && logged < 40) {
    S.errorLogCount.set(key, logged + 1);
    S.errorLog.push({
      t: S.elapsedS(),
      phase: phase.name,
      key,
      sinceServerReadyS: server.readyAt ? (now - server.readyAt) / 1000 : undefined,
      latencyMs: ms,
    });
  }
  if (res.status >= 400 && res.status < 500) task.states[k] = ST.REJECTED;
  else if (res.code?.startsWith('ECONNREFUSED')) task.states[k] = ST.REFUSED;
  else task.states[k] = ST.UNCERTAIN; // 5xx, reset, timeout: the server may have stored it
}

async function dispatchLoop() {
  const heap = new MinHeap();
  const jitterMs = args.jitter * intervalMs;
  const dueOf = (task, k) => S.t0 + k * intervalMs + task.offset + intervalMs + Math.random() * jitterMs;
  for (const task of tasks) heap.push({ due: dueOf(task, 0), task, k: 0 });
  let n = 0;
  while (heap.size > 0 && !S.stopping) {
    const top = heap.peek();
    if (top.due >= S.endWall || top.k >= maxK) break;
    const wait = top.due - Date.now();
    if (wait > 0) {
      await new Promise((r) => {
        const t = setTimeout(r, Math.min(wait, 500));
        S.stopWaiters = [
          () => {
            clearTimeout(t);
            r();
          },
        ];
      });
      continue;
    }
    heap.pop();
    const p = fire(top.task, top.k, -wait).catch((err) => {
      // A bug in the driver, not a server answer: recorded, the run goes on.
      S.driverErrors = (S.driverErrors ?? 0) + 1;
      if (S.driverErrors <= 5) console.error(`driver error: ${err.stack}`);
      S.notes.push(`driver error: ${err.message}`);
    });
    S.inflight.add(p);
    p.finally(() => S.inflight.delete(p));
    heap.push({ due: dueOf(top.task, top.k + 1), task: top.task, k: top.k + 1 });
    if (++n % 100 === 0) await new Promise((r) => setImmediate(r));
  }
}

// ---------------------------------------------------------------------------------------------------
// Sampling: RSS from /proc, heap and storage gauges from /metrics, the driver's own view.

const CSV_COLUMNS = [
  't_s',
  'phase',
  'pid',
  'rss_mib',
  'hwm_mib',
  'heap_used_mib',
  'heap_total_mib',
  'external_mib',
  'head_mib',
  'head_profiles',
  'head_series',
  'wal_mib',
  'blocks',
  'block_mib',
  'server_cpu_s',
  'eventloop_p99_ms',
  'acked_total',
  'acks_per_s',
  'errors',
  'outstanding',
  'p50_ms',
  'p99_ms',
  'sched_lag_p99_ms',
  'driver_cpu_s',
  'fsync_calls',
  'loadavg1',
];
mkdirSync(dirname(outCsv), { recursive: true });
writeFileSync(outCsv, `${CSV_COLUMNS.join(',')}\n`);

async function takeSample() {
  const w = S.window;
  S.window = newWindow();
  const windowMs = performance.now() - (S.lastSampleAt ?? performance.now());
  S.lastSampleAt = performance.now();
  const mem = server.memory();
  const m = await server.metrics().catch(() => undefined);
  if (mem) {
    S.metricsTried = (S.metricsTried ?? 0) + 1;
    if (m) S.metricsOk = (S.metricsOk ?? 0) + 1;
  }
  const g = (name, scale = 1) => (m?.has(name) ? m.get(name) / scale : '');
  const cpu = process.cpuUsage();
  const row = {
    t_s: Math.round(S.elapsedS()),
    phase: S.phase,
    pid: server.running ? server.pid : '',
    rss_mib: mem ? mib(mem.rss) : '',
    hwm_mib: mem ? mib(mem.hwm) : '',
    heap_used_mib: g('emberscope_nodejs_heap_size_used_bytes', 2 ** 20),
    heap_total_mib: g('emberscope_nodejs_heap_size_total_bytes', 2 ** 20),
    external_mib: g('emberscope_nodejs_external_memory_bytes', 2 ** 20),
    head_mib: g('emberscope_head_bytes', 2 ** 20),
    head_profiles: g('emberscope_head_profiles'),
    head_series: g('emberscope_head_series'),
    wal_mib: g('emberscope_wal_bytes', 2 ** 20),
    blocks: g('emberscope_blocks'),
    block_mib: g('emberscope_block_bytes', 2 ** 20),
    server_cpu_s: mem?.cpuSeconds ?? '',
    eventloop_p99_ms: m?.has('emberscope_nodejs_eventloop_lag_p99_seconds')
      ? m.get('emberscope_nodejs_eventloop_lag_p99_seconds') * 1000
      : '',
    acked_total: S.totals.acked,
    acks_per_s: windowMs > 0 ? (w.acks * 1000) / windowMs : 0,
    errors: w.errors,
    outstanding: S.outstanding,
    p50_ms: quantile(w.latencies, 0.5),
    p99_ms: quantile(w.latencies, 0.99),
    sched_lag_p99_ms: quantile(w.lags, 0.99),
    driver_cpu_s: (cpu.user + cpu.system) / 1e6,
    fsync_calls: S.slowFsync ? S.slowFsync.counters().calls : '',
    loadavg1: loadavg()[0],
  };
  S.samples.push(row);
  S.lastSample = row;
  if (mem && mem.rss > args.rssLimitBytes && !S.stopping) {
    S.rssLimitHit = { t_s: row.t_s, rssMiB: mib(mem.rss) };
    S.notes.push(
      `The load was stopped at t=${row.t_s} s because the server's RSS (${mib(mem.rss).toFixed(0)} MiB) passed --rss-limit ${opt['rss-limit']}.`,
    );
    console.error(
      `[${elapsed()}] server RSS ${mib(mem.rss).toFixed(0)} MiB over --rss-limit: stopping the load`,
    );
    S.stopping = true;
    for (const wake of S.stopWaiters ?? []) wake();
  }
  const fmt = (v) =>
    typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : Number.isNaN(v)
          ? ''
          : v.toFixed(2)
      : String(v);
  writeFileSync(outCsv, `${CSV_COLUMNS.map((c) => fmt(row[c])).join(',')}\n`, { flag: 'a' });
  const cutoff = performance.now() - 180_000;
  while (S.recentAcks.length && S.recentAcks[0].doneAt < cutoff) S.recentAcks.shift();
  return row;
}

async function samplerLoop() {
  let lastPrint = 0;
  while (!S.samplerStop) {
    const row = await takeSample();
    if (performance.now() - lastPrint > 30_000) {
      lastPrint = performance.now();
      console.log(
        `[${elapsed()}] ${row.phase} rss ${fmtMiB(row.rss_mib)} heap ${fmtMiB(row.heap_used_mib)} head ${fmtMiB(row.head_mib)} ` +
          `wal ${fmtMiB(row.wal_mib)} blocks ${row.blocks} | acked ${row.acked_total} ${row.acks_per_s.toFixed(0)}/s ` +
          `err ${row.errors} out ${row.outstanding} p99 ${Number.isNaN(row.p99_ms) ? '-' : row.p99_ms.toFixed(0)} ms lag ${Number.isNaN(row.sched_lag_p99_ms) ? '-' : row.sched_lag_p99_ms.toFixed(0)} ms`,
      );
    }
    const next = S.lastSampleAt + args.sampleEveryMs;
    while (!S.samplerStop && performance.now() < next) await sleep(Math.min(250, next - performance.now()));
  }
}
const fmtMiB = (v) => (v === '' ? '-' : `${Number(v).toFixed(0)}M`);

// ---------------------------------------------------------------------------------------------------
// Faults

async function faultLoop() {
  const faults = args.faults.filter(
    (f) => !(f === 'disk-full' && S.diskFullSkipped) && !(f === 'slow-disk' && S.slowDiskSkipped),
  );
  if (faults.length === 0) return;
  for (let i = 0; ; i++) {
    const fault = faults[i % faults.length];
    const at = loadStartPerf + (i + 1) * args.faultEveryMs;
    const endPerf = loadStartPerf + args.minutes * 60_000;
    const startAt = Math.max(at, performance.now());
    if (startAt + faultDurationMs(fault, args) + 30_000 > endPerf) break;
    while (!S.stopping && performance.now() < startAt)
      await sleep(Math.min(500, startAt - performance.now()));
    if (S.stopping) break;
    const n = S.faultLog.filter((f) => f.fault === fault).length + 1;
    const phaseName = `${fault}#${n}`;
    S.setPhase(phaseName);
    const record = { fault, n, phase: phaseName, atS: S.elapsedS() };
    S.faultLog.push(record);
    try {
      await runFault(fault, S, record);
    } catch (err) {
      record.error = err.stack ?? String(err);
      console.error(`fault ${phaseName} failed: ${record.error}`);
      if (!server.running) await server.start().catch(() => {});
    }
    record.durationS = S.elapsedS() - record.atS;
    console.log(`[${elapsed()}] ${phaseName}: ${JSON.stringify(summarizeFault(record))}`);
    S.setPhase(S.basePhase);
  }
}

function summarizeFault(r) {
  const { fault, n, phase, atS, ...rest } = r;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v !== 'object'));
}

// ---------------------------------------------------------------------------------------------------
// Verification through the query API.

async function selectSeries(typeId, startMs, endMs) {
  const res = await request(`${server.url}/querier.v1.QuerierService/SelectSeries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      profileTypeID: typeId,
      labelSelector: `{soak_run="${runId}"}`,
      start: startMs,
      end: endMs,
      groupBy: ['service_name'],
      step: args.intervalS,
      aggregation: 'TIME_SERIES_AGGREGATION_TYPE_SUM',
    }),
    timeoutMs: 600_000,
  });
  if (res.status !== 200)
    throw new Error(
      `SelectSeries ${typeId}: HTTP ${res.status} ${res.error ?? res.body?.toString('utf8', 0, 300)}`,
    );
  const json = JSON.parse(res.body.toString('utf8'));
  const byService = new Map();
  for (const s of json.series ?? []) {
    const svc = (s.labels ?? []).find((l) => l.name === 'service_name')?.value ?? '';
    const points = new Map();
    for (const p of s.points ?? []) points.set(Number(p.timestamp), Number(p.value ?? 0));
    byService.set(svc, points);
  }
  return { byService, ms: res.ms };
}

async function verify(label) {
  console.log(`[${elapsed()}] verifying (${label})`);
  const startMs = S.t0;
  const endMs = S.t0 + (maxK + 1) * intervalMs;
  const result = {
    label,
    acked: 0,
    lost: 0,
    extraUncertain: 0,
    extraUnexplained: 0,
    foreignSeries: [],
    queryMs: 0,
    lostExamples: [],
    extraExamples: [],
  };
  // (task, k) → 1 lost, 2 extra; counted once per upload even when several sample types disagree
  const lost = new Set();
  const extra = new Map();
  const taskByName = new Map();
  for (const t of tasks) taskByName.set(`${t.name}\u0000${t.kind}`, t);
  for (const [kindIndex, kind] of kinds.entries()) {
    for (const [j, typeId] of kind.typeIds.entries()) {
      const { byService, ms } = await selectSeries(typeId, startMs, endMs);
      result.queryMs += ms;
      for (const [svc, points] of byService) {
        const task = taskByName.get(`${svc}\u0000${kindIndex}`);
        if (!task) {
          if (!result.foreignSeries.includes(svc)) result.foreignSeries.push(svc);
          continue;
        }
        for (const ts of points.keys()) {
          const k = (ts - S.t0) / intervalMs - 1;
          if (!Number.isInteger(k) || k < 0 || k >= maxK) {
            extra.set(`${task.index}:${ts}`, { task, k: ts, state: 'off-grid' });
          }
        }
      }
      for (const task of tasks) {
        if (task.kind !== kindIndex) continue;
        const points = byService.get(task.name);
        for (let k = 0; k < maxK; k++) {
          const state = task.states[k];
          const expected =
            state === ST.ACKED ? pool[task.shape][task.kind][S.variantOf(task, k)].totals[j] : 0;
          const actual = points?.get(S.t0 + (k + 1) * intervalMs) ?? 0;
          if (actual === expected) continue;
          const key = task.index * maxK + k;
          const detail = {
            service: task.name,
            type: typeId,
            k,
            fromMs: S.t0 + k * intervalMs + task.offset,
            state,
            expected,
            actual,
          };
          if (actual < expected) {
            lost.add(key);
            if (result.lostExamples.length < 20) result.lostExamples.push(detail);
          } else extra.set(key, detail);
        }
      }
    }
  }
  for (const task of tasks) for (let k = 0; k < maxK; k++) if (task.states[k] === ST.ACKED) result.acked++;
  result.lost = lost.size;
  for (const e of extra.values()) {
    // Stored although not acknowledged: expected for uploads whose outcome was unknown (connection
    // reset by a kill, a 5xx after the WAL write), suspicious for refused (4xx, connection refused) ones.
    if (e.state === ST.UNCERTAIN) result.extraUncertain++;
    else {
      result.extraUnexplained++;
      if (result.extraExamples.length < 20) result.extraExamples.push(e);
    }
  }
  result.uncertainUploads = 0;
  for (const task of tasks)
    for (let k = 0; k < maxK; k++) if (task.states[k] === ST.UNCERTAIN) result.uncertainUploads++;
  console.log(
    `[${elapsed()}] ${label}: acked ${result.acked}, lost ${result.lost}, extra ${result.extraUncertain} (unknown outcome) + ${result.extraUnexplained} (unexplained), foreign series ${result.foreignSeries.length}, queries ${result.queryMs.toFixed(0)} ms`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Run

function gitInfo() {
  const git = (...a) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
  try {
    const status = git('status', '--porcelain');
    const changed = status ? status.split('\n') : [];
    return {
      commit: git('log', '--oneline', '-1'),
      dirty: changed.length,
      changed: changed.filter((l) => !l.includes('test/soak/') && !l.includes('bench/results/')).slice(0, 40),
    };
  } catch (err) {
    return { commit: `unknown (${err.message})`, dirty: -1, changed: [] };
  }
}

function distStale() {
  // The server runs from the packages' dist directories: warn if a source is newer than its build.
  const pairs = [
    ['apps/server/src/server.ts', 'apps/server/dist/server.js'],
    ['apps/server/src/config.ts', 'apps/server/dist/config.js'],
    ['packages/storage/src/embedded.ts', 'packages/storage/dist/embedded.js'],
    ['packages/storage/src/wal.ts', 'packages/storage/dist/wal.js'],
    ['packages/ingest/src/legacy.ts', 'packages/ingest/dist/legacy.js'],
  ];
  const stale = [];
  for (const [src, built] of pairs) {
    try {
      if (statSync(join(repo, src)).mtimeMs > statSync(join(repo, built)).mtimeMs) stale.push(src);
    } catch {
      stale.push(`${built} missing`);
    }
  }
  return stale;
}

let exitCode = 0;
try {
  const stale = distStale();
  if (stale.length) {
    const note = `dist may be stale: newer sources ${stale.join(', ')} (run npx tsc -b)`;
    console.warn(note);
    S.notes.push(note);
  }
  S.distBuiltAt = existsSync(join(repo, 'apps/server/dist/server.js'))
    ? new Date(statSync(join(repo, 'apps/server/dist/server.js')).mtimeMs).toISOString()
    : 'missing';
  const t = performance.now();
  await server.start();
  S.firstStartMs = performance.now() - t;
  loadStartPerf = performance.now();
  S.loadStartWall = Date.now();
  S.t0 = Math.floor(S.loadStartWall / 1000) * 1000 - intervalMs;
  S.endWall = S.loadStartWall + args.minutes * 60_000;
  S.basePhase = args.warmupMinutes > 0 ? 'warmup' : 'steady';
  S.setPhase(S.basePhase);
  const sampler = samplerLoop();
  const warmupTimer = setTimeout(() => {
    S.warmupSample = S.lastSample;
    S.basePhase = 'steady';
    if (S.phase === 'warmup') S.setPhase('steady');
  }, args.warmupMinutes * 60_000);
  S.cleanups.push(() => clearTimeout(warmupTimer));
  const faults = faultLoop();
  await dispatchLoop();
  S.stopping = true;
  clearTimeout(warmupTimer);
  S.loadEndS = S.elapsedS();
  console.log(`[${elapsed()}] load stopped; waiting for ${S.inflight.size} uploads in flight`);
  await faults;
  await Promise.race([Promise.allSettled([...S.inflight]), sleep(args.timeoutMs + 5000)]);
  S.setPhase('final');
  await takeSample();
  S.endSample = S.lastSample;
  S.samplerStop = true;
  await sampler;
  if (S.restartAfterCrash) await S.restartAfterCrash;
  if (!server.running) await server.start();

  // Final checks: every acknowledged profile readable live, after SIGKILL (WAL replay), after a
  // graceful restart (blocks).
  S.verifying = true;
  S.verifications = [];
  S.finalRestarts = [];
  for (const check of args.finalChecks) {
    if (check !== 'live') {
      const signal = check === 'kill' ? 'SIGKILL' : 'SIGTERM';
      const before = server.memory();
      const t0 = performance.now();
      await server.stop(signal);
      const stoppedAt = performance.now();
      const { readyAt } = await server.start();
      S.finalRestarts.push({
        check,
        signal,
        stopMs: stoppedAt - t0,
        restartMs: readyAt - stoppedAt,
        rssBeforeMiB: before ? mib(before.rss) : undefined,
        rssAfterMiB: mib(server.memory()?.rss ?? 0),
      });
      console.log(
        `[${elapsed()}] ${signal}: stopped in ${(stoppedAt - t0).toFixed(0)} ms, ready again in ${(readyAt - stoppedAt).toFixed(0)} ms`,
      );
    }
    try {
      S.verifications.push(
        await verify(
          check === 'live'
            ? 'live'
            : check === 'kill'
              ? 'after SIGKILL + restart (WAL replay)'
              : 'after SIGTERM + restart (flushed blocks)',
        ),
      );
    } catch (err) {
      S.verifications.push({ label: check, error: err.message });
      console.error(`verification ${check} failed: ${err.message}`);
    }
  }
  S.finalRss = server.memory();
  await server.stop('SIGTERM');
} catch (err) {
  exitCode = 1;
  S.fatal = err.stack ?? String(err);
  console.error(S.fatal);
} finally {
  S.samplerStop = true;
  server.killNow();
  S.logSummary = summarizeLog(S.logFile);
  try {
    const report = renderReport(S);
    writeFileSync(outMd, report);
    console.log(`\nwrote ${relative(repo, outMd)} and ${relative(repo, outCsv)}`);
    console.log(report.split('\n').slice(0, 40).join('\n'));
  } catch (err) {
    console.error(`cannot write the report: ${err.stack}`);
    exitCode = 1;
    // Keep what was measured, so nothing of a long run is lost to a bug in the report.
    const state = outMd.replace(/\.md$/, '') + '.state.json';
    writeFileSync(
      state,
      JSON.stringify({
        args,
        runId,
        totals: S.totals,
        verifications: S.verifications,
        faultLog: S.faultLog,
        events: S.events,
        errorLog: S.errorLog,
        notes: S.notes,
        finalRestarts: S.finalRestarts,
        phases: [...S.phases.values()].map((p) => ({
          name: p.name,
          dispatched: p.dispatched,
          acked: p.acked,
          byStatus: Object.fromEntries(p.byStatus),
          firstError: Object.fromEntries(p.firstError),
          p50: quantile(p.latencies, 0.5),
          p99: quantile(p.latencies, 0.99),
        })),
        logSummary: S.logSummary,
      }),
    );
    console.error(`wrote the raw state to ${state}`);
  }
  cleanupSync();
}
process.exit(exitCode || (S.verifications?.some((v) => v.error || v.lost > 0) ? 1 : 0));

function summarizeLog(file) {
  const counts = new Map();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      let key;
      try {
        const j = JSON.parse(line);
        const level =
          { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[j.level] ?? j.level;
        key = `${level}: ${j.msg ?? ''}${j.err?.message ? ` (${j.err.message.slice(0, 120)})` : ''}`;
      } catch {
        key = line.startsWith('--- soak driver')
          ? 'driver: ' + line.replace(/^--- soak driver [^:]+:\d+:\d+\.\d+Z: /, '').replace(/#\d+/, '#n')
          : `raw: ${line.slice(0, 160)}`;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  } catch {}
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 30);
}
