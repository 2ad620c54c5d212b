/**
 * Runs the real, published Pyroscope clients kept in testdata/clients/ (Go, Python, Node) as child processes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLIENTS_DIR = path.join(REPO_ROOT, 'testdata', 'clients');
export const GO_CLIENT_DIR = path.join(CLIENTS_DIR, 'go');
export const GO_CLIENT_BIN = path.join(GO_CLIENT_DIR, 'bin', 'goclient');
export const PYTHON_CLIENT_DIR = path.join(CLIENTS_DIR, 'python');
export const PYTHON_VENV_PYTHON = path.join(PYTHON_CLIENT_DIR, '.venv', 'bin', 'python');
export const NODE_CLIENT = path.join(CLIENTS_DIR, 'node', 'client.mjs');

export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON summary line the client prints on a clean exit, if any. */
  summary?: Record<string, unknown>;
}

export interface ClientOptions {
  serverAddress: string;
  appName: string;
  runSeconds: number;
  /** Upload interval in ms (Go UploadRate, Node flushIntervalMs; Python rounds up to whole seconds). */
  uploadMs: number;
  hostname?: string;
  timeoutMs?: number;
  /** An API key: Basic auth password for the Go and Python SDKs, Bearer authToken for Node. */
  apiKey?: string;
  /** Sent as X-Scope-OrgID. */
  tenantId?: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n[harness] timeout after ${opts.timeoutMs} ms, killing ${cmd}\n`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let summary: Record<string, unknown> | undefined;
      const last = stdout.trim().split('\n').pop();
      if (last?.startsWith('{')) {
        try {
          summary = JSON.parse(last) as Record<string, unknown>;
        } catch {
          summary = undefined;
        }
      }
      resolve({ code, signal, stdout, stderr, summary });
    });
  });
}

function clientEnv(o: ClientOptions): NodeJS.ProcessEnv {
  return {
    SERVER_ADDRESS: o.serverAddress,
    APP_NAME: o.appName,
    RUN_SECONDS: String(o.runSeconds),
    HOSTNAME_TAG: o.hostname ?? 'e2e-host',
    ...(o.apiKey && { BASIC_AUTH_USER: 'emberscope', BASIC_AUTH_PASSWORD: o.apiKey, AUTH_TOKEN: o.apiKey }),
    ...(o.tenantId && { TENANT_ID: o.tenantId }),
  };
}

/** Builds the Go client into testdata/clients/go/bin (fast when Go's build cache is warm). */
export async function buildGoClient(): Promise<void> {
  const res = await run('go', ['build', '-buildvcs=false', '-o', GO_CLIENT_BIN, '.'], {
    cwd: GO_CLIENT_DIR,
    timeoutMs: 300_000,
  });
  if (res.code !== 0) throw new Error(`go build failed (${res.code}):\n${res.stderr}`);
}

export async function runGoClient(o: ClientOptions): Promise<ClientRun> {
  if (!existsSync(GO_CLIENT_BIN)) await buildGoClient();
  return run(GO_CLIENT_BIN, [], {
    cwd: GO_CLIENT_DIR,
    env: { ...clientEnv(o), UPLOAD_RATE_MS: String(o.uploadMs) },
    timeoutMs: o.timeoutMs ?? o.runSeconds * 1000 + 60_000,
  });
}

export function pythonClientAvailable(): boolean {
  return existsSync(PYTHON_VENV_PYTHON);
}

export async function runPythonClient(o: ClientOptions): Promise<ClientRun> {
  if (!pythonClientAvailable()) {
    throw new Error(`${PYTHON_VENV_PYTHON} is missing: run testdata/clients/python/setup.sh`);
  }
  return run(PYTHON_VENV_PYTHON, [path.join(PYTHON_CLIENT_DIR, 'client.py')], {
    cwd: PYTHON_CLIENT_DIR,
    env: { ...clientEnv(o), UPLOAD_INTERVAL: String(Math.max(1, Math.ceil(o.uploadMs / 1000))) },
    timeoutMs: o.timeoutMs ?? o.runSeconds * 1000 + 60_000,
  });
}

export async function runNodeClient(o: ClientOptions): Promise<ClientRun> {
  return run(process.execPath, [NODE_CLIENT], {
    cwd: REPO_ROOT,
    env: { ...clientEnv(o), FLUSH_INTERVAL_MS: String(o.uploadMs), DEBUG: 'pyroscope' },
    timeoutMs: o.timeoutMs ?? o.runSeconds * 1000 + 60_000,
  });
}
