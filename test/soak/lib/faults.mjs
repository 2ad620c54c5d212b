// The injected faults. Each takes the driver's shared state `S` and fills `r`, its row of the fault
// table: what was done, what the server answered meanwhile, and the recovery time.
import { execFile } from 'node:child_process';
import { statfsSync, unlinkSync } from 'node:fs';
import { open, statfs } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { MULTIPART_CONTENT_TYPE, pushBody } from './profiles.mjs';
import { request } from './server.mjs';
import { maxOf, mib, quantile } from './stats.mjs';

export const FAULTS = ['kill', 'disk-full', 'slow-disk', 'disconnect'];

const execFileAsync = promisify(execFile);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How long a fault takes at most, so none is started too close to the end of the load. */
export function faultDurationMs(fault, args) {
  switch (fault) {
    case 'kill':
      return 30_000 + args.killDownMs;
    case 'disk-full':
      return args.diskFullMs + 30_000;
    case 'slow-disk':
      return args.slowDiskMs + 30_000;
    default:
      return args.disconnectMs + 15_000;
  }
}

export async function runFault(fault, S, r) {
  switch (fault) {
    case 'kill':
      return kill(S, r);
    case 'disk-full':
      return diskFull(S, r);
    case 'slow-disk':
      return slowDisk(S, r);
    case 'disconnect':
      return disconnect(S, r);
  }
}

const rssMiB = (S) => {
  const m = S.server.memory();
  return m ? Math.round(mib(m.rss)) : undefined;
};

/** p50/p99 of acks dispatched in [from, to) (performance.now() ms). */
function ackLatency(S, from, to) {
  const ms = S.recentAcks.filter((a) => a.dispatchedAt >= from && a.dispatchedAt < to).map((a) => a.ms);
  return {
    count: ms.length,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: ms.length ? maxOf(ms) : Number.NaN,
  };
}

function statusesOf(S) {
  const p = S.phases.get(S.phase);
  return Object.fromEntries(p.byStatus);
}

function firstErrorsOf(S) {
  const p = S.phases.get(S.phase);
  return Object.fromEntries([...p.firstError].map(([k, v]) => [k, String(v).slice(0, 300)]));
}

// ---------------------------------------------------------------------------------------------------
// SIGKILL, restart on the same data dir.

async function kill(S, r) {
  const { server } = S;
  r.action = 'SIGKILL, restart at once on the same data dir';
  r.inFlightAtKill = S.outstanding;
  r.walMiBBefore = S.lastSample?.wal_mib;
  r.headProfilesBefore = S.lastSample?.head_profiles;
  r.rssMiBBefore = rssMiB(S);
  const tKill = performance.now();
  const firstAck = S.waitForAck(tKill, 600_000);
  await server.stop('SIGKILL');
  r.exitMs = Math.round(performance.now() - tKill);
  if (S.args.killDownMs > 0) await sleep(S.args.killDownMs);
  const { spawnedAt, readyAt } = await server.start();
  r.startToReadyMs = Math.round(readyAt - spawnedAt);
  r.readyMs = Math.round(readyAt - tKill);
  const ackAt = await firstAck;
  r.firstAckMs = ackAt === undefined ? null : Math.round(ackAt - tKill);
  r.recoveryMs = r.firstAckMs;
  r.rssMiBAfter = rssMiB(S);
  r.statuses = statusesOf(S);
}

// ---------------------------------------------------------------------------------------------------
// Full disk: a ballast file fills the tmpfs holding the data dir.

/** Fills the filesystem of `path` to 0 bytes free, without blocking the driver's event loop. */
async function fillDisk(path) {
  const st = await statfs(dirname(path));
  const free = Number(st.bavail) * Number(st.bsize);
  try {
    await execFileAsync('fallocate', ['-l', String(free), path]);
  } catch {
    // tmpfs may refuse the exact size; the loop below fills the rest
  }
  const file = await open(path, 'a');
  try {
    for (const size of [1 << 20, 1 << 12]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          await file.write(chunk);
        } catch (err) {
          if (err.code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    await file.close();
  }
}

async function readProbe(S) {
  const now = Date.now();
  const res = await request(`${S.server.url}/querier.v1.QuerierService/SelectSeries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      profileTypeID: S.kinds[0].typeIds[0],
      labelSelector: `{service_name="${S.tasks[0].name}"}`,
      start: now - 300_000,
      end: now,
      step: S.args.intervalS,
    }),
    timeoutMs: 30_000,
  });
  return res.status === 200 ? 'ok' : String(res.status || res.error);
}

async function diskFull(S, r) {
  const { server } = S;
  const dir = S.mountDir;
  const ballast = join(dir, 'ballast');
  const freeBefore = statfsSync(dir);
  r.action = `ballast file fills the ${mib(Number(freeBefore.blocks) * Number(freeBefore.bsize)).toFixed(0)} MiB tmpfs of the data dir`;
  r.freeMiBBefore = Math.round(mib(Number(freeBefore.bavail) * Number(freeBefore.bsize)));
  r.minFreeDiskOption = S.serverFeatures.minFreeDisk;
  const tFill = performance.now();
  await fillDisk(ballast);
  const afterFill = statfsSync(dir);
  r.fillMs = Math.round(performance.now() - tFill);
  r.freeBytesAfterFill = Number(afterFill.bavail) * Number(afterFill.bsize);
  const phase = S.phases.get(S.phase);
  const ackedAtFull = phase.acked;
  const reads = new Map();
  const ready = new Map();
  const tFull = performance.now();
  while (performance.now() < tFull + S.args.diskFullMs) {
    const status = await readProbe(S);
    reads.set(status, (reads.get(status) ?? 0) + 1);
    const rd = await request(`${server.url}/ready`, { timeoutMs: 5000 });
    const rs = String(rd.status || rd.error);
    ready.set(rs, (ready.get(rs) ?? 0) + 1);
    await sleep(2000);
  }
  r.acksWhileFull = phase.acked - ackedAtFull;
  r.statusesWhileFull = statusesOf(S);
  r.errorBodies = firstErrorsOf(S);
  r.readsWhileFull = Object.fromEntries(reads);
  r.readyWhileFull = Object.fromEntries(ready);
  r.serverAliveWhileFull = server.running;
  unlinkSync(ballast);
  const tFreed = performance.now();
  const ackAt = await S.waitForAck(tFreed, 120_000);
  if (ackAt !== undefined) {
    r.recoveryMs = Math.round(ackAt - tFreed);
    r.recoveredWithoutRestart = true;
  } else {
    r.recoveredWithoutRestart = false;
    const tRestart = performance.now();
    await server.stop('SIGTERM', 60_000);
    await server.start();
    const again = await S.waitForAck(tRestart, 120_000);
    r.recoveryMs = again === undefined ? null : Math.round(again - tFreed);
    r.recoveryNote = 'no ack within 120 s of freeing the disk: restarted the server';
  }
  r.rssMiBAfter = rssMiB(S);
}

// ---------------------------------------------------------------------------------------------------
// Slow disk: every fsync/fdatasync of the server sleeps (LD_PRELOAD shim, delay set live).

async function slowDisk(S, r) {
  const ctl = S.slowFsync;
  const tSlow = performance.now();
  const base = ackLatency(S, tSlow - 60_000, tSlow);
  r.action = `every fsync/fdatasync sleeps ${S.args.slowFsyncMs} ms for ${S.args.slowDiskMs / 1000} s`;
  r.baselineP50Ms = Math.round(base.p50);
  r.baselineP99Ms = Math.round(base.p99);
  r.baselineAcksPerS = Math.round(base.count / 60);
  const before = ctl.counters();
  ctl.setDelayUs(S.args.slowFsyncMs * 1000);
  let maxOutstanding = 0;
  while (performance.now() < tSlow + S.args.slowDiskMs) {
    maxOutstanding = Math.max(maxOutstanding, S.outstanding);
    await sleep(250);
  }
  ctl.setDelayUs(0);
  const tFast = performance.now();
  const after = ctl.counters();
  r.syncCalls = after.calls - before.calls;
  r.syncsPerS = Math.round((r.syncCalls / (tFast - tSlow)) * 1000 * 10) / 10;
  r.sleptS = Math.round((after.sleptUs - before.sleptUs) / 1e6);
  const during = ackLatency(S, tSlow, tFast - 5000);
  r.acksPerSDuring = Math.round(during.count / ((tFast - 5000 - tSlow) / 1000));
  r.p50MsDuring = Math.round(during.p50);
  r.p99MsDuring = Math.round(during.p99);
  r.maxMsDuring = Math.round(during.max);
  r.maxOutstanding = maxOutstanding;
  r.statusesDuring = statusesOf(S);
  r.errorBodies = firstErrorsOf(S);
  // Recovered: uploads sent after the disk got fast again are acked as fast as before the fault.
  const threshold = Math.max(2 * base.p99, base.p99 + 50);
  r.recoveryThresholdMs = Math.round(threshold);
  r.recoveryMs = null;
  while (performance.now() < tFast + 180_000) {
    await sleep(250);
    const now = performance.now();
    const recent = ackLatency(S, Math.max(tFast, now - 3000), now);
    if (recent.count >= 5 && recent.p99 <= threshold) {
      r.recoveryMs = Math.round(now - tFast);
      break;
    }
  }
  r.maxOutstandingIncludingRecovery = Math.max(maxOutstanding, S.outstanding);
}

// ---------------------------------------------------------------------------------------------------
// Clients that disconnect mid-upload or stall, next to the normal load.

function ingestRequest(S, service, payload) {
  const query = new URLSearchParams({ name: `${service}{soak_run=${S.runId},env=soak}`, spyName: 'gospy' });
  const body = payload.multipart;
  const head = Buffer.from(
    `POST /ingest?${query}&from=${Date.now()}000000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${MULTIPART_CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  return { head, body };
}

async function pushRequest(S, service, payload) {
  const body = await pushBody(
    [
      ['__name__', 'process_cpu'],
      ['service_name', service],
      ['soak_run', S.runId],
    ],
    payload.raw,
    BigInt(Date.now()) * 1_000_000n,
  );
  const head = Buffer.from(
    `POST /push.v1.PusherService/Push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/proto\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  return { head, body };
}

async function disconnect(S, r) {
  const { server } = S;
  const port = Number(new URL(server.url).port);
  const payload = S.pool[0][0][0]; // the largest kind (cpu), ~27 KB gzipped
  const tStart = performance.now();
  const base = ackLatency(S, tStart - 60_000, tStart);
  r.action = `${S.args.stallClients} stalled clients (half: headers then nothing; half: partial headers) + one upload cut at half its body every ${S.args.halfBodyEveryMs} ms, for ${S.args.disconnectMs / 1000} s`;
  r.baselineP99Ms = Math.round(base.p99);
  r.rssMiBBefore = rssMiB(S);
  const stalled = [];
  const closedByServer = [];
  const answers = new Map();
  for (let i = 0; i < S.args.stallClients; i++) {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.on('data', (d) => {
      const line = d.toString('latin1').split('\r\n')[0].slice(0, 40);
      answers.set(line, (answers.get(line) ?? 0) + 1);
    });
    sock.on('close', () => {
      if (!sock.byUs) closedByServer.push(performance.now() - tStart);
    });
    const { head, body } = ingestRequest(S, `soak-disconnect-stall-${i}`, payload);
    // Even: complete headers and 100 body bytes, then nothing. Odd: half the headers (slow loris).
    sock.write(
      i % 2 === 0 ? Buffer.concat([head, body.subarray(0, 100)]) : head.subarray(0, head.length >> 1),
    );
    stalled.push(sock);
  }
  let halfBodies = 0;
  let halfBodiesPush = 0;
  const cut = setInterval(async () => {
    const i = halfBodies++;
    const service = `soak-disconnect-half-${i}`;
    const usePush = i % 2 === 1;
    if (usePush) halfBodiesPush++;
    const { head, body } = usePush
      ? await pushRequest(S, service, payload)
      : ingestRequest(S, service, payload);
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(Buffer.concat([head, body.subarray(0, body.length >> 1)]), () =>
        setTimeout(() => sock.destroy(), 10),
      );
    });
    sock.on('error', () => {});
  }, S.args.halfBodyEveryMs);
  let maxRss = 0;
  while (performance.now() < tStart + S.args.disconnectMs) {
    maxRss = Math.max(maxRss, rssMiB(S) ?? 0);
    await sleep(1000);
  }
  clearInterval(cut);
  const stillOpen = stalled.filter((s) => !s.destroyed).length;
  for (const sock of stalled) {
    sock.byUs = true;
    sock.destroy();
  }
  const tEnd = performance.now();
  const during = ackLatency(S, tStart, tEnd);
  r.stalledClients = stalled.length;
  r.closedByServer = closedByServer.length;
  r.closedByServerAfterS = closedByServer.length ? Math.round(quantile(closedByServer, 0.5) / 1000) : null;
  r.stillOpenAtEnd = stillOpen;
  r.answersToStalled = Object.fromEntries(answers);
  r.halfBodies = halfBodies;
  r.halfBodiesPush = halfBodiesPush;
  r.p50MsDuring = Math.round(during.p50);
  r.p99MsDuring = Math.round(during.p99);
  r.statusesDuring = statusesOf(S);
  r.errorBodies = firstErrorsOf(S);
  r.maxRssMiBDuring = maxRss;
  await sleep(5000);
  r.rssMiBAfter = rssMiB(S);
  const ready = await request(`${server.url}/ready`, { timeoutMs: 5000 });
  r.readyAfter = ready.status;
  r.recoveryMs = 0; // no outage is expected; any error above is a finding
}
