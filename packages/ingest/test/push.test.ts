import { labelValue } from '@emberscope/model';
import { decodeProfile } from '@emberscope/pprof';
import { describe, expect, test } from 'vitest';
import { ingestPush, type PushSeries } from '../src/index.js';
import {
  context,
  expectIngestError,
  foldedOf,
  NOW_NS,
  pprofBytes,
  profileTypeIds,
  type TestSample,
} from './helpers.js';

const CPU = {
  sampleTypes: [['cpu', 'nanoseconds']],
  periodType: ['cpu', 'nanoseconds'],
  period: 10_000_000,
} as const;
const cpuProfile = (samples: TestSample[] = [[['main', 'work'], [10_000_000]]], gzip = false) =>
  pprofBytes(
    { ...CPU, timeNanos: 1_795_702_079_000_000_000n, durationNanos: 10_000_000_000n },
    samples,
    gzip,
  );

function series(labels: Record<string, string> | [string, string][], ...profiles: Uint8Array[]): PushSeries {
  const pairs = Array.isArray(labels) ? labels : Object.entries(labels);
  return {
    labels: pairs.map(([name, value]) => ({ name, value })),
    samples: profiles.map((rawProfile) => ({ rawProfile, id: '734fd599-6865-419e-9475-932762a4c3a5' })),
  };
}

const labelMap = (labels: readonly { name: string; value: string }[]) =>
  Object.fromEntries(labels.map((l) => [l.name, l.value]));

describe('ingestPush', () => {
  test('a pyroscope-rs style series: labels sanitized and completed, payload kept as sent', () => {
    const raw = cpuProfile(undefined, true);
    const [p] = ingestPush(
      [
        series(
          {
            __name__: 'process_cpu',
            service_name: 'checkout',
            'otel.scope.name': 'com.grafana.pyroscope/rust',
            'process.runtime.name': 'rust',
            __session_id__: 'abc',
          },
          raw,
        ),
      ],
      context({ tenant: 'tenant-a' }),
    );
    expect(p.tenant).toBe('tenant-a');
    expect(p.partition).toBe('checkout');
    expect(p.payload).toBe(raw);
    expect(decodeProfile(p.payload)).toEqual(p.profile);
    expect(p.timeNanos).toBe(1_795_702_079_000_000_000n);
    expect(p.durationNanos).toBe(10_000_000_000n);
    expect(p.series).toHaveLength(1);
    expect(labelMap(p.series[0].labels)).toEqual({
      __name__: 'process_cpu',
      __period_type__: 'cpu',
      __period_unit__: 'nanoseconds',
      __profile_type__: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      __session_id__: 'abc',
      __type__: 'cpu',
      __unit__: 'nanoseconds',
      otel_scope_name: 'com.grafana.pyroscope/rust',
      process_runtime_name: 'rust',
      service_name: 'checkout',
    });
    expect(p.series[0].labels.map((l) => l.name)).toEqual([...p.series[0].labels.map((l) => l.name)].sort());
  });

  test('service_name defaults to unknown_service; __delta__, __otel__ and __order__ are consumed', () => {
    for (const serviceName of [undefined, '']) {
      const labels = { __name__: 'process_cpu', __delta__: 'false', __otel__: 'true', __order__: '1' };
      const [p] = ingestPush(
        [
          series(
            { ...labels, ...(serviceName !== undefined && { service_name: serviceName }) },
            cpuProfile(),
          ),
        ],
        context(),
      );
      expect(p.partition).toBe('unknown_service');
      expect(labelMap(p.series[0].labels)).not.toHaveProperty('__delta__');
      expect(labelMap(p.series[0].labels)).not.toHaveProperty('__otel__');
      expect(labelMap(p.series[0].labels)).not.toHaveProperty('__order__');
      expect(labelValue(p.series[0].labels, 'service_name')).toBe('unknown_service');
    }
  });

  test('time_nanos 0 means now; no period gives IDs ending in "::"', () => {
    const raw = pprofBytes({ sampleTypes: [['goroutine', 'count']] }, [[['a'], [1]]]);
    const [p] = ingestPush([series({ __name__: 'goroutine', service_name: 's' }, raw)], context());
    expect(p.timeNanos).toBe(NOW_NS);
    expect(profileTypeIds([p])).toEqual(['goroutine:goroutine:count::']);
    expect(labelMap(p.series[0].labels)).not.toHaveProperty('__period_type__');
  });

  test('several series and samples; empty profiles and sample-less series store nothing', () => {
    const labels = { __name__: 'process_cpu', service_name: 's' };
    const empty = pprofBytes(CPU, []);
    const stored = ingestPush(
      [
        series(labels, cpuProfile(), cpuProfile(), empty),
        series(labels),
        series({ ...labels, service_name: 't' }, cpuProfile()),
      ],
      context(),
    );
    expect(stored.map((p) => p.partition)).toEqual(['s', 's', 't']);
  });

  test('string sample labels split series; span_id, trace_id and profile_id do not', () => {
    const raw = cpuProfile([
      [['main', 'a'], [1], { 'thread.name': 'worker', span_id: '1' }],
      [['main', 'b'], [2], { 'thread.name': 'worker', trace_id: 't', span_id: '2' }],
      [['main', 'c'], [4], { 'thread.name': 'io', profile_id: 'p' }],
      [['main', 'd'], [8]],
    ]);
    const [p] = ingestPush(
      [series({ __name__: 'process_cpu', service_name: 's', 'thread.name': 'series-level' }, raw)],
      context(),
    );
    expect(p.series.map((s) => [labelValue(s.labels, 'thread_name'), [...(s.samples ?? [])]])).toEqual([
      ['worker', [0, 1]],
      ['io', [2]],
      ['series-level', [3]], // an unlabelled sample keeps the series labels
    ]);
    for (const s of p.series) {
      expect(labelMap(s.labels)).not.toHaveProperty('span_id');
      expect(labelMap(s.labels)).not.toHaveProperty('trace_id');
      expect(labelMap(s.labels)).not.toHaveProperty('profile_id');
    }
    expect(foldedOf(p)).toEqual(
      new Map([
        ['main;a', 1],
        ['main;b', 2],
        ['main;c', 4],
        ['main;d', 8],
      ]),
    );
  });

  test('sample label order does not matter for grouping', () => {
    const raw = cpuProfile([
      [['a'], [1], { x: '1', y: '2' }],
      [['b'], [1], { y: '2', x: '1' }],
      [['c'], [1], { x: '2', y: '1' }],
    ]);
    const [p] = ingestPush([series({ __name__: 'process_cpu' }, raw)], context());
    expect(p.series.map((s) => [...(s.samples ?? [])])).toEqual([[0, 1], [2]]);
  });

  test('one series per sample type and group', () => {
    const raw = pprofBytes(
      {
        sampleTypes: [
          ['samples', 'count'],
          ['cpu', 'nanoseconds'],
        ],
        periodType: ['cpu', 'nanoseconds'],
        period: 1,
      },
      [
        [['a'], [1, 10], { h: 'x' }],
        [['b'], [2, 20], { h: 'y' }],
      ],
    );
    const [p] = ingestPush([series({ __name__: 'process_cpu' }, raw)], context());
    expect(
      p.series.map((s) => [
        s.sampleType,
        labelValue(s.labels, 'h'),
        labelValue(s.labels, '__profile_type__'),
      ]),
    ).toEqual([
      [0, 'x', 'process_cpu:samples:count:cpu:nanoseconds'],
      [1, 'x', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds'],
      [0, 'y', 'process_cpu:samples:count:cpu:nanoseconds'],
      [1, 'y', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds'],
    ]);
  });
});

describe('ingestPush errors (all 400 invalid_argument)', () => {
  const ok = { __name__: 'process_cpu', service_name: 's' };
  const invalid = (reason: string, message: RegExp | string) => ({
    status: 400,
    code: 'invalid_argument',
    reason,
    message,
  });

  test.each<[string, [string, string][], ReturnType<typeof invalid>]>([
    [
      'missing __name__',
      [['service_name', 's']],
      invalid('bad_label', /invalid profile name "" .*label __name__ is required/),
    ],
    [
      '__name__ with a dash',
      [['__name__', 'process-cpu']],
      invalid('bad_label', /invalid profile name "process-cpu"/),
    ],
    ['__name__ with a colon', [['__name__', 'a:b']], invalid('bad_label', /invalid profile name "a:b"/)],
    [
      '__name__ starting with a digit',
      [['__name__', '1cpu']],
      invalid('bad_label', /invalid profile name "1cpu"/),
    ],
    [
      'label name with a dash',
      [...Object.entries(ok), ['my-label', 'v']],
      invalid(
        'bad_label',
        "invalid label name \"my-label\": label names may only contain A-Z a-z 0-9 _ (and '.', stored as '_') and must not start with a digit",
      ),
    ],
    [
      'label name with a space',
      [...Object.entries(ok), ['a b', 'v']],
      invalid('bad_label', /invalid label name "a b"/),
    ],
    [
      'label name starting with a digit',
      [...Object.entries(ok), ['1x', 'v']],
      invalid('bad_label', /invalid label name "1x"/),
    ],
    ['empty label name', [...Object.entries(ok), ['', 'v']], invalid('bad_label', /invalid label name ""/)],
    [
      'duplicate label',
      [...Object.entries(ok), ['env', 'a'], ['env', 'b']],
      invalid('bad_label', 'duplicate label name "env"'),
    ],
    [
      'duplicate after dots',
      [...Object.entries(ok), ['a_b', '1'], ['a.b', '2']],
      invalid('bad_label', /duplicate label name "a_b" \("a.b" after replacing/),
    ],
    [
      'too many labels',
      [...Object.entries(ok), ...Array.from({ length: 29 }, (_, i): [string, string] => [`l${i}`, 'v'])],
      invalid('limit_labels', /has 31 labels, more than the limit of 30/),
    ],
    [
      'too long label value',
      [...Object.entries(ok), ['k', 'é'.repeat(1025)]],
      invalid('limit_label_value', /value of label "k" .* longer than the limit of 2048 bytes/),
    ],
    [
      'too long label name',
      [...Object.entries(ok), ['k'.repeat(1025), 'v']],
      invalid('limit_label_name', /longer than the limit of 1024 bytes/),
    ],
  ])('%s', (_, labels, expected) => {
    expectIngestError(() => ingestPush([series(labels, cpuProfile())], context()), expected);
  });

  test('30 labels are fine; __delta__ does not count', () => {
    const labels: [string, string][] = [
      ...Object.entries(ok),
      ['__delta__', 'false'],
      ...Array.from({ length: 28 }, (_, i): [string, string] => [`l${i}`, 'v']),
    ];
    expect(ingestPush([series(labels, cpuProfile())], context())).toHaveLength(1);
  });

  test('labels are checked for series without samples too', () => {
    expectIngestError(
      () => ingestPush([series({ service_name: 's' })], context()),
      invalid('bad_label', /__name__ is required/),
    );
  });

  test('a sample label with an invalid name', () => {
    const raw = cpuProfile([[['a'], [1], { 'bad-key': 'v' }]]);
    expectIngestError(
      () => ingestPush([series(ok, raw)], context()),
      invalid('bad_label', /invalid label name "bad-key"/),
    );
  });

  test('sample labels count against the label limit', () => {
    const raw = cpuProfile([[['a'], [1], { a: '1', b: '2' }]]);
    expectIngestError(
      () => ingestPush([series(ok, raw)], context({ limits: { maxLabelsPerSeries: 3 } })),
      invalid('limit_labels', /has 4 labels/),
    );
  });

  test('a truncated or empty profile names the series and sample', () => {
    expectIngestError(
      () =>
        ingestPush(
          [series(ok, cpuProfile()), series(ok, cpuProfile(), cpuProfile(undefined, true).subarray(0, 30))],
          context(),
        ),
      invalid('bad_profile', /^series 1 sample 1: profile is not a valid pprof \(bad_gzip\)/),
    );
    expectIngestError(
      () => ingestPush([series(ok, cpuProfile().subarray(0, 20))], context()),
      invalid('bad_profile', /^series 0 sample 0: profile is not a valid pprof \(truncated\)/),
    );
    expectIngestError(
      () => ingestPush([series(ok, new Uint8Array())], context()),
      invalid('bad_profile', /not a valid pprof/),
    );
  });

  test('too large, too many samples', () => {
    const many: TestSample[] = Array.from({ length: 3 }, (_, i) => [[`f${i}`], [1]]);
    expectIngestError(
      () => ingestPush([series(ok, cpuProfile(many))], context({ limits: { maxProfileBytes: 20 } })),
      invalid('too_large', /larger than the limit of 20 bytes after decompression/),
    );
    expectIngestError(
      () => ingestPush([series(ok, cpuProfile(many))], context({ limits: { maxSamplesPerProfile: 2 } })),
      invalid('limit_samples', 'profile has 3 samples, more than the limit of 2'),
    );
  });
});
