/**
 * Real-client conformance: the unchanged, published Pyroscope clients (Go `pyroscope-go`, Python
 * `pyroscope-io`, Node `@pyroscope/nodejs`) send to a real Emberscope server process through a recording
 * proxy, and the server's Connect JSON query answers are checked against values computed independently
 * from the recorded bytes (pprof-format + hand-written multipart/protobuf reading; no Emberscope code).
 * The server is the built CLI (`npm test` builds it first).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildGoClient,
  type ClientOptions,
  type ClientRun,
  runGoClient,
  runNodeClient,
  runPythonClient,
} from '../support/clients.js';
import { nodeFixtureReplay } from '../support/fixtures.js';
import {
  decodeUploads,
  expectedLabelValues,
  expectedTotals,
  sampleLabels,
  sampleTypes,
  selfByFunction,
  sumValues,
  type Upload,
} from '../support/payloads.js';
import { pprofTop } from '../support/pprof-tool.js';
import {
  flameGraphSelfByName,
  labelNames,
  labelValues,
  profileTypes,
  selectMergeStacktraces,
  series,
  type TimeRange,
} from '../support/query.js';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from '../support/recorder.js';
import { type RunningServer, startServer } from '../support/server.js';

const RUN_SECONDS = 7;
const UPLOAD_MS = 2000;
const HOSTNAME = 'e2e-host';
const SUITE_START = Date.now();
const suffix = Math.random().toString(36).slice(2, 8);

/** The whole time range of this run (ms), with slack on both sides. */
function wholeRange(): TimeRange {
  return { start: SUITE_START - 10 * 60_000, end: Date.now() + 10 * 60_000 };
}

function describeRequests(reqs: RecordedRequest[]): string {
  return reqs
    .map(
      (r) =>
        `#${r.seq} ${r.method} ${r.url.slice(0, 120)} -> ${r.status} ${r.responseBody.toString().slice(0, 300)}`,
    )
    .join('\n');
}

const bigStr = (m: Map<string, bigint>) => Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ name: 'e2e-clients' });
}, 60_000);

afterAll(async () => {
  console.log(`[e2e clients] server log: ${server.logFile}`);
  await server.stop();
});

interface Capture {
  proxy: RecordingProxy;
  run?: ClientRun;
  uploads: Upload[];
}

async function capture(send: (proxyUrl: string) => Promise<ClientRun | undefined>): Promise<Capture> {
  const proxy = await startRecordingProxy({ target: server.url });
  try {
    const run = await send(proxy.url);
    await proxy.idle();
    return { proxy, run, uploads: decodeUploads(proxy.requests) };
  } finally {
    await proxy.close();
  }
}

/** The server checks every client shares: 2xx, profile types, labels, series, totals. */
function serverConformance(
  get: () => Capture,
  app: string,
  expectedTypes: () => string[],
  requiredLabels: Record<string, string[]>,
) {
  const selector = `{service_name="${app}"}`;

  it('every request the client sent got a 2xx answer', () => {
    const { proxy } = get();
    expect(proxy.requests.length).toBeGreaterThan(0);
    const bad = proxy.requests.filter((r) => r.status < 200 || r.status > 299);
    expect(bad.length, `non-2xx answers:\n${describeRequests(bad)}`).toBe(0);
  });

  it('ProfileTypes lists every profile type the client sent', async () => {
    const got = (await profileTypes(server!.url, wholeRange())).map((t) => t.ID);
    const missing = expectedTypes().filter((id) => !got.includes(id));
    expect(missing, `server answered ${JSON.stringify(got)}`).toEqual([]);
  });

  it('LabelValues(service_name) contains the application name', async () => {
    const got = await labelValues(server!.url, { name: 'service_name', ...wholeRange() });
    expect(got).toContain(app);
  });

  it('the payloads carry the tags and dynamic labels (harness self-check)', () => {
    const expected = expectedLabelValues(get().uploads);
    for (const [k, vs] of Object.entries(requiredLabels)) {
      expect([...(expected.get(k) ?? [])], `payloads lack label ${k}`).toEqual(expect.arrayContaining(vs));
    }
  });

  it('tags and dynamic labels are label names and values (dots -> underscores)', async () => {
    const expected = expectedLabelValues(get().uploads);
    const names = await labelNames(server!.url, { matchers: [selector], ...wholeRange() });
    const missingNames = [...expected.keys()].filter((k) => !names.includes(k));
    const dotted = names.filter((n) => n.includes('.'));
    const missingValues: Record<string, string[]> = {};
    for (const [name, values] of expected) {
      const got = await labelValues(server!.url, { name, matchers: [selector], ...wholeRange() });
      const miss = [...values].filter((v) => !got.includes(v));
      if (miss.length) missingValues[name] = miss;
    }
    expect({ missingNames, dotted, missingValues }, `LabelNames answered ${JSON.stringify(names)}`).toEqual({
      missingNames: [],
      dotted: [],
      missingValues: {},
    });
  });

  it('pprof sample labels become series labels (Series)', async () => {
    const dynamic = new Map<string, Set<string>>();
    for (const up of get().uploads) {
      for (const [k, vs] of sampleLabels(up.profile)) {
        let set = dynamic.get(k);
        if (!set) {
          set = new Set();
          dynamic.set(k, set);
        }
        for (const v of vs) set.add(v);
      }
    }
    expect(dynamic.size, 'the client sent no pprof sample labels').toBeGreaterThan(0);
    const got = await series(server!.url, {
      matchers: [selector],
      labelNames: ['__profile_type__', 'service_name', ...dynamic.keys()],
      ...wholeRange(),
    });
    const missing: string[] = [];
    for (const [k, vs] of dynamic)
      for (const v of vs) if (!got.some((s) => s[k] === v)) missing.push(`${k}=${v}`);
    expect(missing, `Series answered ${JSON.stringify(got).slice(0, 2000)}`).toEqual([]);
  });

  it('SelectMergeStacktraces total over the whole range = sum of the uploaded values, per profile type', async () => {
    const totals = expectedTotals(get().uploads);
    const rows: Array<{ id: string; expected: string; got: string; uploads: string[] }> = [];
    for (const [id, want] of totals) {
      let got: string;
      try {
        const fg = await selectMergeStacktraces(server!.url, {
          profileTypeID: id,
          labelSelector: selector,
          ...wholeRange(),
        });
        got = fg ? fg.total.toString() : 'no flamegraph';
      } catch (err) {
        got = `error: ${(err as Error).message}`;
      }
      if (got !== want.toString())
        rows.push({ id, expected: want.toString(), got, uploads: uploadTotals(get().uploads, id) });
    }
    expect(rows).toEqual([]);
  });
}

/** Each upload's value for one profile type, with its sample counts, to tell which one a mismatch comes from. */
function uploadTotals(uploads: Upload[], id: string): string[] {
  return uploads.flatMap((up) => {
    const i = up.typeIds.indexOf(id);
    if (i < 0) return [];
    const emptyStacks = up.profile.sample.filter((s) => s.locationId.length === 0).length;
    return [
      `#${up.request.seq} ${up.query.get('from') ?? ''}: ${sumValues(up.profile, i)} in ${up.profile.sample.length} samples (${emptyStacks} without locations)`,
    ];
  });
}

function clientOptions(proxyUrl: string, app: string): ClientOptions {
  return {
    serverAddress: proxyUrl,
    appName: app,
    runSeconds: RUN_SECONDS,
    uploadMs: UPLOAD_MS,
    hostname: HOSTNAME,
  };
}

function expectCleanExit(run: ClientRun | undefined) {
  expect(run, 'client did not run').toBeDefined();
  expect(run!.code, `client exit code; stderr:\n${run!.stderr.slice(-3000)}`).toBe(0);
  expect(run!.summary?.ok, `client summary: ${run!.stdout.slice(-500)}`).toBe(true);
}

// -----------------------------------------------------------------------------------------------------------
describe('Go client (github.com/grafana/pyroscope-go)', () => {
  const app = `e2e-go-${suffix}`;
  let cap: Capture;
  // Go's expected IDs, as the reference server names them. pyroscope-go v1.5.0 uploads the goroutine
  // profile with sample_type_config display-name "goroutine" (v1.4.x: "goroutines"); Pyroscope's
  // metricName() only maps display names containing "goroutines", so the v1.5.0 profile is named
  // "goroutine" (the same ID Alloy's scrape gives).
  const GO_TYPES = [
    'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
    'process_cpu:samples:count:cpu:nanoseconds',
    'memory:alloc_objects:count:space:bytes',
    'memory:alloc_space:bytes:space:bytes',
    'memory:inuse_objects:count:space:bytes',
    'memory:inuse_space:bytes:space:bytes',
    'mutex:contentions:count:contentions:count',
    'mutex:delay:nanoseconds:contentions:count',
    'block:contentions:count:contentions:count',
    'block:delay:nanoseconds:contentions:count',
  ];
  const goroutineType = () => {
    const g = cap.uploads.find((u) => u.sampleTypeConfig?.goroutine);
    const dn = g?.sampleTypeConfig?.goroutine?.['display-name'] ?? 'goroutines';
    return `${dn.includes('goroutines') ? 'goroutines' : dn}:goroutine:count:goroutine:count`;
  };

  beforeAll(async () => {
    await buildGoClient();
    cap = await capture((url) => runGoClient(clientOptions(url, app)));
  }, 300_000);

  it('ran and sent all ten Go profile types as multipart /ingest uploads', () => {
    expectCleanExit(cap.run);
    const { proxy, uploads } = cap;
    for (const r of proxy.requests) {
      const u = new URL(r.url, 'http://x');
      expect(`${r.method} ${u.pathname}`).toBe('POST /ingest');
      expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect([...u.searchParams.keys()]).toEqual([
        'aggregationType',
        'from',
        'name',
        'sampleRate',
        'spyName',
        'units',
        'until',
      ]);
      expect(u.searchParams.get('from')).toMatch(/^\d{19}$/); // Unix ns
    }
    expect(new Set(uploads.flatMap((u) => u.typeIds))).toEqual(new Set([...GO_TYPES, goroutineType()]));
    // mutex and block look the same in pprof; only sample_type_config tells them apart
    const names = new Set(uploads.map((u) => `${u.name}:${sampleTypes(u.profile).map((t) => t.type)}`));
    expect(names).toContain('mutex:contentions,delay');
    expect(names).toContain('block:contentions,delay');
  });

  serverConformance(
    () => cap,
    app,
    () => [...GO_TYPES, goroutineType()],
    {
      hostname: [HOSTNAME],
      handler: ['hash'],
      otel_scope_name: ['com.grafana.pyroscope/go', 'com.grafana.pyroscope/godeltaprof'],
    },
  );

  describe('go tool pprof agrees with the flame graph of one CPU upload', () => {
    let dir: string;
    let file: string;
    let upload: Upload;
    beforeAll(() => {
      const cpu = cap.uploads.filter((u) => u.name === 'process_cpu');
      upload = cpu.reduce((a, b) => (b.profile.sample.length > a.profile.sample.length ? b : a));
      dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-pprof-'));
      file = path.join(dir, 'cpu.pb.gz');
      writeFileSync(file, upload.rawPprof);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('go tool pprof -top flat values = leaf sums decoded with pprof-format (harness self-check)', async () => {
      const cpuIndex = sampleTypes(upload.profile).findIndex((t) => t.type === 'cpu');
      const top = await pprofTop(file, 'cpu');
      const flat = new Map(top.filter((r) => r.flat !== 0n).map((r) => [r.name, r.flat]));
      expect(bigStr(flat)).toEqual(bigStr(selfByFunction(upload.profile, cpuIndex)));
    });

    it('per-function self in SelectMergeStacktraces = go tool pprof flat (dedicated server, this upload only)', async () => {
      const top = await pprofTop(file, 'cpu');
      const flat = new Map(top.filter((r) => r.flat !== 0n).map((r) => [r.name, r.flat]));
      const solo = await startServer({ name: 'e2e-pprof' });
      try {
        const req = upload.request;
        const res = await fetch(`${solo.url}${req.url}`, {
          method: 'POST',
          headers: { 'content-type': req.headers['content-type'] as string },
          body: req.body,
        });
        expect(res.status, await res.text()).toBe(200);
        const fg = await selectMergeStacktraces(solo.url, {
          profileTypeID: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
          labelSelector: '{}',
          ...wholeRange(),
        });
        expect(fg, 'no flame graph').toBeDefined();
        expect(bigStr(flameGraphSelfByName(fg!))).toEqual(bigStr(flat));
        expect(fg!.total).toBe([...flat.values()].reduce((a, b) => a + b, 0n));
      } finally {
        await solo.stop();
      }
    });
  });
});

// -----------------------------------------------------------------------------------------------------------
describe('Python client (pyroscope-io)', () => {
  const app = `e2e-python-${suffix}`;
  let cap: Capture;

  beforeAll(async () => {
    cap = await capture((url) => runPythonClient(clientOptions(url, app)));
  }, 180_000);

  it("ran and sent gzip'd connect Push requests with process_cpu profiles", () => {
    expectCleanExit(cap.run);
    for (const r of cap.proxy.requests) {
      expect(`${r.method} ${r.url}`).toBe('POST /push.v1.PusherService/Push');
      expect(r.headers['content-type']).toBe('application/proto');
      expect(r.headers['content-encoding']).toBe('gzip');
    }
    expect(new Set(cap.uploads.flatMap((u) => u.typeIds))).toEqual(
      new Set(['process_cpu:cpu:nanoseconds:cpu:nanoseconds']),
    );
  });

  serverConformance(
    () => cap,
    app,
    () => ['process_cpu:cpu:nanoseconds:cpu:nanoseconds'],
    {
      hostname: [HOSTNAME],
      env: ['e2e'],
      handler: ['fib', 'hash'],
      otel_scope_name: [],
    },
  );
});

// -----------------------------------------------------------------------------------------------------------
const NODE_TYPES = [
  'wall:samples:count:wall:nanoseconds',
  'wall:wall:nanoseconds:wall:nanoseconds',
  'wall:cpu:nanoseconds:wall:nanoseconds',
  'memory:inuse_objects:count:inuse_space:bytes',
  'memory:inuse_space:bytes:inuse_space:bytes',
];

describe('Node client (@pyroscope/nodejs)', () => {
  const app = `e2e-node-${suffix}`;
  let cap: Capture;

  beforeAll(async () => {
    cap = await capture((url) => runNodeClient(clientOptions(url, app)));
  }, 180_000);

  it("ran and sent raw gzip'd pprof to /ingest?format=pprof (wall+cpu and heap)", () => {
    expectCleanExit(cap.run);
    for (const r of cap.proxy.requests) {
      const u = new URL(r.url, 'http://x');
      expect(`${r.method} ${u.pathname}`).toBe('POST /ingest');
      expect(u.searchParams.get('format')).toBe('pprof');
      expect(u.searchParams.get('from')).toMatch(/^\d{10}$/); // Unix s
      expect(r.headers['content-type']).toBe('application/octet-stream');
      expect(r.body[0] === 0x1f && r.body[1] === 0x8b).toBe(true);
    }
    expect(new Set(cap.uploads.flatMap((u) => u.typeIds))).toEqual(new Set(NODE_TYPES));
  });

  serverConformance(
    () => cap,
    app,
    () => NODE_TYPES,
    {
      hostname: [HOSTNAME],
      env: ['e2e'],
      handler: ['fib', 'hash'],
      otel_scope_name: ['com.grafana.pyroscope/nodejs'],
    },
  );
});

// -----------------------------------------------------------------------------------------------------------
describe('Node captures replayed (0.6.4 raw format=pprof, 0.4.13 multipart)', () => {
  const app = 'capture-test-app';
  let cap: Capture;

  beforeAll(async () => {
    cap = await capture(async (url) => {
      for (const r of nodeFixtureReplay()) {
        const res = await fetch(`${url}${r.url}`, { method: r.method, headers: r.headers, body: r.body });
        await res.arrayBuffer();
      }
      return undefined;
    });
  }, 60_000);

  it('the replayed captures decode to the documented profile types', () => {
    expect(cap.uploads.map((u) => u.api)).toEqual(['ingest-raw', 'ingest-raw', 'ingest-multipart']);
    expect(new Set(cap.uploads.flatMap((u) => u.typeIds))).toEqual(new Set(NODE_TYPES));
  });

  serverConformance(
    () => cap,
    app,
    () => NODE_TYPES,
    {
      region: ['eu-north'],
      env: ['test'],
      handler: ['fib', 'hash'],
      otel_scope_name: ['com.grafana.pyroscope/nodejs'],
    },
  );
});
