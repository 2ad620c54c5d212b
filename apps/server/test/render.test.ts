import { stackValuesFromFolded } from '@emberscope/model';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ComputePool } from '../src/compute/pool.js';
import { runTask } from '../src/compute/tasks.js';
import { cpuType, startTestServer } from './helpers.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field.
type Json = any;

const objectsType = 'memory:alloc_objects:count::';

/** The v1 legacy HTTP query API and the server-side tree operations, against the spec's worked examples. */
describe('/pyroscope/render, /pyroscope/render-diff, tree operations', () => {
  let s: TestServer;
  // A minute boundary 20 min ago: data sits at fixed offsets from it.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  const sec = (offsetS: number) => Math.floor((t0 + offsetS * 1000) / 1000);

  const ingest = async (name: string, body: string, atS: number, extra = '') => {
    const res = await fetch(
      `${s.url}/ingest?name=${encodeURIComponent(name)}&format=folded&from=${sec(atS)}&until=${sec(atS) + 10}${extra}`,
      { method: 'POST', body },
    );
    expect(res.status).toBe(200);
  };
  const get = async (path: string, query: Record<string, string | string[]>) => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) qs.append(k, x);
    const res = await fetch(`${s.url}${path}?${qs}`);
    return { res, status: res.status, type: res.headers.get('content-type') ?? '' };
  };
  const getJson = async (path: string, query: Record<string, string | string[]>) => {
    const r = await get(path, query);
    return { ...r, body: (await r.res.json()) as Json };
  };
  /** The last hour, in ms (13 digits: the unit is guessed from the length). */
  const hour = () => ({ from: String(t0 - 30 * 60_000), until: String(t0 + 30 * 60_000) });

  const example = 'foo;bar 2\nfoo;baz 1\nfoo 1\nqux 3\n';

  beforeAll(async () => {
    s = await startTestServer();
    await ingest('app.alloc_objects', example, 20);
    await ingest('app.cpu', example, 20, '&sampleRate=100');
    // Diff example: left at +60 s, right at +300 s.
    await ingest('cmp.alloc_objects', 'foo;bar 2\n', 60);
    await ingest('cmp.alloc_objects', 'foo;bar 1\nfoo;baz 3\n', 300);
    // Two pods for groupBy.
    await ingest('pods.alloc_objects{pod=a}', 'main;work 5\n', 20);
    await ingest('pods.alloc_objects{pod=b}', 'main;work 7\n', 80);
    await ingest('pods.alloc_objects{pod=b}', 'main;idle 1\n', 95);
  });
  afterAll(() => s.stop());

  test('the worked flamebearer example, exactly', async () => {
    const { status, body } = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      ...hour(),
    });
    expect(status).toBe(200);
    expect(body.version).toBe(1);
    expect(body.flamebearer).toEqual({
      names: ['total', 'foo', 'bar', 'baz', 'qux'],
      levels: [
        [0, 7, 0, 0],
        [0, 4, 1, 1, 0, 3, 3, 4],
        [1, 2, 2, 2, 0, 1, 1, 3],
      ],
      numTicks: 7,
      maxSelf: 3,
    });
    expect(body.metadata).toEqual({
      format: 'single',
      spyName: '',
      sampleRate: 100,
      units: 'objects',
      name: 'alloc_objects',
    });
    expect(body.heatmap).toBeNull();
    expect(body.groups).toBeNull();
  });

  test('cpu from folded text with sampleRate 100: values ×1e7 ns, units "samples" at rate 1e9', async () => {
    const { body } = await getJson('/pyroscope/render', {
      query: `${cpuType}{service_name="app"}`,
      ...hour(),
    });
    expect(body.flamebearer.numTicks).toBe(7e7);
    expect(body.flamebearer.levels[1]).toEqual([0, 4e7, 1e7, 1, 0, 3e7, 3e7, 4]);
    expect(body.metadata).toMatchObject({ units: 'samples', sampleRate: 1e9, name: 'cpu' });
  });

  test('timeline: 15 s steps over an hour, start snapped, zero-filled', async () => {
    const from = t0 - 30 * 60_000 + 7_000; // not on a step boundary
    const until = from + 3_600_000;
    const { body } = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      from: String(from),
      until: String(until),
    });
    const tl = body.timeline;
    expect(tl.durationDelta).toBe(15);
    expect(tl.startTime).toBe(Math.floor(from / 15_000) * 15);
    expect(tl.samples).toHaveLength(Math.floor(until / 15_000) - Math.floor(from / 15_000));
    expect(tl.watermarks).toBeNull();
    // One profile, at t0 + 20 s: in the step (ts − 15 s, ts] of the first boundary ts ≥ t0 + 20 s.
    const nonZero = tl.samples.flatMap((v: number, i: number) => (v ? [[i, v]] : []));
    // Point times are from + k·15 s (not aligned); each goes to the aligned step its second falls in.
    const point = from + Math.ceil((t0 + 20_000 - from) / 15_000) * 15_000;
    expect(nonZero).toEqual([[Math.floor((Math.floor(point / 1000) - tl.startTime) / 15), 7]]);
  });

  test('relative times: from=now-1h', async () => {
    const { status, body } = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      from: 'now-1h',
      until: 'now',
    });
    expect(status).toBe(200);
    expect(body.flamebearer.numTicks).toBe(7);
    expect(body.timeline.samples).toHaveLength(240);
  });

  test('groupBy: one timeline per value; the timeline only when one group came back', async () => {
    const q = { query: `${objectsType}{service_name="pods"}`, ...hour() };
    const both = await getJson('/pyroscope/render', { ...q, groupBy: 'pod' });
    expect(both.body.flamebearer.numTicks).toBe(13);
    expect(Object.keys(both.body.groups)).toEqual(['a', 'b']);
    const sum = (tl: { samples: number[] }) => tl.samples.reduce((a, b) => a + b, 0);
    expect(sum(both.body.groups.a)).toBe(5);
    expect(sum(both.body.groups.b)).toBe(8);
    expect(both.body.timeline).toBeNull();
    const one = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="pods",pod="b"}`,
      from: q.from,
      until: q.until,
      groupBy: ['pod', 'ignored'],
    });
    expect(Object.keys(one.body.groups)).toEqual(['b']);
    expect(sum(one.body.timeline)).toBe(8);
    const none = await getJson('/pyroscope/render', { ...q, groupBy: 'absent' });
    expect(Object.keys(none.body.groups)).toEqual(['*']);
    // aggregation=avg averages the profiles of a step (the two profiles of pod b are in different steps).
    const avg = await getJson('/pyroscope/render', { ...q, aggregation: 'avg' });
    expect(sum(avg.body.timeline)).toBe(13);
    expect(avg.body.flamebearer.numTicks).toBe(13);
  });

  test('maxNodes / max-nodes: a non-zero maxNodes wins; dropped siblings fold into "other"', async () => {
    const q = { query: `${objectsType}{service_name="app"}`, ...hour() };
    const cut = await getJson('/pyroscope/render', { ...q, 'max-nodes': '2' });
    // Kept: foo (4) and qux (3); bar and baz fold into "other" under foo.
    expect([...cut.body.flamebearer.names].sort()).toEqual(['foo', 'other', 'qux', 'total']);
    const other = cut.body.flamebearer.names.indexOf('other');
    expect(cut.body.flamebearer.levels[2]).toEqual([1, 3, 3, other]);
    expect(cut.body.flamebearer.numTicks).toBe(7);
    const wins = await getJson('/pyroscope/render', { ...q, 'max-nodes': '2', maxNodes: '100' });
    expect(wins.body.flamebearer.names).toHaveLength(5);
    const zero = await getJson('/pyroscope/render', { ...q, 'max-nodes': '2', maxNodes: '0' });
    expect(zero.body.flamebearer.names).toHaveLength(4);
  });

  test('format=dot: a Graphviz call graph; empty body without data', async () => {
    const q = { query: `${objectsType}{service_name="app"}`, ...hour(), format: 'dot' };
    const dot = await get('/pyroscope/render', q);
    expect(dot.status).toBe(200);
    expect(dot.type).toMatch(/^text\/plain/);
    const text = await dot.res.text();
    expect(text).toMatch(/^digraph /);
    for (const fn of ['foo', 'bar', 'baz', 'qux']) expect(text).toContain(fn);
    const empty = await get('/pyroscope/render', { ...q, query: `${objectsType}{service_name="nobody"}` });
    expect(empty.status).toBe(200);
    expect(await empty.res.text()).toBe('');
  });

  test('focus: the flame graph of a subtree', async () => {
    const { body } = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      ...hour(),
      focus: 'foo',
    });
    expect(body.flamebearer.numTicks).toBe(4);
    expect(body.flamebearer.names).toEqual(['total', 'foo', 'bar', 'baz']);
    expect(body.flamebearer.levels[1]).toEqual([0, 4, 1, 1]);
    const deeper = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      ...hour(),
      focus: 'foo;bar',
    });
    expect(deeper.body.flamebearer.numTicks).toBe(2);
    // The cut comes after focusing: maxNodes 1 keeps foo, bar and baz become "other".
    const cut = await getJson('/pyroscope/render', {
      query: `${objectsType}{service_name="app"}`,
      ...hour(),
      focus: 'foo',
      maxNodes: '1',
    });
    expect(cut.body.flamebearer.names).toEqual(['total', 'foo', 'other']);
  });

  test('sandwich: callers and callees of a function, both with its total', async () => {
    const q = { query: `${objectsType}{service_name="app"}`, ...hour() };
    const { status, body } = await getJson('/pyroscope/render', { ...q, sandwich: 'bar' });
    expect(status).toBe(200);
    expect(body.callers.flamebearer).toEqual({
      names: ['total', 'bar', 'foo'],
      levels: [
        [0, 2, 0, 0],
        [0, 2, 0, 1],
        [0, 2, 2, 2],
      ],
      numTicks: 2,
      maxSelf: 2,
    });
    expect(body.callees.flamebearer.numTicks).toBe(2);
    expect(body.callers.metadata.name).toBe('alloc_objects');
    expect(body.callers.timeline.durationDelta).toBe(15);
    const foo = await getJson('/pyroscope/render', { ...q, sandwich: 'foo' });
    expect(foo.body.callers.flamebearer.numTicks).toBe(4);
    expect(foo.body.callees.flamebearer.numTicks).toBe(4);
    expect(foo.body.callees.flamebearer.names).toEqual(['total', 'foo', 'bar', 'baz']);
    const missing = await getJson('/pyroscope/render', { ...q, sandwich: 'nope' });
    expect(missing.body.callers.flamebearer.numTicks).toBe(0);
  });

  test('/api/v1/functions: self and total per function, sorted and limited', async () => {
    const q = { query: `${objectsType}{service_name="app"}`, ...hour() };
    const bySelf = await getJson('/api/v1/functions', q);
    expect(bySelf.status).toBe(200);
    expect(bySelf.body).toMatchObject({ total: 7, count: 4, metadata: { units: 'objects' } });
    expect(bySelf.body.functions).toEqual([
      { name: 'qux', self: 3, total: 3 },
      { name: 'bar', self: 2, total: 2 },
      { name: 'foo', self: 1, total: 4 },
      { name: 'baz', self: 1, total: 1 },
    ]);
    const byTotal = await getJson('/api/v1/functions', { ...q, sort: 'total', limit: '2' });
    expect(byTotal.body.count).toBe(4);
    expect(byTotal.body.functions.map((f: { name: string }) => f.name)).toEqual(['foo', 'qux']);
    const bad = await getJson('/api/v1/functions', { ...q, sort: 'name' });
    expect(bad.status).toBe(400);
  });

  const diffQuery = (left = objectsType, right = objectsType) => ({
    leftQuery: `${left}{service_name="cmp"}`,
    leftFrom: String(t0 + 50_000),
    leftUntil: String(t0 + 70_000),
    rightQuery: `${right}{service_name="cmp"}`,
    rightFrom: String(t0 + 290_000),
    rightUntil: String(t0 + 310_000),
  });

  test('the worked diff example through /pyroscope/render-diff', async () => {
    const { status, body } = await getJson('/pyroscope/render-diff', diffQuery());
    expect(status).toBe(200);
    expect(body.flamebearer).toEqual({
      names: ['total', 'foo', 'bar', 'baz'],
      levels: [
        [0, 2, 0, 0, 4, 0, 0],
        [0, 2, 0, 0, 4, 0, 1],
        [0, 2, 2, 0, 1, 1, 2, 0, 0, 0, 0, 3, 3, 3],
      ],
      numTicks: 6,
      maxSelf: 3,
    });
    expect(body.leftTicks).toBe(2);
    expect(body.rightTicks).toBe(4);
    expect(body.metadata).toMatchObject({ format: 'double', units: 'objects', name: 'alloc_objects' });
  });

  test('/api/v1/diff-table: shares by default, raw values with absolute=true', async () => {
    const shares = await getJson('/api/v1/diff-table', diffQuery());
    expect(shares.status).toBe(200);
    expect(shares.body).toMatchObject({ leftTicks: 2, rightTicks: 4, count: 3, normalized: true });
    const row = (rows: Json[], name: string) => rows.find((r) => r.name === name);
    expect(row(shares.body.rows, 'baz')).toMatchObject({
      baseline: 0,
      comparison: 0.75,
      change: 0.75,
      relativeChange: null,
    });
    expect(row(shares.body.rows, 'bar')).toMatchObject({ baseline: 1, comparison: 0.25, change: -0.75 });
    expect(row(shares.body.rows, 'foo')).toMatchObject({ change: 0 });
    expect(shares.body.rows.at(-1).name).toBe('foo');
    const absolute = await getJson('/api/v1/diff-table', { ...diffQuery(), absolute: 'true', limit: '1' });
    expect(absolute.body.normalized).toBe(false);
    expect(absolute.body.rows).toEqual([
      {
        name: 'baz',
        baselineSelf: 0,
        baselineTotal: 0,
        comparisonSelf: 3,
        comparisonTotal: 3,
        baseline: 0,
        comparison: 3,
        change: 3,
        relativeChange: null,
      },
    ]);
  });

  test('/pyroscope/label-values: profile type IDs for __name__, values for other labels', async () => {
    const types = await getJson('/pyroscope/label-values', { label: '__name__' });
    expect(types.status).toBe(200);
    expect(types.body).toEqual([objectsType, cpuType]);
    const services = await getJson('/pyroscope/label-values', { label: 'service_name' });
    expect(services.body).toEqual(['app', 'cmp', 'pods']);
    const pods = await getJson('/pyroscope/label-values', { label: 'pod' });
    expect(pods.body).toEqual(['a', 'b']);
  });

  test('bad inputs: 400 with {code, message}', async () => {
    const cases: [string, Record<string, string>][] = [
      ['/pyroscope/render', {}],
      ['/pyroscope/render', { query: `${objectsType}{service_name=}` }],
      ['/pyroscope/render', { query: '{service_name="app"}' }],
      ['/pyroscope/render', { query: 'cpu{service_name="app"}' }],
      ['/pyroscope/render', { query: `${objectsType}{}`, maxNodes: 'lots' }],
      ['/pyroscope/render', { query: `${objectsType}{}`, maxNodes: '99999999' }],
      ['/pyroscope/render', { query: `${objectsType}{}`, aggregation: 'max' }],
      ['/pyroscope/render', { query: `${objectsType}{}`, from: 'now', until: 'now-1h' }],
      ['/pyroscope/render-diff', diffQuery(objectsType, cpuType)],
      ['/pyroscope/render-diff', { leftQuery: `${objectsType}{}` }],
      ['/api/v1/diff-table', diffQuery(objectsType, cpuType)],
      ['/api/v1/diff-table', { ...diffQuery(), absolute: 'maybe' }],
      ['/pyroscope/label-values', {}],
    ];
    for (const [path, query] of cases) {
      const { status, body } = await getJson(path, query);
      expect({ path, query, status }).toEqual({ path, query, status: 400 });
      expect(body).toEqual({ code: 'invalid_argument', message: expect.any(String) });
    }
    const diff = await getJson('/pyroscope/render-diff', diffQuery(objectsType, cpuType));
    expect(diff.body.message).toMatch(/different profile types/);
  });
});

describe('tree-operation tasks on the compute pool', () => {
  const pool = new ComputePool(1, 60_000);
  afterAll(() => pool.close());

  /** Enough distinct stacks to cross the inline threshold, so the work really goes to a worker. */
  const big = (seed: number) => {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++)
      lines.push(`main;svc${i % 50};handler${(i * seed) % 400};leaf${i} ${1 + ((i + seed) % 7)}`);
    return [stackValuesFromFolded(lines)];
  };

  test('a worker computes what the main thread computes', async () => {
    const parts = big(1);
    expect(parts[0].parent.length).toBeGreaterThan(50_000);
    const focus = { parts, path: ['main', 'svc7'], maxNodes: 500 };
    expect(await pool.run('focusFlameGraph', focus)).toEqual(runTask('focusFlameGraph', focus));
    const sandwich = { parts, function: 'handler42', maxNodes: 500 };
    const halves = await pool.run('sandwich', sandwich);
    expect(halves).toEqual(runTask('sandwich', sandwich));
    expect(halves.callers.total).toBe(halves.callees.total);
    const table = { parts, sort: 'total' as const, limit: 20 };
    expect(await pool.run('functionTable', table)).toEqual(runTask('functionTable', table));
    const diff = { left: { parts }, right: { parts: big(3) }, normalize: true, limit: 50 };
    expect(await pool.run('diffTable', diff)).toEqual(runTask('diffTable', diff));
  });
});
