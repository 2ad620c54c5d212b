import { labelValue } from '@emberscope/model';
import { decodeProfile } from '@emberscope/pprof';
import { describe, expect, test } from 'vitest';
import { DeltaState, type IngestedProfile, ingestPush, type PushSeries } from '../src/index.js';
import { context, foldedOf, pprofBytes, type TestSample } from './helpers.js';

const HEAP = {
  sampleTypes: [
    ['alloc_objects', 'count'],
    ['alloc_space', 'bytes'],
    ['inuse_objects', 'count'],
    ['inuse_space', 'bytes'],
  ],
  periodType: ['space', 'bytes'],
  period: 524_288,
} as const;

function push(
  deltas: DeltaState,
  samples: TestSample[],
  labels: Record<string, string> = {},
  tenant = 'anonymous',
) {
  const series: PushSeries = {
    labels: Object.entries({ __name__: 'memory', service_name: 'api', ...labels }).map(([name, value]) => ({
      name,
      value,
    })),
    samples: [{ rawProfile: pprofBytes(HEAP, samples, true), id: '' }],
  };
  return ingestPush([series], context({ deltas, tenant }));
}

/** Per stored series: its sample type name → folded values of that type. */
function valuesByType(profiles: IngestedProfile[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const p of profiles) {
    for (const s of p.series) {
      const folded = Object.fromEntries(foldedOf(p, s.sampleType));
      out[labelValue(s.labels, '__type__')] = folded;
    }
  }
  return out;
}

describe('server-side deltas of cumulative allocations (Push, memory, alloc_*)', () => {
  test('the first profile sets the baseline; later ones store differences, a decrease is a reset', () => {
    const deltas = new DeltaState();
    const first = push(deltas, [
      [
        ['main', 'a'],
        [10, 1000, 1, 100],
      ],
      [
        ['main', 'b'],
        [5, 500, 2, 200],
      ],
    ]);
    // only the inuse (snapshot) series are stored, from the payload as sent
    expect(first[0].payload[0]).toBe(0x1f);
    expect(valuesByType(first)).toEqual({
      inuse_objects: { 'main;a': 1, 'main;b': 2 },
      inuse_space: { 'main;a': 100, 'main;b': 200 },
    });

    const second = push(deltas, [
      [
        ['main', 'a'],
        [15, 1500, 3, 300],
      ],
      [
        ['main', 'b'],
        [2, 200, 2, 200],
      ], // went down: the process restarted, store the new value
      [
        ['main', 'c'],
        [7, 700, 0, 0],
      ], // new stack
    ]);
    expect(valuesByType(second)).toEqual({
      alloc_objects: { 'main;a': 5, 'main;b': 2, 'main;c': 7 },
      alloc_space: { 'main;a': 500, 'main;b': 200, 'main;c': 700 },
      inuse_objects: { 'main;a': 3, 'main;b': 2, 'main;c': 0 },
      inuse_space: { 'main;a': 300, 'main;b': 200, 'main;c': 0 },
    });
    const [p] = second;
    expect(decodeProfile(p.payload)).toEqual(p.profile); // re-encoded with the new values

    // a stack missing from one profile keeps its baseline
    const third = push(deltas, [
      [
        ['main', 'a'],
        [15, 1500, 0, 0],
      ],
      [
        ['main', 'c'],
        [9, 900, 0, 0],
      ],
    ]);
    const fourth = push(deltas, [
      [
        ['main', 'b'],
        [4, 400, 0, 0],
      ],
    ]);
    expect(valuesByType(third).alloc_objects).toEqual({ 'main;a': 0, 'main;c': 2 });
    expect(valuesByType(fourth).alloc_objects).toEqual({ 'main;b': 2 });
  });

  test('samples of one stack add up (one sample per allocation size) before the difference', () => {
    const deltas = new DeltaState();
    push(deltas, [
      [
        ['main', 'a'],
        [1, 16, 0, 0],
      ],
      [
        ['main', 'a'],
        [2, 64, 0, 0],
      ],
    ]);
    const [p] = push(deltas, [
      [
        ['main', 'a'],
        [4, 64, 0, 0],
      ],
      [
        ['main', 'a'],
        [2, 64, 0, 0],
      ],
    ]);
    expect(valuesByType([p]).alloc_objects).toEqual({ 'main;a': 3 });
    expect(valuesByType([p]).alloc_space).toEqual({ 'main;a': 48 });
    expect(p.profile.values.slice(0, 4)).toEqual(Float64Array.from([3, 48, 0, 0])); // on the first sample
    expect(p.profile.values.slice(4)).toEqual(Float64Array.from([0, 0, 0, 0]));
  });

  test('a profile of only cumulative types stores nothing the first time', () => {
    const deltas = new DeltaState();
    const allocOnly = { sampleTypes: [['alloc_space', 'bytes']] } as const;
    const series: PushSeries = {
      labels: [{ name: '__name__', value: 'memory' }],
      samples: [{ rawProfile: pprofBytes(allocOnly, [[['a'], [100]]]), id: '' }],
    };
    expect(ingestPush([series], context({ deltas }))).toEqual([]);
    expect(ingestPush([series], context({ deltas }))).toHaveLength(1);
  });

  test('__delta__="false" stores values as sent; other values of __delta__ do not', () => {
    const deltas = new DeltaState();
    const samples: TestSample[] = [[['a'], [10, 1000, 1, 100]]];
    expect(valuesByType(push(deltas, samples, { __delta__: 'false' })).alloc_objects).toEqual({ a: 10 });
    expect(valuesByType(push(deltas, samples, { __delta__: 'false' })).alloc_objects).toEqual({ a: 10 });
    expect(deltas.size).toBe(0);
    expect(valuesByType(push(deltas, samples, { __delta__: 'true' })).alloc_objects).toBeUndefined();
    expect(valuesByType(push(deltas, samples, { __delta__: 'true' })).alloc_objects).toEqual({ a: 0 });
  });

  test('only memory series are cumulative', () => {
    const deltas = new DeltaState();
    const samples: TestSample[] = [[['a'], [10, 1000, 1, 100]]];
    for (let i = 0; i < 2; i++) {
      expect(valuesByType(push(deltas, samples, { __name__: 'alloc' })).alloc_objects).toEqual({ a: 10 });
    }
    expect(deltas.size).toBe(0);
  });

  test('baselines are per series: tenant, labels and sample-label group', () => {
    const deltas = new DeltaState();
    const samples = (n: number): TestSample[] => [
      [['a'], [n, n, 0, 0], { handler: 'x' }],
      [['a'], [2 * n, 2 * n, 0, 0], { handler: 'y' }],
    ];
    push(deltas, samples(1));
    expect(deltas.size).toBe(4); // 2 groups × 2 alloc types
    const second = push(deltas, samples(5));
    expect(
      second[0].series.map((s) => [labelValue(s.labels, 'handler'), labelValue(s.labels, '__type__')]),
    ).toContainEqual(['y', 'alloc_objects']);
    const allocObjects = second[0].series.filter((s) => labelValue(s.labels, '__type__') === 'alloc_objects');
    expect(
      allocObjects.map((s) => [labelValue(s.labels, 'handler'), second[0].profile.values[s.samples![0] * 4]]),
    ).toEqual([
      ['x', 4],
      ['y', 8],
    ]);
    // another tenant or another label set starts from scratch
    expect(valuesByType(push(deltas, samples(9), {}, 'other')).alloc_objects).toBeUndefined();
    expect(valuesByType(push(deltas, samples(9), { env: 'prod' })).alloc_objects).toBeUndefined();
  });

  test('at most maxSeries baselines, least recently used forgotten first', () => {
    const deltas = new DeltaState({ maxSeries: 2 });
    const samples: TestSample[] = [[['a'], [10, 1000, 1, 100]]];
    push(deltas, samples, { env: 'a' });
    push(deltas, samples, { env: 'b' }); // evicts env=a (both of its series)
    expect(deltas.size).toBe(2);
    expect(valuesByType(push(deltas, samples, { env: 'a' })).alloc_objects).toBeUndefined(); // baseline again
    expect(valuesByType(push(deltas, samples, { env: 'a' })).alloc_objects).toEqual({ a: 0 });
  });

  test('a refused request leaves no baseline behind', () => {
    const deltas = new DeltaState();
    const good: PushSeries = {
      labels: [{ name: '__name__', value: 'memory' }],
      samples: [{ rawProfile: pprofBytes(HEAP, [[['a'], [1, 1, 1, 1]]]), id: '' }],
    };
    const bad: PushSeries = { labels: [{ name: 'bad-name', value: 'x' }], samples: [] };
    expect(() => ingestPush([good, bad], context({ deltas }))).toThrow(/invalid label name/);
    expect(deltas.size).toBe(0);
  });
});
