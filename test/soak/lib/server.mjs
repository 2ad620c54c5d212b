// The server under test as a child process: start, wait for /ready, kill, restart on the same data
// dir, read its RSS from /proc and its /metrics.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux x86). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A free TCP port on 127.0.0.1, never 4045. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer()
        .once('error', reject)
        .listen(0, '127.0.0.1', () => {
          const p = s.address().port;
          s.close(() => resolve(p));
        });
    });
    if (port !== 4045) return port;
  }
}

/** A GET or POST outside the load's connection pool (own socket, no keep-alive). */
export function request(url, { method = 'GET', body, headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((done) => {
    let timer;
    const resolve = (r) => {
      clearTimeout(timer);
      done(r);
    };
    const started = performance.now();
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
      res.on('error', (err) => resolve({ status: 0, error: err.code ?? err.message, ms: 0 }));
    });
    // A hard deadline: a socket timeout would only start once connected, and an overloaded server
    // with a full accept queue leaves the connect pending.
    timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
      timeoutMs,
    );
    req.on('error', (err) =>
      resolve({ status: 0, error: err.code ?? err.message, ms: performance.now() - started }),
    );
    req.end(body);
  });
}

/** Prometheus text → name → value; series of one name with labels are summed. */
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

export class ServerProcess {
  /**
   * @param {object} o
   * @param {string} o.repo        repository root (cwd of the server)
   * @param {number} o.port
   * @param {string} o.dataDir
   * @param {string[]} o.args      extra `emberscope server` flags
   * @param {string} o.logFile     server stdout/stderr are appended here
   * @param {Record<string,string>} [o.env]  extra environment (LD_PRELOAD for the slow-disk shim)
   * @param {(info: object) => void} [o.onUnexpectedExit]
   */
  constructor(o) {
    Object.assign(this, o);
    this.url = `http://127.0.0.1:${o.port}`;
    this.child = undefined;
    this.expectingExit = false;
    this.starts = 0;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  log(line) {
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `--- soak driver ${new Date().toISOString()}: ${line}\n`);
    closeSync(fd);
  }

  /** Spawns the server; resolves with {spawnedAt, readyAt} (performance.now() ms) once /ready answers 200. */
  async start({ readyTimeoutMs = 1_800_000 } = {}) {
    if (this.running) throw new Error('server already running');
    this.starts++;
    this.log(`start #${this.starts}`);
    const fd = openSync(this.logFile, 'a');
    const spawnedAt = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...(this.nodeArgs ?? []),
        'apps/cli/bin/emberscope.js',
        'server',
        '--listen',
        `127.0.0.1:${this.port}`,
        '--data-dir',
        this.dataDir,
        ...this.args,
      ],
      { cwd: this.repo, stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env } },
    );
    closeSync(fd);
    this.child = child;
    this.expectingExit = false;
    child.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectingExit && this.child === child)
          this.onUnexpectedExit?.({ code, signal, pid: child.pid, at: performance.now() });
        resolve({ code, signal });
      }),
    );
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`server exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
      const res = await request(`${this.url}/ready`, { timeoutMs: 1000 });
      if (res.status === 200) {
        this.readyAt = performance.now();
        return { spawnedAt, readyAt: this.readyAt };
      }
      if (performance.now() - spawnedAt > readyTimeoutMs) throw new Error('server did not become ready');
      await sleep(25);
    }
  }

  /** Sends `signal` and waits for the exit; SIGTERM falls back to SIGKILL after `timeoutMs`. */
  async stop(signal = 'SIGTERM', timeoutMs = 120_000) {
    const child = this.child;
    if (!child || !this.running) return { code: child?.exitCode, signal: child?.signalCode };
    this.expectingExit = true;
    this.log(`sending ${signal}`);
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await child.exited;
    clearTimeout(timer);
    return result;
  }

  /** Synchronous last-resort kill (process exit handlers). */
  killNow() {
    if (this.running) {
      this.expectingExit = true;
      try {
        this.child.kill('SIGKILL');
      } catch {}
    }
  }

  /** VmRSS and VmHWM of the server process in bytes, from /proc/PID/status; undefined when not running. */
  memory() {
    if (!this.running) return undefined;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      const rss = kb('VmRSS') * 1024;
      if (!Number.isFinite(rss)) return undefined; // a zombie has no VmRSS
      // utime + stime (fields 14 and 15 of /proc/PID/stat, after the parenthesised command name)
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      return { rss, hwm: kb('VmHWM') * 1024, cpuSeconds };
    } catch {
      return undefined;
    }
  }

  async metrics(timeoutMs = 5000) {
    if (!this.running) return undefined;
    const res = await request(`${this.url}/metrics`, { timeoutMs });
    return res.status === 200 ? parseMetrics(res.body.toString('utf8')) : undefined;
  }
}
