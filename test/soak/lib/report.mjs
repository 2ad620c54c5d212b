// The Markdown report of a soak run.
import { basename, relative } from 'node:path';
import { formatNumber } from '../../../bench/lib.mjs';
import { maxOf, median, minOf, quantile, slope } from './stats.mjs';

const fmt = (v, digits) => {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return '-';
  if (digits !== undefined) return v.toFixed(digits);
  return Number.isInteger(v) ? String(v) : formatNumber(v);
};

function table(headers, rows) {
  const esc = (c) => String(c).replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

const isFaultPhase = (name) => /#\d+$/.test(name);

/** Memory flatness over the samples after warm-up taken from one server process. */
function memoryVerdict(S) {
  const warmupS = S.args.warmupMinutes * 60;
  const rows = S.samples.filter((r) => r.t_s >= warmupS && r.phase !== 'final' && Number.isFinite(r.rss_mib));
  if (rows.length < 4) return undefined;
  const span = rows.at(-1).t_s - rows[0].t_s;
  const windowS = Math.min(300, span / 3);
  const first = rows.filter((r) => r.t_s <= rows[0].t_s + windowS);
  const last = rows.filter((r) => r.t_s >= rows.at(-1).t_s - windowS);
  const pids = new Set(rows.map((r) => r.pid));
  const v = {
    windowS,
    firstMedian: median(first.map((r) => r.rss_mib)),
    lastMedian: median(last.map((r) => r.rss_mib)),
    firstMax: maxOf(first.map((r) => r.rss_mib)),
    lastMax: maxOf(last.map((r) => r.rss_mib)),
    max: maxOf(rows.map((r) => r.rss_mib)),
    min: minOf(rows.map((r) => r.rss_mib)),
    slopePerMin: slope(
      rows.map((r) => r.t_s / 60),
      rows.map((r) => r.rss_mib),
    ),
    heapFirst: median(first.map((r) => r.heap_used_mib).filter((x) => Number.isFinite(x))),
    heapLast: median(last.map((r) => r.heap_used_mib).filter((x) => Number.isFinite(x))),
    restarts: pids.size - 1,
  };
  v.growthPct = ((v.lastMedian - v.firstMedian) / v.firstMedian) * 100;
  v.flat = v.lastMedian <= v.firstMedian * 1.1 && v.lastMax <= v.firstMax * 1.15;
  return v;
}

function perMinute(S) {
  const byMinute = new Map();
  for (const r of S.samples) {
    const m = Math.floor(r.t_s / 60);
    if (!byMinute.has(m)) byMinute.set(m, []);
    byMinute.get(m).push(r);
  }
  const rows = [];
  for (const [m, list] of byMinute) {
    const num = (k) => list.map((r) => r[k]).filter((v) => v !== '' && !Number.isNaN(v));
    const last = (k) => num(k).at(-1);
    const max = (k) => (num(k).length ? maxOf(num(k)) : undefined);
    const phases = [...new Set(list.map((r) => r.phase))].join(', ');
    const acks = list.reduce((a, r) => a + r.acks_per_s, 0) / list.length;
    const cpu = serverCpuShare(list);
    rows.push([
      m,
      phases,
      fmt(last('rss_mib'), 0),
      fmt(max('rss_mib'), 0),
      fmt(last('heap_used_mib'), 0),
      fmt(last('external_mib'), 0),
      fmt(last('head_mib'), 0),
      fmt(last('wal_mib'), 0),
      fmt(last('blocks')),
      fmt(acks, 0),
      list.reduce((a, r) => a + r.errors, 0),
      fmt(max('p99_ms'), 0),
      fmt(max('sched_lag_p99_ms'), 0),
      fmt(cpu * 100, 0),
      fmt(max('loadavg1'), 1),
    ]);
  }
  return table(
    [
      'min',
      'phase',
      'RSS MiB',
      'max RSS',
      'heap used',
      'external',
      'head MiB',
      'WAL MiB',
      'blocks',
      'acks/s',
      'errors',
      'p99 ms',
      'send lag p99 ms',
      'server CPU %',
      'load avg',
    ],
    rows,
  );
}

/** Server CPU seconds per wall second over consecutive samples of one process (restarts skipped). */
function serverCpuShare(rows) {
  let cpu = 0;
  let wall = 0;
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    if (a.pid !== b.pid || !Number.isFinite(a.server_cpu_s) || !Number.isFinite(b.server_cpu_s)) continue;
    cpu += b.server_cpu_s - a.server_cpu_s;
    wall += b.t_s - a.t_s;
  }
  return wall > 0 ? cpu / wall : Number.NaN;
}

export function renderReport(S) {
  const a = S.args;
  const out = [];
  const target = (a.services * S.kinds.length) / a.intervalS;
  const loadS = S.loadEndS ?? S.samples.at(-1)?.t_s ?? 0;
  const phases = [...S.phases.values()];
  const normal = phases.filter((p) => !isFaultPhase(p.name) && p.name !== 'final' && p.name !== 'startup');
  const normalErrors = new Map();
  for (const p of normal)
    for (const [k, n] of p.byStatus)
      if (!/^2\d\d$/.test(k)) normalErrors.set(k, (normalErrors.get(k) ?? 0) + n);
  const totalNormalErrors = [...normalErrors.values()].reduce((x, y) => x + y, 0);
  const mem = memoryVerdict(S);
  const warmupS = a.warmupMinutes * 60;
  const postWarm = S.samples.filter((r) => r.t_s >= warmupS && r.phase !== 'final');
  const postWarmRate = postWarm.length
    ? postWarm.reduce((x, r) => x + r.acks_per_s, 0) / postWarm.length
    : Number.NaN;
  const crashes = S.events.filter((e) => e.type === 'crash');
  const verifications = S.verifications ?? [];
  const title = a.faults.length
    ? `Soak with faults (${a.faults.join(', ')}): ${a.services} services × ${S.kinds.length} types every ${a.intervalS} s, ${a.minutes} min`
    : `Soak: ${a.services} services × ${S.kinds.length} profile types every ${a.intervalS} s, ${a.minutes} min`;
  out.push(`# ${title}`, '');
  out.push(
    `Run \`${S.runId}\`, written by \`test/soak/soak.mjs\` (see test/soak/README.md). Raw samples: [${basename(S.outCsv)}](${basename(S.outCsv)}).`,
    '',
  );
  if (S.fatal) out.push('**The run failed:**', '', '```', S.fatal, '```', '');
  if (S.interrupted) out.push('**Interrupted by a signal: the load stopped early.**', '');
  if (S.rssLimitHit)
    out.push(
      `**The load was stopped early, at t=${S.rssLimitHit.t_s} s: the server's RSS reached ${fmt(S.rssLimitHit.rssMiB, 0)} MiB, over --rss-limit.**`,
      '',
    );

  try {
    // Summary
    out.push('## Summary', '');
    const ackedTotal = S.totals.acked;
    out.push(
      `- Offered: ${S.totals.dispatched} uploads (target ${fmt(target)} profiles/s); acknowledged ${ackedTotal} = ${fmt(ackedTotal / loadS)} /s over the ${fmt(loadS / 60, 1)} min of load, ${fmt(postWarmRate)} /s after warm-up (${fmt((postWarmRate / target) * 100, 1)}% of the target).`,
    );
    const loadRows = S.samples.filter((r) => r.phase !== 'final');
    const loads = loadRows.map((r) => r.loadavg1).filter(Number.isFinite);
    const driverCpu =
      loadRows.length > 1
        ? (loadRows.at(-1).driver_cpu_s - loadRows[0].driver_cpu_s) / (loadRows.at(-1).t_s - loadRows[0].t_s)
        : Number.NaN;
    out.push(
      `- CPU: the server used ${fmt(serverCpuShare(loadRows), 2)} cores on average (of ${S.machine.cores}), the driver ${fmt(driverCpu, 2)}; the machine's 1-min load average was ${fmt(minOf(loads), 1)}–${fmt(maxOf(loads), 1)} (median ${fmt(median(loads), 1)}; it counts every runnable thread: the server's event loop, decoder and I/O threads, the driver, and anything else running).`,
    );
    if (mem)
      out.push(
        `- Memory after warm-up (${fmt(a.warmupMinutes)} min): RSS median ${fmt(mem.firstMedian, 0)} MiB in the first ${fmt(mem.windowS / 60, 1)} min → ${fmt(mem.lastMedian, 0)} MiB in the last (${mem.growthPct >= 0 ? '+' : ''}${fmt(mem.growthPct, 1)}%), range ${fmt(mem.min, 0)}–${fmt(mem.max, 0)} MiB, trend ${fmt(mem.slopePerMin, 2)} MiB/min; JS heap used ${fmt(mem.heapFirst, 0)} → ${fmt(mem.heapLast, 0)} MiB${mem.restarts ? ` (${mem.restarts} server restart(s) in between)` : ''}. **${mem.flat ? 'Flat' : 'Not flat'}** (criterion: last median ≤ first × 1.10 and last max ≤ first max × 1.15).`,
      );
    out.push(
      `- Errors outside fault windows: **${totalNormalErrors}**${totalNormalErrors ? ` (${[...normalErrors].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}.`,
    );
    for (const v of verifications) {
      if (v.error) out.push(`- Verification ${v.label}: **failed**: ${v.error}`);
      else
        out.push(
          `- Verification ${v.label}: ${v.acked} acknowledged profiles, **lost ${v.lost}**, extra ${v.extraUncertain} (stored, outcome unknown to the client) + **${v.extraUnexplained} unexplained**, foreign series ${v.foreignSeries.length}${v.foreignSeries.length ? ` (**${v.foreignSeries.slice(0, 5).join(', ')}…**)` : ''}.`,
        );
    }
    out.push(`- Server crashes (unexpected exits): **${crashes.length}**.`);
    if (S.faultLog.length)
      out.push(
        `- Faults: ${S.faultLog.map((f) => `${f.phase} recovery ${f.recoveryMs === null || f.recoveryMs === undefined ? 'none' : `${fmt(f.recoveryMs / 1000, 2)} s`}`).join('; ')}.`,
      );
    out.push('');
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Machine and build
    const m = S.machine;
    out.push('## Machine and build', '');
    out.push(
      `- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.memoryGiB} GiB; ${m.platform}; Node ${m.node}; load average at start ${m.loadAverage}`,
    );
    out.push(`- Started ${m.date}; the driver runs on the same machine as the server.`);
    out.push(
      `- Commit \`${S.git.commit}\`; ${S.git.dirty > 0 ? `the tree had ${S.git.dirty} uncommitted changes (other engineers' work in progress), built into apps/*/dist at ${S.distBuiltAt}` : 'clean tree'}.`,
    );
    if (S.git.changed.length)
      out.push(`  Changed files: ${S.git.changed.map((l) => `\`${l.trim()}\``).join(', ')}`);
    out.push(
      `- Server: \`node apps/cli/bin/emberscope.js server --listen 127.0.0.1:PORT --data-dir DIR ${S.serverArgs.join(' ')}\`; data dir on ${S.dataFs}.`,
    );
    out.push(
      `- Server options present: min_free_disk_bytes ${S.serverFeatures.minFreeDisk ? 'yes' : 'no'}, WAL backpressure (max_wal_pending_*) ${S.serverFeatures.walBackpressure ? 'yes' : 'no'}, http_headers_timeout ${S.serverFeatures.headersTimeout ? 'yes' : 'no'} (defaults used).`,
    );
    out.push('');
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Load
    out.push('## Load', '');
    out.push(
      `- ${a.services} services × ${S.kinds.length} profile types (${S.kinds.map((k) => k.name).join(', ')}), one upload per service and type every ${a.intervalS} s, sent ${a.intervalS} s after the start of its window plus a jitter uniform in [0, ${fmt(a.jitter * a.intervalS, 1)} s); the windows of the ${S.tasks.length} (service, type) pairs have random offsets, so uploads are spread over the interval.`,
    );
    out.push(
      `- ${fmt(a.pushShare * 100)}% of services use Connect Push (\`application/proto\`, gzipped pprof), the rest multipart \`/ingest\` as the Go SDK sends it. No retries: a failed upload is counted, not resent.`,
    );
    out.push(
      `- Up to ${a.maxSockets} keep-alive connections; an upload is dropped by the client (\`client_backlog_full\`) when ${a.maxOutstanding} are already in flight; per-upload timeout ${a.timeoutMs / 1000} s.`,
    );
    out.push(
      `- Payloads: bench/gen.mjs services (${a.shapes} call graphs × ${a.variants} consecutive profiles per type, built in ${fmt(S.poolMs / 1000, 1)} s), each service its own partition:`,
      '',
    );
    out.push(
      table(
        ['type', 'profile type IDs', 'samples', 'raw KB', 'gzip KB'],
        S.poolInfo.map((p) => [
          p.kind,
          p.typeIds,
          fmt(p['samples (avg)'], 0),
          fmt(p['raw KB'], 1),
          fmt(p['gzip KB'], 1),
        ]),
      ),
    );
    out.push('');
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Throughput by phase
    out.push('## Throughput, latency and errors by phase', '');
    const phaseRows = phases
      .filter((p) => p.dispatched > 0)
      .map((p) => {
        const errs = [...p.byStatus].filter(([k]) => !/^2\d\d$/.test(k));
        const durS = ((p.endedAt ?? performance.now()) - p.startedAt) / 1000;
        return [
          p.name,
          fmt(durS, 0),
          p.dispatched,
          p.acked,
          fmt(p.acked / durS, 0),
          fmt(quantile(p.latencies, 0.5), 0),
          fmt(quantile(p.latencies, 0.99), 0),
          fmt(p.latencies.length ? maxOf(p.latencies) : Number.NaN, 0),
          fmt(quantile(p.lags, 0.99), 0),
          errs.length ? errs.map(([k, n]) => `${k}: ${n}`).join(', ') : '0',
        ];
      });
    out.push(
      table(
        [
          'phase',
          's',
          'uploads',
          'acked',
          'acked/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'send lag p99 ms',
          'errors',
        ],
        phaseRows,
      ),
      '',
    );
    const firstErrors = phases.flatMap((p) =>
      [...p.firstError].map(([k, msg]) => [p.name, k, String(msg).slice(0, 240)]),
    );
    if (firstErrors.length)
      out.push(
        'First error body per phase and status:',
        '',
        table(['phase', 'status', 'body'], firstErrors),
        '',
      );
    if (S.errorLog.length) {
      out.push(
        'Errors outside fault phases (the first 40 of each status): time since load start (seconds since the server was last (re)started, latency):',
        '',
      );
      const groups = new Map();
      for (const e of S.errorLog) {
        const k = `${e.phase} ${e.key}`;
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k).push(`${fmt(e.t, 1)}s (+${fmt(e.sinceServerReadyS, 1)}s, ${fmt(e.latencyMs, 0)} ms)`);
      }
      for (const [k, list] of groups)
        out.push(
          `- ${k}: ${list.slice(0, 12).join(', ')}${list.length > 12 ? `, … (${list.length} listed)` : ''}`,
        );
      out.push('');
    }
    out.push(
      '"send lag" is how late the driver sent uploads after their due time (driver saturation, not server latency).',
      '',
    );
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Memory
    out.push('## Memory and storage over time', '');
    const s0 = S.samples[0];
    const fmtRow = (label, r) =>
      r
        ? `${label} (t=${r.t_s} s): RSS ${fmt(r.rss_mib, 0)} MiB, heap used ${fmt(r.heap_used_mib, 0)} MiB, head ${fmt(r.head_mib, 0)} MiB, WAL ${fmt(r.wal_mib, 0)} MiB, ${fmt(r.blocks)} blocks`
        : `${label}: -`;
    out.push(`- ${fmtRow('Start, before load', s0)}`);
    out.push(`- ${fmtRow('After warm-up', S.warmupSample)}`);
    out.push(`- ${fmtRow('End of load', S.endSample)}`);
    const hwm = maxOf(S.samples.map((r) => r.hwm_mib));
    out.push(`- Peak RSS (VmHWM of the process): ${fmt(hwm, 0)} MiB`);
    if (S.finalRestarts?.length)
      out.push(
        `- Final restarts: ${S.finalRestarts.map((f) => `${f.signal}: stop ${fmt(f.stopMs, 0)} ms, start→ready ${fmt(f.restartMs, 0)} ms, RSS ${fmt(f.rssBeforeMiB, 0)} → ${fmt(f.rssAfterMiB, 0)} MiB`).join('; ')}`,
      );
    if (S.metricsTried)
      out.push(
        `- /metrics answered within 5 s for ${S.metricsOk ?? 0} of ${S.metricsTried} samples taken while the server ran${(S.metricsOk ?? 0) < S.metricsTried ? ' (blank cells: it did not; RSS always comes from /proc)' : ''}.`,
      );
    out.push(
      '',
      `Per minute (RSS from /proc/PID/status VmRSS; the rest from /metrics; sampled every ${a.sampleEveryMs / 1000} s):`,
      '',
    );
    out.push(perMinute(S), '');
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Verification
    out.push('## Verification: every acknowledged profile readable', '');
    out.push(
      `Each (service, type) upload k has its window start at t0 + k·${a.intervalS} s + a fixed offset, so \`SelectSeries\` (step ${a.intervalS} s, group by service_name, sum) returns each upload alone in one point. Every point of every profile type ID is compared with the ledger: expected = the payload's value total if acknowledged, else 0. Lost = acknowledged uploads whose point is short; extra = points above the ledger (an upload that was not acknowledged but stored: "outcome unknown" means the connection broke or a 5xx came after the request was sent, which the server may legitimately have stored; "unexplained" means the server refused it (4xx, connection refused) yet stored it, or stored something never sent).`,
      '',
    );
    out.push(
      table(
        [
          'check',
          'acknowledged',
          'lost',
          'extra (outcome unknown)',
          'extra (unexplained)',
          'uploads with unknown outcome',
          'foreign series',
          'query time s',
        ],
        verifications.map((v) =>
          v.error
            ? [v.label, 'error', v.error, '', '', '', '', '']
            : [
                v.label,
                v.acked,
                v.lost,
                v.extraUncertain,
                v.extraUnexplained,
                v.uncertainUploads,
                v.foreignSeries.length,
                fmt(v.queryMs / 1000, 1),
              ],
        ),
      ),
      '',
    );
    for (const v of verifications) {
      if (v.lostExamples?.length)
        out.push(
          `Lost examples (${v.label}):`,
          '',
          '```',
          ...v.lostExamples.map((e) => JSON.stringify(e)),
          '```',
          '',
        );
      if (v.extraExamples?.length)
        out.push(
          `Unexplained extra examples (${v.label}):`,
          '',
          '```',
          ...v.extraExamples.map((e) => JSON.stringify(e)),
          '```',
          '',
        );
      if (v.foreignSeries?.length)
        out.push(`Foreign series (${v.label}): ${v.foreignSeries.slice(0, 20).join(', ')}`, '');
    }
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    // Faults
    if (a.faults.length || S.notes.length) {
      out.push('## Faults', '');
      if (S.faultLog.length) {
        out.push(
          table(
            [
              'fault',
              'at s',
              'took s',
              'recovery s',
              'errors (normal clients) during the fault',
              'key numbers',
            ],
            S.faultLog.map((f) => {
              const p = S.phases.get(f.phase);
              const errs = p ? [...p.byStatus].filter(([k]) => !/^2\d\d$/.test(k)) : [];
              const key = keyNumbers(f);
              return [
                f.phase,
                fmt(f.atS, 0),
                fmt(f.durationS, 0),
                f.recoveryMs === null || f.recoveryMs === undefined ? 'none' : fmt(f.recoveryMs / 1000, 2),
                errs.length ? errs.map(([k, n]) => `${k}: ${n}`).join(', ') : '0',
                key,
              ];
            }),
          ),
          '',
        );
        out.push(
          'Recovery: kill = SIGKILL → first acknowledged upload (the server restarted at once on the same data dir); disk-full = ballast removed → first acknowledged upload; slow-disk = fsync fast again → uploads sent since then acked with p99 ≤ max(2 × pre-fault p99, pre-fault p99 + 50 ms); disconnect = no outage expected (0).',
          '',
        );
        out.push('Details:', '');
        for (const f of S.faultLog)
          out.push(
            `- **${f.phase}**: ${f.action ?? ''}`,
            '',
            '  ```json',
            `  ${JSON.stringify(stripAction(f))}`,
            '  ```',
          );
        out.push('');
      }
      for (const n of S.notes) out.push(`- ${n}`);
      out.push('');
    }
    if (crashes.length) {
      out.push('## Server crashes', '');
      for (const c of crashes)
        out.push(
          `- at ${fmt(c.atS, 0)} s in ${c.phase}: code ${c.code}, signal ${c.signal}, restart ${fmt(c.restartMs, 0)} ms`,
          '',
          '```',
          c.logTail,
          '```',
          '',
        );
    }
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  try {
    out.push('## Server log', '', `Messages by count (level warn and above, plus the driver's markers):`, '');
    out.push(
      table(
        ['count', 'message'],
        (S.logSummary ?? []).map(([k, n]) => [n, k.slice(0, 200)]),
      ),
      '',
    );
    out.push(
      '## Command',
      '',
      '```',
      `node ${relative(S.repo, process.argv[1])} ${process.argv.slice(2).join(' ')}`,
      '```',
      '',
    );
  } catch (err) {
    out.push(`(this section failed: ${err.stack})`, '');
  }
  return out.join('\n');
}

function stripAction(f) {
  const { action, fault, n, ...rest } = f;
  return rest;
}

function keyNumbers(f) {
  switch (f.fault) {
    case 'kill':
      return `ready ${fmt(f.readyMs / 1000, 2)} s (start→ready ${fmt(f.startToReadyMs / 1000, 2)} s), first ack ${fmt(f.firstAckMs / 1000, 2)} s; ${f.inFlightAtKill} in flight at the kill; WAL ${fmt(f.walMiBBefore, 0)} MiB, head ${fmt(f.headProfilesBefore)} profiles before`;
    case 'disk-full':
      return `acks while full ${f.acksWhileFull}; reads while full ${JSON.stringify(f.readsWhileFull)}; /ready ${JSON.stringify(f.readyWhileFull)}; ${f.recoveredWithoutRestart ? 'recovered without restart' : 'needed a restart'}`;
    case 'slow-disk':
      return `${f.syncCalls} syncs (${f.syncsPerS}/s); p50/p99 ${f.baselineP50Ms}/${f.baselineP99Ms} ms → ${f.p50MsDuring}/${f.p99MsDuring} ms (max ${f.maxMsDuring}); acks/s ${f.baselineAcksPerS} → ${f.acksPerSDuring}; max in flight ${f.maxOutstanding}`;
    case 'disconnect':
      return `${f.stalledClients} stalled (${f.closedByServer} closed by the server, median after ${fmt(f.closedByServerAfterS)} s; answers ${JSON.stringify(f.answersToStalled)}), ${f.halfBodies} cut uploads; p99 ${f.baselineP99Ms} → ${f.p99MsDuring} ms; RSS ${f.rssMiBBefore} → max ${f.maxRssMiBDuring} → ${f.rssMiBAfter} MiB`;
    default:
      return '';
  }
}
