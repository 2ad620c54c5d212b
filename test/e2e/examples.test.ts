/**
 * The runnable examples end to end: the server, the example service built from examples/, load from
 * examples/load.mjs, then `emberscope top` on the CPU profile must show the heavy handler and the JSON
 * encoding among the top functions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/clients.js';
import { freePort } from '../support/ports.js';
import { CLI_BIN, REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const EXAMPLES = path.join(REPO_ROOT, 'examples');
const LOAD = path.join(EXAMPLES, 'load.mjs');

let server: RunningServer;
let dir: string;

/** Builds an example Go service into the test directory (slow only with a cold Go build cache). */
async function goBuild(example: string): Promise<string> {
  const bin = path.join(dir, example);
  const build = await run('go', ['build', '-o', bin, '.'], {
    cwd: path.join(EXAMPLES, example),
    timeoutMs: 300_000,
  });
  if (build.code !== 0) throw new Error(`go build in examples/${example} failed:\n${build.stderr}`);
  return bin;
}

const builds: Record<string, Promise<string>> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-examples-'));
  // Built here, in parallel, under the longer hook timeout; each test then waits for its own binary.
  for (const example of ['go-push', 'go-pull']) {
    builds[example] = goBuild(example);
    builds[example].catch(() => {}); // reported by the test that uses it
  }
  server = await startServer({ name: 'examples' });
  await Promise.allSettled(Object.values(builds));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Service {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function startService(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Service {
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => output,
    // SIGTERM: the services stop their profiler, which sends the last profiles.
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitHealthy(url: string, service: Service): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (service.proc.exitCode !== null) throw new Error(`the service exited:\n${service.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer:\n${service.output()}`);
}

/** Load with examples/load.mjs for a few seconds; returns its summary. */
async function load(url: string, seconds: number): Promise<string> {
  const res = await run(process.execPath, [LOAD, url, '-c', '20', '-n', '1000000', '-t', String(seconds)], {
    timeoutMs: (seconds + 30) * 1000,
  });
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toMatch(/Failed requests:\s+0\n/);
  return res.stdout;
}

interface TopJson {
  total: number;
  functions: { name: string; self: number; total: number }[];
}

/** `emberscope top --output json`, retried until the profiles have arrived. */
async function top(
  query: string,
  accept: (t: TopJson) => boolean,
  url = server.url,
): Promise<{ json: TopJson; text: string }> {
  const args = [
    'top',
    '--url',
    url,
    '--query',
    query,
    '--from',
    'now-5m',
    '--sort',
    'total',
    '--limit',
    '30',
  ];
  const deadline = Date.now() + 20_000;
  let last = '';
  for (;;) {
    const res = await run(process.execPath, [CLI_BIN, ...args, '--output', 'json'], {
      cwd: REPO_ROOT,
      timeoutMs: 30_000,
    });
    if (res.code === 0) {
      const json = JSON.parse(res.stdout) as TopJson;
      if (accept(json) || Date.now() > deadline) {
        const text = await run(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, timeoutMs: 30_000 });
        expect(text.code, text.stderr).toBe(0);
        return { json, text: text.stdout };
      }
    }
    last = `${res.code} ${res.stderr}`;
    if (Date.now() > deadline) throw new Error(`emberscope top never found data: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const names = (t: TopJson) => t.functions.map((f) => f.name);

describe('examples/go-push', () => {
  it('under load, top shows the heavy handler and encoding/json; all Go profile types and the hostname tag arrive', async () => {
    const bin = await builds['go-push'];
    const port = await freePort();
    const service = startService(
      bin,
      [],
      {
        PYROSCOPE_SERVER_ADDRESS: server.url,
        PYROSCOPE_APPLICATION_NAME: 'go-push-e2e',
        PYROSCOPE_UPLOAD_RATE: '2s',
        LISTEN: `127.0.0.1:${port}`,
      },
      dir,
    );
    try {
      await waitHealthy(`http://127.0.0.1:${port}/api/health`, service);
      await load(`http://127.0.0.1:${port}/api/orders?n=300`, 6);
    } finally {
      await service.stop();
    }
    const isHot = (t: TopJson) =>
      names(t).includes('main.handleOrders') && names(t).some((n) => n.startsWith('encoding/json.'));
    const { json, text } = await top('cpu{service_name="go-push-e2e"}', isHot);
    expect(names(json)).toContain('main.handleOrders');
    expect(names(json)).toContain('encoding/json.Marshal');
    expect(text).toMatch(/main\.handleOrders$/m);
    expect(text).toMatch(/encoding\/json\.Marshal$/m);
    // The handler does most of the work of the process.
    const handler = json.functions.find((f) => f.name === 'main.handleOrders');
    expect(handler!.total / json.total).toBeGreaterThan(0.5);

    const types = await run(
      process.execPath,
      [
        CLI_BIN,
        'query',
        'profile-types',
        '--url',
        server.url,
        '--from',
        'now-5m',
        '--selector',
        '{service_name="go-push-e2e"}',
      ],
      { cwd: REPO_ROOT },
    );
    expect(types.stdout.trim().split('\n')).toEqual(
      expect.arrayContaining([
        'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
        'memory:alloc_objects:count:space:bytes',
        'memory:alloc_space:bytes:space:bytes',
        'memory:inuse_objects:count:space:bytes',
        'memory:inuse_space:bytes:space:bytes',
        'goroutine:goroutine:count:goroutine:count',
        'mutex:contentions:count:contentions:count',
        'mutex:delay:nanoseconds:contentions:count',
        'block:contentions:count:contentions:count',
        'block:delay:nanoseconds:contentions:count',
      ]),
    );
    const hosts = await run(
      process.execPath,
      [
        CLI_BIN,
        'query',
        'label-values',
        'hostname',
        '--url',
        server.url,
        '--from',
        'now-5m',
        '--selector',
        '{service_name="go-push-e2e"}',
      ],
      { cwd: REPO_ROOT },
    );
    expect(hosts.stdout.trim()).toBe(os.hostname());
  });
});

describe('examples/node-push', () => {
  it('under load, top shows the heavy handler and the JSON encoding', async () => {
    const port = await freePort();
    const service = startService(
      process.execPath,
      [path.join(EXAMPLES, 'node-push', 'server.mjs')],
      {
        PYROSCOPE_SERVER_ADDRESS: server.url,
        PYROSCOPE_APPLICATION_NAME: 'node-push-e2e',
        PYROSCOPE_FLUSH_INTERVAL_MS: '2000',
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      path.join(EXAMPLES, 'node-push'),
    );
    try {
      await waitHealthy(`http://127.0.0.1:${port}/api/health`, service);
      await load(`http://127.0.0.1:${port}/api/orders?n=300`, 5);
    } finally {
      await service.stop();
    }
    const has = (t: TopJson, fn: string) => names(t).some((n) => n.includes(`:${fn}:`));
    const { json, text } = await top(
      'cpu{service_name="node-push-e2e"}',
      (t) => has(t, 'handleOrders') && has(t, 'encodeJson'),
    );
    expect(has(json, 'handleOrders'), names(json).join('\n')).toBe(true);
    expect(has(json, 'encodeJson'), names(json).join('\n')).toBe(true);
    expect(text).toMatch(/server\.mjs:handleOrders:\d+$/m);
  });
});

describe('examples/go-pull', () => {
  it('the server scrapes net/http/pprof with the example config; top shows the handler and encoding/json', async () => {
    const bin = await builds['go-pull'];
    const [apiPort, pprofPort] = [await freePort(), await freePort()];
    // The example's config, with a short interval and this test's target (listen/data_dir come as flags).
    const config = readFileSync(path.join(EXAMPLES, 'go-pull', 'emberscope.yaml'), 'utf8')
      .replace(/scrape_interval: \S+/, 'scrape_interval: 3s')
      .replace(/scrape_timeout: \S+/, 'scrape_timeout: 3s')
      .replace(/(["'])127\.0\.0\.1:6060\1/, `'127.0.0.1:${pprofPort}'`);
    expect(config).toContain(`127.0.0.1:${pprofPort}`);
    const configFile = path.join(dir, 'emberscope.yaml');
    writeFileSync(configFile, config);
    const pullServer = await startServer({ name: 'examples-pull', args: ['--config', configFile] });
    const service = startService(
      bin,
      [],
      { LISTEN: `127.0.0.1:${apiPort}`, PPROF_LISTEN: `127.0.0.1:${pprofPort}` },
      dir,
    );
    try {
      await waitHealthy(`http://127.0.0.1:${apiPort}/api/health`, service);
      await load(`http://127.0.0.1:${apiPort}/api/orders?n=300`, 8);
      const isHot = (t: TopJson) =>
        names(t).includes('main.handleOrders') && names(t).some((n) => n.startsWith('encoding/json.'));
      const { json } = await top('cpu{service_name="go-pull-example"}', isHot, pullServer.url);
      expect(names(json)).toContain('main.handleOrders');
      expect(names(json)).toContain('encoding/json.Marshal');
    } finally {
      await service.stop();
      await pullServer.stop();
    }
  });
});
