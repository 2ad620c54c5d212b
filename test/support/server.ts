/**
 * Starts the real Emberscope server process (`node apps/cli/bin/emberscope.js server ...`) for end-to-end
 * tests, on a free 127.0.0.1 port, and waits until `GET /ready` answers 200 `ready`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_BIN = path.join(REPO_ROOT, 'apps', 'cli', 'bin', 'emberscope.js');
/** Server logs are kept here (one file per server start) so failures can be debugged after the run. */
export const LOG_DIR = process.env.EMBERSCOPE_E2E_LOG_DIR ?? path.join(os.tmpdir(), 'emberscope-e2e-logs');

export interface StartServerOptions {
  /** Data directory; a fresh temporary one (removed by stop()/kill()) when omitted. */
  dataDir?: string;
  /** Extra environment variables for the server process. */
  env?: NodeJS.ProcessEnv;
  /** Extra command-line arguments after `server --listen ... --data-dir ...`. */
  args?: string[];
  /** How long to wait for `/ready` (default 30 s). */
  readyTimeoutMs?: number;
  /** A name for the log file. */
  name?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  proc: ChildProcess;
  /** Sends `signal` (default SIGTERM), waits for the exit (SIGKILL after 10 s); resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, wait for the exit. */
  kill(): Promise<void>;
  /** The last `n` characters of the server log. */
  logTail(n?: number): string;
}

export function serverAvailable(): boolean {
  return existsSync(CLI_BIN);
}

function waitExit(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

async function waitReady(url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited before it was ready (code ${proc.exitCode}, signal ${proc.signalCode})`);
    }
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200 && body.trim() === 'ready') return;
      last = `${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after ${timeoutMs} ms (last answer: ${last})`);
}

/** Spawns the server and waits for `/ready`. Retries on a new port if the port was taken meanwhile. */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  if (!serverAvailable()) throw new Error(`${CLI_BIN} does not exist (the server CLI is not built yet)`);
  mkdirSync(LOG_DIR, { recursive: true });
  const ownDataDir = opts.dataDir === undefined;
  let lastErr: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-data-'));
    const logFile = path.join(LOG_DIR, `${opts.name ?? 'server'}-${Date.now()}-${port}.log`);
    const log = createWriteStream(logFile);
    const args = [
      CLI_BIN,
      'server',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      ...(opts.args ?? []),
    ];
    log.write(`# ${process.execPath} ${args.join(' ')}\n`);
    const proc = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    // 'close', not 'exit': the last lines (e.g. "stopped") may still be in the pipes when the process exits.
    const logged = new Promise<void>((resolve) =>
      proc.once('close', (code, signal) => log.end(`# exited code=${code} signal=${signal}\n`, resolve)),
    );
    const url = `http://127.0.0.1:${port}`;
    const logTail = (n = 4000) => {
      try {
        const s = readFileSync(logFile, 'utf8');
        return s.slice(-n);
      } catch {
        return '';
      }
    };
    const cleanup = () => {
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    };
    try {
      await waitReady(url, proc, opts.readyTimeoutMs ?? 30_000);
    } catch (err) {
      proc.kill('SIGKILL');
      await waitExit(proc);
      cleanup();
      await new Promise((r) => setTimeout(r, 50));
      lastErr = new Error(`${(err as Error).message}\n--- server log ${logFile} ---\n${logTail()}`);
      if (/EADDRINUSE/.test(logTail())) continue; // lost a port race: try another port
      throw lastErr;
    }
    return {
      url,
      port,
      dataDir,
      logFile,
      proc,
      logTail,
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        const code = await waitExit(proc);
        clearTimeout(timer);
        await logged;
        cleanup();
        return code;
      },
      async kill() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        await waitExit(proc);
        await logged;
        cleanup();
      },
    };
  }
  throw lastErr ?? new Error('could not start the server');
}
