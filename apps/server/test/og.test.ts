import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ogSuffixes, resolveOgSuffix, splitOgName } from '../src/og-names.js';
import { normaliseRange, timelineStepSec } from '../src/routes/og.js';
import { cpuProfile, startTestServer } from './helpers.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field.
type Json = any;

describe('OG application names ↔ v1 series', () => {
  const goTypes = [
    'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
    'process_cpu:samples:count:cpu:nanoseconds',
    'memory:alloc_objects:count:space:bytes',
    'memory:alloc_space:bytes:space:bytes',
    'memory:inuse_objects:count:space:bytes',
    'memory:inuse_space:bytes:space:bytes',
    'goroutines:goroutine:count:goroutine:count',
    'mutex:contentions:count:contentions:count',
    'mutex:delay:nanoseconds:contentions:count',
    'block:contentions:count:contentions:count',
    'block:delay:nanoseconds:contentions:count',
  ];

  test('Go SDK profile types get the OG suffixes; leftovers get <name>_<sample type>', () => {
    expect(Object.fromEntries(ogSuffixes(goTypes))).toEqual({
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds': 'cpu',
      'process_cpu:samples:count:cpu:nanoseconds': 'process_cpu_samples',
      'memory:alloc_objects:count:space:bytes': 'alloc_objects',
      'memory:alloc_space:bytes:space:bytes': 'alloc_space',
      'memory:inuse_objects:count:space:bytes': 'inuse_objects',
      'memory:inuse_space:bytes:space:bytes': 'inuse_space',
      'goroutines:goroutine:count:goroutine:count': 'goroutines',
      'mutex:contentions:count:contentions:count': 'mutex_count',
      'mutex:delay:nanoseconds:contentions:count': 'mutex_duration',
      'block:contentions:count:contentions:count': 'block_count',
      'block:delay:nanoseconds:contentions:count': 'block_duration',
    });
  });

  test('every name resolves back to its profile type; aliases resolve; unknown suffixes do not', () => {
    const node = [
      'wall:samples:count:wall:nanoseconds',
      'wall:wall:nanoseconds:wall:nanoseconds',
      'wall:cpu:nanoseconds:wall:nanoseconds',
      'memory:inuse_space:bytes:inuse_space:bytes',
    ];
    for (const types of [goTypes, node])
      for (const [id, suffix] of ogSuffixes(types)) expect(resolveOgSuffix(types, suffix)).toBe(id);
    expect(Object.fromEntries(ogSuffixes(node))).toMatchObject({
      'wall:wall:nanoseconds:wall:nanoseconds': 'wall',
      'wall:samples:count:wall:nanoseconds': 'wall_samples',
      'wall:cpu:nanoseconds:wall:nanoseconds': 'wall_cpu',
    });
    expect(resolveOgSuffix(goTypes, 'itimer')).toBe('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
    expect(resolveOgSuffix(goTypes, 'lock_duration')).toBe('block:delay:nanoseconds:contentions:count');
    expect(resolveOgSuffix(goTypes, 'wall')).toBeUndefined();
    expect(resolveOgSuffix(goTypes, 'nope')).toBeUndefined();
    // Without the cpu column, the samples column is ".cpu" (sampleRate=0 text uploads).
    expect(resolveOgSuffix(['process_cpu:samples:count::'], 'cpu')).toBe('process_cpu:samples:count::');
    // A leftover name that would collide with a known suffix is made unique.
    const odd = ['block:count:count::', 'block:contentions:count::'];
    expect(ogSuffixes(odd).get('block:count:count::')).toBe('block_count_count');
  });

  test('names split at the last dot, with the whole name as a cpu service as fallback', () => {
    expect(splitOgName('my.app.cpu')).toEqual([
      { serviceName: 'my.app', suffix: 'cpu' },
      { serviceName: 'my.app.cpu', suffix: 'cpu' },
    ]);
    expect(splitOgName('plain')).toEqual([{ serviceName: 'plain', suffix: 'cpu' }]);
  });

  test('OG time normalisation and timeline steps', () => {
    const at = (s: number) => s * 1000;
    expect(normaliseRange({ startMs: at(1003), endMs: at(1013) })).toEqual({
      startMs: at(1000),
      endMs: at(1020),
    });
    expect(normaliseRange({ startMs: at(1000), endMs: at(1020) })).toEqual({
      startMs: at(1000),
      endMs: at(1020),
    });
    expect(normaliseRange({ startMs: at(1000), endMs: at(1000) })).toEqual({
      startMs: at(1000),
      endMs: at(1010),
    });
    expect(timelineStepSec(3_600_000)).toBe(10);
    expect(timelineStepSec(86_400_000)).toBe(10); // 84.4 s per point: 10 s is the largest below
    expect(timelineStepSec(7 * 86_400_000)).toBe(100);
    expect(timelineStepSec(30 * 86_400_000)).toBe(1000);
  });
});

/** The original Pyroscope (v0.37) HTTP routes, which older plugins and scripts call. */
describe('OG routes: /render, /render-diff, /labels, /label-values, /api/apps', () => {
  let s: TestServer;
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  const sec = (offsetS: number) => Math.floor((t0 + offsetS * 1000) / 1000);
  const example = 'foo;bar 2\nfoo;baz 1\nfoo 1\nqux 3\n';

  const ingest = async (name: string, body: string | Buffer, atS: number, extra = '&format=folded') => {
    const res = await fetch(
      `${s.url}/ingest?name=${encodeURIComponent(name)}&from=${sec(atS)}&until=${sec(atS) + 10}${extra}`,
      { method: 'POST', body },
    );
    expect(res.status).toBe(200);
  };
  const get = async (path: string, query: Record<string, string> = {}) => {
    const res = await fetch(`${s.url}${path}?${new URLSearchParams(query)}`);
    return { res, status: res.status, type: res.headers.get('content-type') ?? '' };
  };
  const getJson = async (path: string, query: Record<string, string> = {}) => {
    const r = await get(path, query);
    return { ...r, body: (await r.res.json()) as Json };
  };
  const hour = () => ({ from: String(sec(-1800)), until: String(sec(1800)) });

  beforeAll(async () => {
    s = await startTestServer();
    await ingest('app.cpu{env=prod}', example, 23, '&format=folded&sampleRate=100&spyName=rbspy');
    await ingest('app.cpu{env=dev}', 'foo;bar 5\n', 47, '&format=folded&sampleRate=100&spyName=rbspy');
    await ingest('app.alloc_space{env=prod}', 'main;alloc 4096\n', 23);
    // A Go SDK CPU pprof: sample types samples/count and cpu/nanoseconds.
    const at = BigInt(t0 + 30_000) * 1_000_000n;
    await ingest(
      'goapp',
      cpuProfile({ 'main;work': 3, 'main;idle': 1 }, at),
      30,
      '&format=pprof&spyName=gospy',
    );
    // Diff example on its own app: left at +60 s, right at +300 s.
    await ingest('cmp.alloc_objects', 'foo;bar 2\n', 60);
    await ingest('cmp.alloc_objects', 'foo;bar 1\nfoo;baz 3\n', 300);
  });
  afterAll(() => s.stop());

  test('/render json: flamebearer, OG metadata and the OG timeline', async () => {
    const { status, body } = await getJson('/render', { query: 'app.cpu{env="prod"}', ...hour() });
    expect(status).toBe(200);
    expect(body.flamebearer).toEqual({
      names: ['total', 'foo', 'bar', 'baz', 'qux'],
      levels: [
        [0, 7e7, 0, 0],
        [0, 4e7, 1e7, 1, 0, 3e7, 3e7, 4],
        [1e7, 2e7, 2e7, 2, 0, 1e7, 1e7, 3],
      ],
      numTicks: 7e7,
      maxSelf: 3e7,
    });
    expect(body.metadata).toEqual({
      format: 'single',
      spyName: 'rbspy',
      sampleRate: 1e9,
      units: 'samples',
      name: 'app.cpu',
      appName: 'app.cpu',
      startTime: sec(-1800),
      endTime: sec(1800),
      query: 'app.cpu{env="prod"}',
      maxNodes: 8192,
    });
    expect(body.annotations).toEqual([]);
    const tl = body.timeline;
    expect(tl.durationDelta).toBe(10);
    expect(tl.startTime).toBe(Math.floor(sec(-1800) / 10) * 10);
    expect(tl.samples).toHaveLength(360);
    expect(tl.watermarks).toEqual({});
    // The profile at +23 s lands in the 10 s bucket [+20 s, +30 s) with 1 + its total.
    const nonZero = tl.samples.flatMap((v: number, i: number) => (v ? [[i, v]] : []));
    expect(nonZero).toEqual([[(Math.floor(sec(23) / 10) * 10 - tl.startTime) / 10, 1 + 7e7]]);
  });

  test('/render by storage key, groupBy, maxNodes, unknown apps', async () => {
    const byName = await getJson('/render', { name: 'app.cpu{env=prod}', ...hour() });
    expect(byName.body.flamebearer.numTicks).toBe(7e7);
    expect(byName.body.metadata.query).toBe('app.cpu{env=prod}');
    const all = await getJson('/render', { query: 'app.cpu', ...hour(), groupBy: 'env', 'max-nodes': '2' });
    expect(all.body.flamebearer.numTicks).toBe(12e7);
    expect(all.body.metadata.maxNodes).toBe(2);
    expect(Object.keys(all.body.groups)).toEqual(['dev', 'prod']);
    const nonZero = (tl: { samples: number[] }) => tl.samples.filter((v) => v > 0);
    expect(nonZero(all.body.groups.dev)).toEqual([1 + 5e7]);
    expect(nonZero(all.body.groups.prod)).toEqual([1 + 7e7]);
    expect(nonZero(all.body.timeline)).toEqual([1 + 7e7, 1 + 5e7]);
    const unknown = await getJson('/render', { query: 'nobody.cpu', ...hour() });
    expect(unknown.status).toBe(200);
    expect(unknown.body.flamebearer).toEqual({
      names: ['total'],
      levels: [[0, 0, 0, 0]],
      numTicks: 0,
      maxSelf: 0,
    });
    expect(unknown.body.timeline.samples.every((v: number) => v === 0)).toBe(true);
    // A Go CPU pprof is `.cpu` (nanoseconds) plus the sample counts under their own name.
    const go = await getJson('/render', { query: 'goapp.cpu', ...hour() });
    expect(go.body.flamebearer.numTicks).toBe(4e7);
    expect(go.body.metadata.spyName).toBe('gospy');
    const counts = await getJson('/render', { query: 'goapp.process_cpu_samples', ...hour() });
    expect(counts.body.flamebearer.numTicks).toBe(4);
    expect(counts.body.metadata.units).toBe('objects');
  });

  test('/render?format=pprof: a gzipped pprof download with the total that was sent', async () => {
    const r = await get('/render', { query: 'app.cpu{env="prod"}', ...hour(), format: 'pprof' });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-disposition')).toMatch(/^attachment; filename=".*\.pb\.gz"$/);
    const bytes = Buffer.from(await r.res.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const p = Profile.decode(gunzipSync(bytes));
    const strings = p.stringTable.strings;
    expect(p.sampleType.map((t) => strings[Number(t.type)])).toEqual(['cpu']);
    const total = p.sample.reduce((sum, x) => sum + Number(x.value[0]), 0);
    expect(total).toBe(7e7);
    // No data: still a valid, empty pprof of the type.
    const empty = await get('/render', { query: 'app.cpu{env="none"}', ...hour(), format: 'pprof' });
    const e = Profile.decode(gunzipSync(Buffer.from(await empty.res.arrayBuffer())));
    expect(e.sample).toHaveLength(0);
    expect(e.stringTable.strings[Number(e.sampleType[0].type)]).toBe('cpu');
  });

  test('/render?format=collapsed: folded text whose lines sum to the total', async () => {
    const r = await get('/render', { query: 'app.cpu{env="prod"}', ...hour(), format: 'collapsed' });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain/);
    expect(r.res.headers.get('content-disposition')).toMatch(/^attachment; filename=".*\.collapsed\.txt"$/);
    const text = await r.res.text();
    expect(text).toBe(`foo 10000000\nfoo;bar 20000000\nfoo;baz 10000000\nqux 30000000\n`);
    const sum = text
      .trim()
      .split('\n')
      .reduce((acc, line) => acc + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(sum).toBe(7e7);
  });

  test('/render?format=html: a standalone page without any URL', async () => {
    const r = await get('/render', { query: 'app.cpu{env="prod"}', ...hour(), format: 'html' });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/html/);
    const html = await r.res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('app.cpu');
    expect(html).toContain('"numTicks":70000000');
    expect(html).not.toMatch(/https?:\/\/|\bsrc=|\bhref=/i);
  });

  test('/render-diff: the worked diff example; html; mismatched types → 400', async () => {
    const q = {
      leftQuery: 'cmp.alloc_objects',
      leftFrom: String(sec(55)),
      leftUntil: String(sec(65)),
      rightQuery: 'cmp.alloc_objects',
      rightFrom: String(sec(295)),
      rightUntil: String(sec(305)),
    };
    const { status, body } = await getJson('/render-diff', q);
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
    expect(body).toMatchObject({ leftTicks: 2, rightTicks: 4 });
    expect(body.metadata).toMatchObject({ format: 'double', appName: 'cmp.alloc_objects', units: 'objects' });
    expect(body.leftTimeline.samples.filter((v: number) => v > 0)).toEqual([3]);
    expect(body.rightTimeline.samples.filter((v: number) => v > 0)).toEqual([5]);

    const html = await get('/render-diff', { ...q, format: 'html' });
    expect(html.status).toBe(200);
    expect(html.type).toMatch(/^text\/html/);
    const page = await html.res.text();
    expect(page.match(/<iframe /g)).toHaveLength(2);
    expect(page).not.toMatch(/https?:\/\//);

    const mismatch = await getJson('/render-diff', { ...q, rightQuery: 'app.cpu' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toEqual({ code: 'invalid_argument', message: expect.stringMatching(/differ/) });
  });

  test('/labels, /label-values, /api/apps', async () => {
    const labels = await getJson('/labels');
    expect(labels.status).toBe(200);
    expect(labels.body).toEqual(['__name__', 'env']);
    const forGo = await getJson('/labels', { query: 'goapp.cpu' });
    expect(forGo.body).toEqual(['__name__']);

    const names = await getJson('/label-values', { label: '__name__' });
    expect(names.body).toEqual([
      'app.alloc_space',
      'app.cpu',
      'cmp.alloc_objects',
      'goapp.cpu',
      'goapp.process_cpu_samples',
    ]);
    const inRange = await getJson('/label-values', {
      label: '__name__',
      from: String(sec(290)),
      until: String(sec(310)),
    });
    expect(inRange.body).toEqual(['cmp.alloc_objects']);
    const envs = await getJson('/label-values', { label: 'env', query: 'app.cpu' });
    expect(envs.body).toEqual(['dev', 'prod']);
    const prodOnly = await getJson('/label-values', { label: 'env', query: 'app.alloc_space' });
    expect(prodOnly.body).toEqual(['prod']);
    const ofUnknown = await getJson('/label-values', { label: 'env', query: 'nobody.cpu' });
    expect(ofUnknown.body).toEqual([]);

    const apps = await getJson('/api/apps');
    expect(apps.body).toEqual([
      { name: 'app.alloc_space', spyName: 'unknown', sampleRate: 100, units: 'bytes' },
      { name: 'app.cpu', spyName: 'rbspy', sampleRate: 1e9, units: 'samples' },
      { name: 'cmp.alloc_objects', spyName: 'unknown', sampleRate: 100, units: 'objects' },
      { name: 'goapp.cpu', spyName: 'gospy', sampleRate: 1e9, units: 'samples' },
      { name: 'goapp.process_cpu_samples', spyName: 'gospy', sampleRate: 100, units: 'objects' },
    ]);
  });

  test('bad inputs: 400 with {code, message}', async () => {
    const cases: [string, Record<string, string>][] = [
      ['/render', {}],
      ['/render', { query: 'app.cpu', format: 'svg' }],
      ['/render', { query: 'app.cpu{env=prod}' }],
      ['/render', { query: '{env="prod"}' }],
      ['/render', { name: '{env=prod}' }],
      ['/render', { query: 'app.cpu', maxNodes: '-1' }],
      ['/render-diff', { leftQuery: 'app.cpu' }],
      ['/render-diff', { leftQuery: 'app.cpu', rightQuery: 'app.cpu', format: 'pprof' }],
      ['/label-values', {}],
      ['/labels', { query: 'app.cpu{' }],
    ];
    for (const [path, query] of cases) {
      const { status, body } = await getJson(path, query);
      expect({ path, query, status }).toEqual({ path, query, status: 400 });
      expect(body).toEqual({ code: 'invalid_argument', message: expect.any(String) });
    }
  });
});
