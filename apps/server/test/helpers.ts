import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Line, Location, Function as PFunction, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { loadConfig, type RunningServer, type ServerConfig, startServer } from '../src/index.js';
import { createLogger } from '../src/server.js';

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

/** A CPU profile built with pprof-format (independent of our codec) from folded-style stacks (root first). */
export function cpuProfile(
  stacks: Record<string, number>,
  timeNanos = BigInt(Date.now()) * 1_000_000n,
): Buffer {
  const st = new StringTable();
  const fns: PFunction[] = [];
  const locs: Location[] = [];
  const ids = new Map<string, number>();
  const loc = (name: string) => {
    let id = ids.get(name);
    if (id === undefined) {
      id = locs.length + 1;
      ids.set(name, id);
      fns.push(new PFunction({ id, name: st.dedup(name), filename: st.dedup(`${name}.go`) }));
      locs.push(new Location({ id, line: [new Line({ functionId: id, line: 1 })] }));
    }
    return id;
  };
  const samples = Object.entries(stacks).map(
    ([stack, n]) =>
      new Sample({ locationId: stack.split(';').reverse().map(loc), value: [n, n * 10_000_000] }),
  );
  const p = new Profile({
    sampleType: [
      new ValueType({ type: st.dedup('samples'), unit: st.dedup('count') }),
      new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locs,
    function: fns,
    stringTable: st,
    timeNanos,
    durationNanos: 10_000_000_000,
    periodType: new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
    period: 10_000_000,
  });
  return Buffer.from(p.encode());
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
