/**
 * Exactness of the read path (issue 3, "What must be shown"): for CPU profiles sent by the real Go SDK
 * (`pyroscope-go`, through the recording proxy to a real server process), both
 *   A. the merged pprof exported by `SelectMergeProfile` (binary Connect, the body is the pprof), and
 *   B. the flame graph of `SelectMergeStacktraces` (untruncated),
 * give per-function self and total values equal to `go tool pprof -top` run on the concatenation of the
 * original uploads (pprof merges several files given on one command line). Checked for the whole run and
 * for a sub-range that leaves out the first and last uploads. Expected values come only from the recorded
 * bytes and `go tool pprof`; nothing here imports Emberscope code.
 *
 * Naming: pprof `-top` prints one row per function name (its default `functions` granularity drops file,
 * line and address; `(inline)`/`(partial-inline)` markers are stripped by the parser). The flame graph
 * expands inlined lines into frames, so both sides are keyed by the plain function name. The test fails
 * loudly if the originals contain anything where names could legitimately diverge (locations without
 * function names, or two pprof rows with the same name) instead of papering over it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientRun, runGoClient } from '../support/clients.js';
import { decodePprof, decodeUploads, sampleTypes, sumValues, type Upload } from '../support/payloads.js';
import { type PprofTopReport, pprofTopReport } from '../support/pprof-tool.js';
import {
  type FlameGraph,
  flameGraphFunctionTotals,
  flameGraphNodes,
  selectMergeProfilePprof,
  selectMergeStacktraces,
  type TimeRange,
} from '../support/query.js';
import { type RecordedRequest, startRecordingProxy } from '../support/recorder.js';
import { type RunningServer, startServer } from '../support/server.js';

const CPU_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/**
 * 8 s of load with UploadRate 1 s: pyroscope-go's CPU windows then come out about 2 s long, giving ~4 full
 * windows plus the short ones of the final Flush(true) and Stop() (some milliseconds, possibly empty).
 */
const RUN_SECONDS = 8;
const UPLOAD_MS = 1000;
const MIN_CPU_UPLOADS = 4;
const MAX_NODES = 1 << 20; // the server's maximum: the flame graph must come back untruncated
const SUITE_START = Date.now();
const app = `e2e-exact-go-${Math.random().toString(36).slice(2, 8)}`;
const selector = `{service_name="${app}"}`;

let server: RunningServer;
let dir: string;
let run: ClientRun;
let requests: RecordedRequest[];
/** The Go CPU uploads, sorted by their `from` time, each with the file its pprof (as sent) was saved to. */
let cpu: Array<{ upload: Upload; fromMs: number; file: string }>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'emberscope-e2e-exact-'));
  server = await startServer({ name: 'e2e-exactness' });
  const proxy = await startRecordingProxy({ target: server.url });
  try {
    run = await runGoClient({
      serverAddress: proxy.url,
      appName: app,
      runSeconds: RUN_SECONDS,
      uploadMs: UPLOAD_MS,
    });
    await proxy.idle();
  } finally {
    await proxy.close();
  }
  requests = proxy.requests;
  cpu = decodeUploads(requests)
    .filter((u) => u.name === 'process_cpu')
    .map((upload) => ({
      upload,
      fromMs: Number(BigInt(upload.query.get('from') ?? '0') / 1_000_000n),
      file: '',
    }))
    .sort((a, b) => a.fromMs - b.fromMs);
  cpu.forEach((c, i) => {
    c.file = path.join(dir, `cpu-${i}.pb.gz`);
    writeFileSync(c.file, c.upload.rawPprof);
  });
}, 120_000);

afterAll(async () => {
  console.log(`[e2e exactness] server log: ${server?.logFile}`);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// -----------------------------------------------------------------------------------------------------------
// Comparison helpers

interface Row {
  self: bigint;
  total: bigint;
}

/** pprof -top rows keyed by function name; a repeated name would make the comparison ambiguous: fail. */
function byName(report: PprofTopReport): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of report.rows) {
    if (out.has(r.name)) throw new Error(`go tool pprof printed two rows named ${JSON.stringify(r.name)}`);
    out.set(r.name, { self: r.flat, total: r.cum });
  }
  return out;
}

/**
 * Every function whose self or total differs (a function missing on one side has self = total = 0 there,
 * which is exactly its value). Empty when the two tables are identical.
 */
function differences(expected: Map<string, Row>, got: Map<string, Row>) {
  const zero: Row = { self: 0n, total: 0n };
  const rows: Array<Record<string, string>> = [];
  for (const name of new Set([...expected.keys(), ...got.keys()])) {
    const e = expected.get(name) ?? zero;
    const g = got.get(name) ?? zero;
    if (e.self !== g.self || e.total !== g.total) {
      rows.push({
        name,
        expectedSelf: e.self.toString(),
        gotSelf: g.self.toString(),
        selfDiff: (g.self - e.self).toString(),
        expectedTotal: e.total.toString(),
        gotTotal: g.total.toString(),
        totalDiff: (g.total - e.total).toString(),
      });
    }
  }
  return rows;
}

const sum = (xs: Iterable<bigint>) => [...xs].reduce((a, b) => a + b, 0n);

function describeRequests(reqs: RecordedRequest[]): string {
  return reqs
    .map(
      (r) =>
        `#${r.seq} ${r.method} ${r.url.slice(0, 120)} -> ${r.status} ${r.responseBody.toString().slice(0, 300)}`,
    )
    .join('\n');
}

// -----------------------------------------------------------------------------------------------------------

describe('flame graph decoding (harness self-check on hand-built flame graphs)', () => {
  const table = (fg: FlameGraph) =>
    Object.fromEntries([...flameGraphFunctionTotals(fg)].map(([k, v]) => [k, `${v.self}/${v.total}`]));

  it("the spec's worked example: foo;bar 2, foo;baz 1, foo 1, qux 3", () => {
    const fg: FlameGraph = {
      names: ['total', 'foo', 'bar', 'baz', 'qux'],
      levels: [
        [0, 7, 0, 0],
        [0, 4, 1, 1, 0, 3, 3, 4],
        [1, 2, 2, 2, 0, 1, 1, 3],
      ].map((l) => l.map(BigInt)),
      total: 7n,
      maxSelf: 3n,
    };
    const [, foo, qux] = flameGraphNodes(fg).flat();
    expect(qux?.x).toBe(4n);
    expect(flameGraphNodes(fg)[2]?.map((n) => `${n.name}@${n.x}<${n.parent?.name}`)).toEqual([
      'bar@1<foo',
      'baz@3<foo',
    ]);
    expect(foo?.parent?.name).toBe('total');
    expect(table(fg)).toEqual({ foo: '1/4', bar: '2/2', baz: '1/1', qux: '3/3' });
  });

  it('recursion counts once in a total (as pprof cum): a;b;a 3, a 1, c 2', () => {
    const fg: FlameGraph = {
      names: ['total', 'a', 'b', 'c'],
      levels: [
        [0, 6, 0, 0],
        [0, 4, 1, 1, 0, 2, 2, 3],
        [1, 3, 0, 2],
        [1, 3, 3, 1],
      ].map((l) => l.map(BigInt)),
      total: 6n,
      maxSelf: 3n,
    };
    expect(table(fg)).toEqual({ a: '4/4', b: '0/3', c: '2/2' });
  });

  it('a node outside every parent range is an error, not a silent misattribution', () => {
    const fg: FlameGraph = {
      names: ['total', 'a', 'b'],
      levels: [
        [0, 2, 0, 0],
        [0, 2, 2, 1],
        [0, 1, 1, 2],
      ].map((l) => l.map(BigInt)), // b inside a's self
      total: 2n,
      maxSelf: 2n,
    };
    expect(() => flameGraphNodes(fg)).toThrow(/no parent/);
  });
});

describe('Go SDK CPU profiles: the uploads (harness self-checks)', () => {
  it('the Go client ran cleanly, every request got a 2xx, and it sent several CPU uploads', () => {
    expect(run.code, `client exit code; stderr:\n${run.stderr.slice(-3000)}`).toBe(0);
    expect(run.summary?.ok, `client summary: ${run.stdout.slice(-500)}`).toBe(true);
    const bad = requests.filter((r) => r.status < 200 || r.status > 299);
    expect(bad.length, `non-2xx answers:\n${describeRequests(bad)}`).toBe(0);
    expect(cpu.length).toBeGreaterThanOrEqual(MIN_CPU_UPLOADS);
    for (const { upload } of cpu) expect(upload.typeIds).toContain(CPU_TYPE);
  });

  it('every location in the uploads resolves to named functions (so pprof and flame graph names can agree)', () => {
    // pprof -symbolize=none would print an address-only location as an address or "<unknown>"; the Go
    // runtime symbolizes its own profiles, so there must be none, and every line names a function.
    const unnamed: string[] = [];
    for (const { upload, file } of cpu) {
      const p = upload.profile;
      const fnName = new Map(
        p.function.map((f) => [String(f.id), p.stringTable.strings[Number(f.name)] ?? '']),
      );
      for (const l of p.location) {
        if (l.line.length === 0) unnamed.push(`${path.basename(file)}: location ${l.id} has no lines`);
        for (const ln of l.line)
          if (!fnName.get(String(ln.functionId)))
            unnamed.push(
              `${path.basename(file)}: location ${l.id} line with unnamed function ${ln.functionId}`,
            );
      }
    }
    expect(unnamed).toEqual([]);
  });

  it('go tool pprof on all CPU uploads at once reports their summed cpu values, with nothing dropped', async () => {
    const report = await pprofTopReport(
      cpu.map((c) => c.file),
      'cpu',
    );
    const cpuIndex = (u: Upload) => sampleTypes(u.profile).findIndex((t) => t.type === 'cpu');
    const want = sum(cpu.map(({ upload }) => sumValues(upload.profile, cpuIndex(upload))));
    expect(want).toBeGreaterThan(0n);
    expect(report.total).toBe(want);
    expect(report.shown).toBe(want);
    expect(sum(report.rows.map((r) => r.flat))).toBe(want);
    byName(report); // no repeated names
  });
});

/** The two ranges checked: the whole run, and the uploads strictly inside it (first and last left out). */
function ranges(): Array<{ label: string; range: () => TimeRange; files: () => string[] }> {
  return [
    {
      label: 'whole run',
      range: () => ({ start: SUITE_START - 10 * 60_000, end: Date.now() + 10 * 60_000 }),
      files: () => cpu.map((c) => c.file),
    },
    {
      label: 'sub-range without the first and last CPU uploads',
      // Boundaries halfway between consecutive upload times (`from`, which the server stores as
      // time_nanos), at gaps of at least 200 ms so that no profile sits near a boundary.
      range: () => subRange().range,
      files: () => subRange().files,
    },
  ];
}

function subRange(): { range: TimeRange; files: string[] } {
  const gaps: number[] = []; // i such that cpu[i] and cpu[i+1] are at least 200 ms apart
  for (let i = 0; i + 1 < cpu.length; i++)
    if ((cpu[i + 1] as (typeof cpu)[number]).fromMs - (cpu[i] as (typeof cpu)[number]).fromMs >= 200)
      gaps.push(i);
  const first = gaps[0];
  const last = gaps[gaps.length - 1];
  if (first === undefined || last === undefined || last - first < 2)
    throw new Error(`CPU uploads too close together for a sub-range: ${cpu.map((c) => c.fromMs).join(', ')}`);
  const mid = (i: number) =>
    Math.floor(((cpu[i] as (typeof cpu)[number]).fromMs + (cpu[i + 1] as (typeof cpu)[number]).fromMs) / 2);
  return {
    range: { start: mid(first), end: mid(last) },
    files: cpu.slice(first + 1, last + 1).map((c) => c.file),
  };
}

for (const { label, range, files } of ranges()) {
  describe(`exactness over the ${label}`, () => {
    let expected: PprofTopReport;
    let expectedRows: Map<string, Row>;

    beforeAll(async () => {
      expect(files().length).toBeGreaterThanOrEqual(label === 'whole run' ? MIN_CPU_UPLOADS : 2);
      expected = await pprofTopReport(files(), 'cpu');
      expectedRows = byName(expected);
    }, 60_000);

    it('A. the merged pprof (binary SelectMergeProfile) gives go tool pprof -top the same flat and cum per function', async () => {
      const body = await selectMergeProfilePprof(server.url, {
        profileTypeID: CPU_TYPE,
        labelSelector: selector,
        ...range(),
      });
      const file = path.join(dir, `merged-${label.replace(/\W+/g, '-')}.pb`);
      writeFileSync(file, body);
      const types = sampleTypes(decodePprof(body)).map((t) => `${t.type}/${t.unit}`);
      expect(types, 'sample types of the exported profile').toContain('cpu/nanoseconds');
      const got = await pprofTopReport([file], 'cpu');
      console.log(
        `[e2e exactness] ${label}: ${files().length} uploads, ${expectedRows.size} functions, total ${expected.total} ns; exported pprof ${body.length} bytes, ${got.rows.length} functions, total ${got.total} ns`,
      );
      expect(differences(expectedRows, byName(got))).toEqual([]);
      expect(got.rows.length).toBe(expected.rows.length);
      expect(got.total).toBe(expected.total);
      expect(got.shown).toBe(expected.shown);
    });

    it('B. the flame graph (SelectMergeStacktraces, untruncated) gives the same self and total per function', async () => {
      const fg = (await selectMergeStacktraces(server.url, {
        profileTypeID: CPU_TYPE,
        labelSelector: selector,
        maxNodes: MAX_NODES,
        ...range(),
      })) as FlameGraph;
      expect(fg, 'no flame graph').toBeDefined();
      const nodes = flameGraphNodes(fg);
      // Untruncated and well formed: a single root, and every node's self plus its children's totals is
      // its total (truncation would leave gaps).
      expect(nodes[0]?.length).toBe(1);
      const childTotals = new Map<object, bigint>();
      for (const level of nodes)
        for (const n of level)
          if (n.parent) childTotals.set(n.parent, (childTotals.get(n.parent) ?? 0n) + n.total);
      const broken = nodes
        .flat()
        .filter((n) => n.self + (childTotals.get(n) ?? 0n) !== n.total)
        .map(
          (n) =>
            `${n.name}@${n.depth}: self ${n.self} + children ${childTotals.get(n) ?? 0n} != total ${n.total}`,
        );
      expect(broken).toEqual([]);
      const got = new Map<string, Row>(flameGraphFunctionTotals(fg));
      console.log(
        `[e2e exactness] ${label}: flame graph ${nodes.flat().length} nodes, ${got.size} functions, total ${fg.total} ns`,
      );
      expect(differences(expectedRows, got)).toEqual([]);
      expect(got.size).toBe(expectedRows.size);
      expect(fg.total).toBe(expected.total);
    });
  });
}
