import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  loadConfig,
  type RunningServer,
  type ServerConfig,
  startServer,
} from '../src/index.js';

export { cpuProfile } from '../../../test/support/profiles.js';

/** Starts an in-process server on a free loopback port with a fresh data directory. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, dataDir?: string) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'emberscope-test-'));
  const config = { ...loadConfig([], {}), listen: '127.0.0.1:0', data_dir: dir, ...overrides };
  const server: RunningServer = await startServer(config, createLogger('silent'));
  return {
    server,
    url: server.url,
    dataDir: dir,
    async stop(keepData = false) {
      await server.close();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function connectJson(
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}/querier.v1.QuerierService/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test helper returning protojson
  return { status: res.status, body: (await res.json()) as any };
}

/** Total of the merged flame graph for a profile type over the last day. */
export async function mergedTotal(url: string, profileTypeID: string, labelSelector = '{}', headers = {}) {
  const now = Date.now();
  const { status, body } = await connectJson(
    url,
    'SelectMergeStacktraces',
    { profileTypeID, labelSelector, start: now - 86_400_000, end: now + 3_600_000 },
    headers,
  );
  if (status !== 200) throw new Error(`SelectMergeStacktraces: ${status} ${JSON.stringify(body)}`);
  return Number(body.flamegraph?.total ?? 0);
}

export const cpuType = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
