#!/usr/bin/env node
// A small HTTP load generator, an equivalent of ApacheBench for the examples:
//
//   node examples/load.mjs URL [-c CONCURRENCY] [-n REQUESTS] [-t SECONDS]
//
// Sends GET requests to URL over keep-alive connections, CONCURRENCY at a time, until REQUESTS have been
// sent or SECONDS have passed (whichever comes first; default -c 10 -n 1000, no time limit), then prints a
// summary: requests, failures, requests per second, latency percentiles. Exits 1 when every request failed.
import http from 'node:http';
import https from 'node:https';

const usage = 'usage: node examples/load.mjs URL [-c CONCURRENCY] [-n REQUESTS] [-t SECONDS]';

function parse(argv) {
  const opts = { url: '', c: 10, n: 1000, t: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    }
    if (a === '-c' || a === '-n' || a === '-t') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) {
        console.error(`${a} needs a positive number\n${usage}`);
        process.exit(2);
      }
      opts[a.slice(1)] = v;
    } else if (!opts.url && !a.startsWith('-')) opts.url = a;
    else {
      console.error(`unexpected argument ${a}\n${usage}`);
      process.exit(2);
    }
  }
  if (!opts.url) {
    console.error(usage);
    process.exit(2);
  }
  return opts;
}

const opts = parse(process.argv.slice(2));
const url = new URL(opts.url);
const lib = url.protocol === 'https:' ? https : http;
const agent = new lib.Agent({ keepAlive: true, maxSockets: opts.c });
const deadline = opts.t > 0 ? Date.now() + opts.t * 1000 : Number.POSITIVE_INFINITY;

let sent = 0;
let failed = 0;
let bytes = 0;
const latencies = [];
const statuses = new Map();

function once() {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = lib.get(url, { agent }, (res) => {
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      res.on('data', (chunk) => {
        bytes += chunk.length;
      });
      res.on('end', () => {
        if (res.statusCode >= 400) failed++;
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
  });
}

async function worker() {
  while (sent < opts.n && Date.now() < deadline) {
    sent++;
    await once();
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: opts.c }, worker));
const seconds = (Date.now() - started) / 1000;
agent.destroy();

latencies.sort((a, b) => a - b);
const p = (q) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0;
console.log(`URL:                 ${url}`);
console.log(`Concurrency:         ${opts.c}`);
console.log(`Requests:            ${sent} in ${seconds.toFixed(2)} s`);
console.log(`Failed requests:     ${failed}`);
console.log(`Status codes:        ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ') || '-'}`);
console.log(`Requests per second: ${(sent / seconds).toFixed(1)}`);
console.log(`Transferred:         ${(bytes / 1e6).toFixed(1)} MB`);
console.log(
  `Latency (ms):        p50 ${p(0.5).toFixed(1)}, p90 ${p(0.9).toFixed(1)}, p99 ${p(0.99).toFixed(1)}, max ${(latencies.at(-1) ?? 0).toFixed(1)}`,
);
process.exitCode = sent > 0 && failed === sent ? 1 : 0;
