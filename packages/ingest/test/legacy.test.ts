import { labelValue } from '@emberscope/model';
import { decodeProfile } from '@emberscope/pprof';
import { describe, expect, test } from 'vitest';
import { ingestLegacy, type LegacyIngestRequest, selectLegacyFormat } from '../src/index.js';
import {
  context,
  expectIngestError,
  fixture,
  foldedOf,
  multipartBody,
  NOW_NS,
  node,
  pprofBytes,
  profileTypeIds,
} from './helpers.js';

const FROM_S = 1_795_702_079n;
const SECOND = 1_000_000_000n;

function request(
  query: Record<string, string>,
  body: Uint8Array | string,
  contentType = '',
): LegacyIngestRequest {
  return {
    query: new URLSearchParams({ from: String(FROM_S), until: String(FROM_S + 10n), ...query }),
    contentType,
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}

const ingest = (req: LegacyIngestRequest, ctx = context()) => ingestLegacy(req, ctx);

const labelsOf = (req: LegacyIngestRequest) =>
  Object.fromEntries(ingest(req)[0].series[0].labels.map((l) => [l.name, l.value]));

/** Every payload decodes to exactly the profile it travels with. */
function expectPayloadsMatch(req: LegacyIngestRequest): void {
  for (const p of ingest(req)) expect(decodeProfile(p.payload)).toEqual(p.profile);
}

describe('format selection (first matching rule wins)', () => {
  test.each<[string | null, string, string]>([
    ['trie', '', 'trie'],
    [null, 'binary/octet-stream+trie', 'trie'],
    ['trie', 'binary/octet-stream+tree', 'trie'],
    ['tree', '', 'tree'],
    [null, 'binary/octet-stream+tree; charset=x', 'tree'],
    ['lines', 'binary/octet-stream+tree', 'tree'],
    ['lines', 'multipart/form-data; boundary=b', 'lines'],
    ['jfr', 'multipart/form-data; boundary=b', 'jfr'],
    ['jfr', '', 'jfr'],
    ['pprof', 'multipart/form-data; boundary=b', 'pprof'],
    ['pprof', 'application/octet-stream', 'pprof'],
    ['speedscope', '', 'speedscope'],
    [null, 'multipart/form-data; boundary=----formdata-undici-033728650777', 'multipart'],
    [null, 'Multipart/Form-Data; boundary=x', 'multipart'],
    ['folded', 'multipart/form-data; boundary=b', 'multipart'],
    ['folded', '', 'folded'],
    ['collapsed', 'binary/octet-stream', 'folded'],
    [null, '', 'folded'],
    ['whatever', 'text/plain', 'folded'],
  ])('format=%j Content-Type %j → %s', (format, contentType, expected) => {
    expect(selectLegacyFormat(format, contentType)).toBe(expected);
  });
});

describe('text formats', () => {
  test('folded cpu at 100 Hz: values in nanoseconds, time from `from`, common labels', () => {
    const req = request({ name: 'myapp.cpu{env=prod}', spyName: 'pyspy' }, 'main;work 3\nmain;idle 1\n');
    const [p] = ingest(req);
    expect(p.tenant).toBe('anonymous');
    expect(p.partition).toBe('myapp');
    expect(p.timeNanos).toBe(FROM_S * SECOND);
    expect(p.durationNanos).toBe(10n * SECOND);
    expect(p.profile.timeNanos).toBe(FROM_S * SECOND);
    expect(p.profile.period).toBe(10_000_000);
    expect(foldedOf(p)).toEqual(
      new Map([
        ['main;work', 30_000_000],
        ['main;idle', 10_000_000],
      ]),
    );
    expect(p.series).toEqual([
      {
        sampleType: 0,
        labels: [
          { name: '__name__', value: 'process_cpu' },
          { name: '__period_type__', value: 'cpu' },
          { name: '__period_unit__', value: 'nanoseconds' },
          { name: '__profile_type__', value: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds' },
          { name: '__type__', value: 'cpu' },
          { name: '__unit__', value: 'nanoseconds' },
          { name: 'env', value: 'prod' },
          { name: 'pyroscope_spy', value: 'pyspy' },
          { name: 'service_name', value: 'myapp' },
        ],
      },
    ]);
    expectPayloadsMatch(req);
  });

  // v1's suffix table (convertMetadata)
  test.each([
    ['myapp', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'process_cpu:samples:count::'],
    ['myapp.cpu', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'process_cpu:samples:count::'],
    ['myapp.itimer', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'process_cpu:samples:count::'],
    ['myapp.wall', 'wall:wall:nanoseconds:cpu:nanoseconds', 'wall:samples:count::'],
    ['myapp.seconds', 'wall:wall:nanoseconds:cpu:nanoseconds', 'wall:samples:count::'],
    ['myapp.milliseconds', 'wall:wall:nanoseconds:cpu:nanoseconds', 'wall:samples:count::'],
    ['myapp.microseconds', 'wall:wall:nanoseconds:cpu:nanoseconds', 'wall:samples:count::'],
    ['myapp.nanoseconds', 'wall:wall:nanoseconds:cpu:nanoseconds', 'wall:samples:count::'],
    ['myapp.inuse_objects', 'memory:inuse_objects:count::', 'memory:inuse_objects:count::'],
    ['myapp.alloc_objects', 'memory:alloc_objects:count::', 'memory:alloc_objects:count::'],
    ['myapp.inuse_space', 'memory:inuse_space:bytes::', 'memory:inuse_space:bytes::'],
    ['my.app.alloc_space', 'memory:alloc_space:bytes::', 'memory:alloc_space:bytes::'],
    ['myapp.goroutines', 'goroutine:goroutines:count::', 'goroutine:goroutines:count::'],
    ['myapp.mutex_count', 'mutex:contentions:count::', 'mutex:contentions:count::'],
    ['myapp.mutex_duration', 'mutex:delay:nanoseconds::', 'mutex:delay:nanoseconds::'],
    ['myapp.block_count', 'block:contentions:count::', 'block:contentions:count::'],
    ['myapp.block_duration', 'block:delay:nanoseconds::', 'block:delay:nanoseconds::'],
    ['myapp.lock_count', 'block:contentions:count::', 'block:contentions:count::'],
    ['myapp.lock_duration', 'block:delay:nanoseconds::', 'block:delay:nanoseconds::'],
    [
      'myapp.alloc_in_new_tlab_objects',
      'memory:alloc_in_new_tlab_objects:count::',
      'memory:alloc_in_new_tlab_objects:count::',
    ],
    [
      'myapp.alloc_in_new_tlab_bytes',
      'memory:alloc_in_new_tlab_bytes:bytes::',
      'memory:alloc_in_new_tlab_bytes:bytes::',
    ],
    [
      'myapp.alloc_outside_tlab_objects',
      'memory:alloc_outside_tlab_objects:count::',
      'memory:alloc_outside_tlab_objects:count::',
    ],
    [
      'myapp.alloc_outside_tlab_bytes',
      'memory:alloc_outside_tlab_bytes:bytes::',
      'memory:alloc_outside_tlab_bytes:bytes::',
    ],
    ['myapp.live', 'memory:live:count::', 'memory:live:count::'],
    ['myapp.exceptions', 'exceptions:samples:count::', 'exceptions:samples:count::'],
    ['myapp.bytes', 'memory:samples:bytes::', 'memory:samples:bytes::'],
  ])('%s → %s (sampleRate 100), %s (sampleRate 0)', (name, at100, at0) => {
    expect(profileTypeIds(ingest(request({ name, sampleRate: '100' }, 'a;b 2')))).toEqual([at100]);
    expect(profileTypeIds(ingest(request({ name, sampleRate: '0' }, 'a;b 2')))).toEqual([at0]);
    expect(labelsOf(request({ name }, 'a;b 2')).service_name).toBe(
      name.slice(0, name.lastIndexOf('.') >>> 0),
    );
  });

  test('sampleRate: default and invalid values mean 100 Hz, 0 means plain counts', () => {
    const cpuValue = (sampleRate?: string) =>
      [
        ...foldedOf(
          ingest(request({ name: 'a.cpu', ...(sampleRate !== undefined && { sampleRate }) }, 'x 2'))[0],
        ).values(),
      ][0];
    expect(cpuValue()).toBe(20_000_000);
    expect(cpuValue('100')).toBe(20_000_000);
    expect(cpuValue('abc')).toBe(20_000_000);
    expect(cpuValue('1.5')).toBe(20_000_000);
    expect(cpuValue('-5')).toBe(20_000_000);
    expect(cpuValue('17')).toBe(2 * 58_823_529); // integer division, as in Go
    expect(cpuValue('0')).toBe(2);
  });

  test('lines, trie and tree bodies', () => {
    const expected = new Map([
      ['main;a', 2],
      ['main;b', 1],
    ]);
    const lines = ingest(request({ name: 'app.alloc_objects', format: 'lines' }, 'main;a\nmain;b\nmain;a\n'));
    expect(foldedOf(lines[0])).toEqual(expected);
    const trie = Uint8Array.from([...node('main;', 0, 2), ...node('a', 2, 0), ...node('b', 1, 0)]);
    expect(foldedOf(ingest(request({ name: 'app.alloc_objects', format: 'trie' }, trie))[0])).toEqual(
      expected,
    );
    expect(
      foldedOf(ingest(request({ name: 'app.alloc_objects' }, trie, 'binary/octet-stream+trie'))[0]),
    ).toEqual(expected);
    const tree = Uint8Array.from([
      ...node('', 0, 1),
      ...node('main', 0, 2),
      ...node('a', 2, 0),
      ...node('b', 1, 0),
    ]);
    expect(foldedOf(ingest(request({ name: 'app.alloc_objects', format: 'tree' }, tree))[0])).toEqual(
      expected,
    );
    expectPayloadsMatch(request({ name: 'app.alloc_objects', format: 'tree' }, tree));
  });

  test('labels: dots become underscores, private keys dropped except __session_id__, app_name', () => {
    expect(
      labelsOf(
        request(
          { name: 'app.cpu{__session_id__=abc,__secret__=x,otel.scope.name=com.grafana.pyroscope/go}' },
          'a 1',
        ),
      ),
    ).toMatchObject({
      __session_id__: 'abc',
      otel_scope_name: 'com.grafana.pyroscope/go',
      service_name: 'app',
    });
    expect(labelsOf(request({ name: 'app.cpu{__secret__=x}' }, 'a 1'))).not.toHaveProperty('__secret__');
    // a user service_name wins; the app name is kept as app_name unless that is set too
    expect(labelsOf(request({ name: 'app.cpu{service_name=svc}' }, 'a 1'))).toMatchObject({
      service_name: 'svc',
      app_name: 'app',
    });
    expect(labelsOf(request({ name: 'app.cpu{service_name=svc,app_name=mine}' }, 'a 1'))).toMatchObject({
      service_name: 'svc',
      app_name: 'mine',
    });
    expect(ingest(request({ name: 'app.cpu{service_name=svc}' }, 'a 1'))[0].partition).toBe('svc');
    expect(labelsOf(request({ name: 'app' }, 'a 1')).pyroscope_spy).toBe('unknown');
  });

  test('text uploads of exemplars (profile_id) are accepted and dropped; so are empty bodies', () => {
    expect(ingest(request({ name: 'app.cpu{profile_id=abc}' }, 'a 1'))).toEqual([]);
    expect(ingest(request({ name: 'app.cpu' }, ''))).toEqual([]);
    expect(ingest(request({ name: 'app.cpu' }, 'line-without-count\n'))).toEqual([]);
  });

  test('from/until default to now', () => {
    const [p] = ingest({
      query: new URLSearchParams({ name: 'app' }),
      contentType: '',
      body: Buffer.from('a 1'),
    });
    expect(p.timeNanos).toBe(NOW_NS);
    expect(p.durationNanos).toBe(0n);
  });
});

// Exact JSON that pyroscope-go marshals (clients.md, "Per type").
const GO_CONFIGS = {
  goroutines: '{"goroutine":{"units":"goroutines","aggregation":"average","display-name":"goroutines"}}',
  heap: '{"alloc_objects":{"units":"objects"},"alloc_space":{"units":"bytes"},"inuse_objects":{"units":"objects","aggregation":"average"},"inuse_space":{"units":"bytes","aggregation":"average"}}',
  mutex:
    '{"contentions":{"units":"lock_samples","display-name":"mutex_count"},"delay":{"units":"lock_nanoseconds","display-name":"mutex_duration"}}',
  block:
    '{"contentions":{"units":"lock_samples","display-name":"block_count"},"delay":{"units":"lock_nanoseconds","display-name":"block_duration"}}',
};

const GO_PROFILES = {
  cpu: pprofBytes(
    {
      sampleTypes: [
        ['samples', 'count'],
        ['cpu', 'nanoseconds'],
      ],
      periodType: ['cpu', 'nanoseconds'],
      period: 10_000_000,
    },
    [[['main', 'handler'], [3, 30_000_000], { endpoint: '/api' }]],
    true,
  ),
  goroutines: pprofBytes(
    { sampleTypes: [['goroutine', 'count']], periodType: ['goroutine', 'count'], period: 1 },
    [[['main', 'wait'], [12]]],
    true,
  ),
  heap: pprofBytes(
    {
      sampleTypes: [
        ['alloc_objects', 'count'],
        ['alloc_space', 'bytes'],
        ['inuse_objects', 'count'],
        ['inuse_space', 'bytes'],
      ],
      periodType: ['space', 'bytes'],
      period: 524_288,
    },
    [
      [
        ['main', 'alloc'],
        [1, 512, 1, 512],
      ],
    ],
    true,
  ),
  contention: pprofBytes(
    {
      sampleTypes: [
        ['contentions', 'count'],
        ['delay', 'nanoseconds'],
      ],
      periodType: ['contentions', 'count'],
      period: 1,
    },
    [
      [
        ['main', 'lock'],
        [2, 5000],
      ],
    ],
    true,
  ),
};

function goRequest(profile: Uint8Array, config?: string): LegacyIngestRequest {
  const from = `${FROM_S}000000000`;
  const parts = [{ name: 'profile', filename: 'profile.pprof', content: profile }];
  if (config !== undefined)
    parts.push({
      name: 'sample_type_config',
      filename: 'sample_type_config.json',
      content: Buffer.from(config),
    });
  return {
    // url.Values.Encode(): sorted keys, all seven present even when empty
    query: new URLSearchParams(
      `aggregationType=&from=${from}&name=${encodeURIComponent('myapp{__session_id__=8c2f0b4e1d3a5f67,otel.scope.name=com.grafana.pyroscope/godeltaprof}')}&sampleRate=0&spyName=gospy&units=&until=${from}`,
    ),
    contentType: 'multipart/form-data; boundary=7b3c0b7e2f1a',
    body: multipartBody('7b3c0b7e2f1a', parts),
  };
}

describe('multipart pprof from the Go SDK', () => {
  test.each([
    [
      'cpu (no sample_type_config)',
      GO_PROFILES.cpu,
      undefined,
      ['process_cpu:samples:count:cpu:nanoseconds', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds'],
    ],
    [
      'goroutines',
      GO_PROFILES.goroutines,
      GO_CONFIGS.goroutines,
      ['goroutines:goroutine:count:goroutine:count'],
    ],
    [
      'heap',
      GO_PROFILES.heap,
      GO_CONFIGS.heap,
      [
        'memory:alloc_objects:count:space:bytes',
        'memory:alloc_space:bytes:space:bytes',
        'memory:inuse_objects:count:space:bytes',
        'memory:inuse_space:bytes:space:bytes',
      ],
    ],
    [
      'mutex',
      GO_PROFILES.contention,
      GO_CONFIGS.mutex,
      ['mutex:contentions:count:contentions:count', 'mutex:delay:nanoseconds:contentions:count'],
    ],
    [
      'block',
      GO_PROFILES.contention,
      GO_CONFIGS.block,
      ['block:contentions:count:contentions:count', 'block:delay:nanoseconds:contentions:count'],
    ],
    // without sample_type_config the defaults map contentions/delay to mutex_*: block looks like mutex
    [
      'block without config',
      GO_PROFILES.contention,
      undefined,
      ['mutex:contentions:count:contentions:count', 'mutex:delay:nanoseconds:contentions:count'],
    ],
    [
      'goroutines without config',
      GO_PROFILES.goroutines,
      undefined,
      ['goroutines:goroutine:count:goroutine:count'],
    ],
  ])('%s', (_, profile, config, ids) => {
    const req = goRequest(profile, config);
    const profiles = ingest(req);
    expect(profileTypeIds(profiles)).toEqual(ids);
    const [p] = profiles;
    expect(p.payload).toEqual(profile); // stored as received, gzip kept
    expectPayloadsMatch(req);
    const labels = p.series[0].labels;
    expect(labelValue(labels, 'service_name')).toBe('myapp');
    expect(labelValue(labels, '__session_id__')).toBe('8c2f0b4e1d3a5f67');
    expect(labelValue(labels, 'otel_scope_name')).toBe('com.grafana.pyroscope/godeltaprof');
    expect(labelValue(labels, 'pyroscope_spy')).toBe('gospy');
    expect(labelValue(labels, '__delta__')).toBe('');
  });

  test('pprof.Do labels on CPU samples become series labels', () => {
    const [p] = ingest(goRequest(GO_PROFILES.cpu));
    expect(p.series.map((s) => labelValue(s.labels, 'endpoint'))).toEqual(['/api', '/api']);
  });

  test('time_nanos 0 or in 1970 is replaced by `from`; a real one is kept', () => {
    const at = (timeNanos: bigint) =>
      ingest(
        request(
          { name: 'app', format: 'pprof' },
          pprofBytes({ sampleTypes: [['cpu', 'nanoseconds']], timeNanos }, [[['a'], [1]]]),
        ),
      )[0].timeNanos;
    expect(at(0n)).toBe(FROM_S * SECOND);
    expect(at(1_700_000_000_000_000n)).toBe(FROM_S * SECOND); // microseconds read as nanoseconds: 1970
    expect(at(1_700_000_000_000_000_000n)).toBe(1_700_000_000_000_000_000n);
  });

  test('the pprof path drops the app name when the name sets service_name', () => {
    const req = request({ name: 'app{service_name=svc}', format: 'pprof' }, GO_PROFILES.cpu);
    const labels = labelsOf(req);
    expect(labels.service_name).toBe('svc');
    expect(labels).not.toHaveProperty('app_name');
  });

  test('suffixes are not profile types for pprof: the whole name is the service', () => {
    expect(labelsOf(request({ name: 'my.app.cpu', format: 'pprof' }, GO_PROFILES.cpu)).service_name).toBe(
      'my.app.cpu',
    );
  });

  test('an empty profile part is accepted and stores nothing', () => {
    const req = goRequest(new Uint8Array());
    expect(ingest(req)).toEqual([]);
  });
});

describe('Node.js captures', () => {
  const captured = fixture('requests.jsonl')
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { url: string; contentType: string; savedAs: string });
  const capturedRequest = (savedAs: string): LegacyIngestRequest => {
    const r = captured.find((c) => c.savedAs === savedAs)!;
    return {
      query: new URLSearchParams(r.url.slice(r.url.indexOf('?') + 1)),
      contentType: r.contentType,
      body: fixture(savedAs),
    };
  };
  const nodeLabels = {
    env: 'test',
    region: 'eu-north',
    service_name: 'capture-test-app',
    pyroscope_spy: 'nodespy',
  };

  test('0.6.4 wall+cpu (format=pprof, gzip): wall IDs, one series group per handler', () => {
    const req = capturedRequest('nodejs-0.6.4-wall-cpu.pb.gz');
    const [p] = ingest(req);
    expect(p.payload).toEqual(req.body);
    expectPayloadsMatch(req);
    expect(p.partition).toBe('capture-test-app');
    expect(p.timeNanos).toBe(p.profile.timeNanos);
    expect(p.profile.sampleCount).toBe(509);
    expect(new Set(profileTypeIds([p]))).toEqual(
      new Set([
        'wall:samples:count:wall:nanoseconds',
        'wall:wall:nanoseconds:wall:nanoseconds',
        'wall:cpu:nanoseconds:wall:nanoseconds',
      ]),
    );
    // 3 groups (no handler, fib, hash) × 3 sample types
    expect(p.series).toHaveLength(9);
    const handlers = p.series.map((s) => labelValue(s.labels, 'handler'));
    expect(new Set(handlers)).toEqual(new Set(['', 'fib', 'hash']));
    let covered = 0;
    for (const series of p.series.filter((s) => s.sampleType === 0)) {
      expect(series.samples).toBeInstanceOf(Uint32Array);
      covered += series.samples!.length;
      const labels = Object.fromEntries(series.labels.map((l) => [l.name, l.value]));
      expect(labels).toMatchObject({
        ...nodeLabels,
        otel_scope_name: 'com.grafana.pyroscope/nodejs',
        otel_scope_version: '0.6.4',
        process_runtime_name: 'nodejs',
        process_runtime_version: '20.20.2',
      });
      for (const s of series.samples!) {
        const handler = p.profile.labelKey.length > 0 ? sampleLabel(p.profile, s, 'handler') : '';
        expect(handler).toBe(labels.handler ?? '');
      }
    }
    expect(covered).toBe(509); // every sample in exactly one group
  });

  test('0.6.4 heap (format=pprof, no sampleRate): memory IDs, a single group', () => {
    const [p] = ingest(capturedRequest('nodejs-0.6.4-heap.pb.gz'));
    expect(profileTypeIds([p])).toEqual([
      'memory:inuse_objects:count:inuse_space:bytes',
      'memory:inuse_space:bytes:inuse_space:bytes',
    ]);
    expect(p.series.every((s) => s.samples === undefined)).toBe(true);
    expect(p.durationNanos).toBe(0n);
  });

  test('0.4.13 heap (multipart, no format)', () => {
    const req = capturedRequest('nodejs-0.4.13-multipart-heap.body');
    const [p] = ingest(req);
    expect(profileTypeIds([p])).toEqual([
      'memory:inuse_objects:count:inuse_space:bytes',
      'memory:inuse_space:bytes:inuse_space:bytes',
    ]);
    expect(Object.fromEntries(p.series[1].labels.map((l) => [l.name, l.value]))).toEqual({
      ...nodeLabels,
      __name__: 'memory',
      __period_type__: 'inuse_space',
      __period_unit__: 'bytes',
      __profile_type__: 'memory:inuse_space:bytes:inuse_space:bytes',
      __type__: 'inuse_space',
      __unit__: 'bytes',
    });
    expectPayloadsMatch(req);
  });
});

function sampleLabel(profile: import('@emberscope/pprof').Profile, sample: number, key: string): string {
  for (let row = profile.sampleLabelStart[sample]; row < profile.sampleLabelStart[sample + 1]; row++) {
    if (profile.strings[profile.labelKey[row]] === key) return profile.strings[profile.labelStr[row]];
  }
  return '';
}

describe('errors', () => {
  const cpuPprof = GO_PROFILES.cpu;

  test.each([
    [
      'empty name',
      request({ name: '' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_name',
      /service name is required/,
    ],
    ['missing name', request({}, 'a 1'), 400, 'invalid_argument', 'bad_name', /service name is required/],
    [
      'bad name char',
      request({ name: 'my app' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_name',
      /contains " "/,
    ],
    [
      'bad name on the pprof path',
      request({ name: 'my app', format: 'pprof' }, cpuPprof),
      400,
      'invalid_argument',
      'bad_name',
      /contains/,
    ],
    [
      'unknown suffix',
      request({ name: 'my.app' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_name',
      /unknown profile type "app"/,
    ],
    [
      'bad folded count',
      request({ name: 'app' }, 'a;b 1\na;c x\n'),
      422,
      'invalid_argument',
      'bad_format',
      /folded line 2: count "x"/,
    ],
    [
      'truncated trie',
      request({ name: 'app', format: 'trie' }, Uint8Array.from([5, 0x61])),
      422,
      'invalid_argument',
      'bad_format',
      /trie body is truncated/,
    ],
    [
      'truncated pprof',
      request({ name: 'app', format: 'pprof' }, cpuPprof.subarray(0, 40)),
      422,
      'invalid_argument',
      'bad_profile',
      /not a valid pprof/,
    ],
    [
      'multipart body as format=pprof',
      { ...goRequest(cpuPprof), query: new URLSearchParams('name=app&format=pprof') },
      422,
      'invalid_argument',
      'bad_profile',
      /not a valid pprof/,
    ],
    [
      'prev_profile',
      {
        ...goRequest(cpuPprof),
        body: multipartBody('7b3c0b7e2f1a', [
          { name: 'profile', filename: 'profile.pprof', content: cpuPprof },
          { name: 'prev_profile', filename: 'profile.pprof', content: cpuPprof },
        ]),
      },
      422,
      'invalid_argument',
      'unsupported',
      /unsupported client version/,
    ],
    [
      'no profile part',
      {
        ...goRequest(cpuPprof),
        body: multipartBody('7b3c0b7e2f1a', [{ name: 'other', filename: 'x', content: 'x' }]),
      },
      422,
      'invalid_argument',
      'bad_format',
      /no file part named "profile"/,
    ],
    [
      'profile as a plain field',
      {
        ...goRequest(cpuPprof),
        body: multipartBody('7b3c0b7e2f1a', [{ name: 'profile', content: cpuPprof }]),
      },
      422,
      'invalid_argument',
      'bad_format',
      /no file part named "profile"/,
    ],
    [
      'multipart without boundary',
      { ...goRequest(cpuPprof), contentType: 'multipart/form-data' },
      422,
      'invalid_argument',
      'bad_format',
      /no boundary/,
    ],
    [
      'sample_type_config not JSON',
      goRequest(cpuPprof, '{nope'),
      422,
      'invalid_argument',
      'bad_format',
      /sample_type_config is not valid JSON/,
    ],
    [
      'sample_type_config wrong shape',
      goRequest(cpuPprof, '[1]'),
      422,
      'invalid_argument',
      'bad_format',
      /must be a JSON object/,
    ],
    [
      'sample_type_config wrong field type',
      goRequest(cpuPprof, '{"samples":{"display-name":5}}'),
      422,
      'invalid_argument',
      'bad_format',
      /"display-name" must be a string/,
    ],
    [
      'format=jfr',
      request({ name: 'app', format: 'jfr' }, 'x'),
      422,
      'unimplemented',
      'unsupported',
      /format=jfr is not supported yet/,
    ],
    [
      'format=jfr multipart',
      { ...goRequest(cpuPprof), query: new URLSearchParams('name=app&format=jfr') },
      422,
      'unimplemented',
      'unsupported',
      /format=jfr/,
    ],
    [
      'format=speedscope',
      request({ name: 'app', format: 'speedscope' }, '{}'),
      422,
      'unimplemented',
      'unsupported',
      /format=speedscope is not supported yet/,
    ],
    [
      'bad label on a text upload',
      request({ name: 'app{1x=v}' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_label',
      /invalid label name "1x"/,
    ],
    [
      'bad label on a pprof upload',
      request({ name: 'app{1x=v}', format: 'pprof' }, cpuPprof),
      422,
      'invalid_argument',
      'bad_label',
      /invalid label name "1x"/,
    ],
    [
      'duplicate after dots become underscores',
      request({ name: 'app{a.b=1,a_b=2}' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_label',
      /duplicate label name "a_b"/,
    ],
    [
      'user pyroscope_spy',
      request({ name: 'app{pyroscope_spy=x}' }, 'a 1'),
      400,
      'invalid_argument',
      'bad_label',
      /duplicate label name "pyroscope_spy"/,
    ],
  ])('%s → %i %s %s', (_, req, status, code, reason, message) => {
    expectIngestError(() => ingest(req), { status, code, reason, message });
  });

  test('too many samples: 400 on text formats, 422 on pprof', () => {
    const ctx = context({ limits: { maxSamplesPerProfile: 2 } });
    const folded = 'a 1\nb 1\nc 1\n';
    expectIngestError(() => ingest(request({ name: 'app' }, folded), ctx), {
      status: 400,
      code: 'invalid_argument',
      reason: 'limit_samples',
      message: 'profile has 3 samples, more than the limit of 2',
    });
    const pprof = pprofBytes({ sampleTypes: [['cpu', 'nanoseconds']] }, [
      [['a'], [1]],
      [['b'], [1]],
      [['c'], [1]],
    ]);
    expectIngestError(() => ingest(request({ name: 'app', format: 'pprof' }, pprof), ctx), {
      status: 422,
      code: 'invalid_argument',
      reason: 'limit_samples',
    });
  });

  test('too many labels, too long label names and values', () => {
    const manyLabels = Array.from({ length: 30 }, (_, i) => `l${i}=v`).join(',');
    expectIngestError(() => ingest(request({ name: `app{${manyLabels}}` }, 'a 1')), {
      status: 400,
      code: 'invalid_argument',
      reason: 'limit_labels',
      message: /has 33 labels, more than the limit of 30/,
    });
    expectIngestError(() => ingest(request({ name: `app{k=${'v'.repeat(2049)}}` }, 'a 1')), {
      status: 400,
      code: 'invalid_argument',
      reason: 'limit_label_value',
      message: /value of label "k" .* is longer than the limit of 2048 bytes/,
    });
    expectIngestError(() => ingest(request({ name: `app{${'k'.repeat(1025)}=v}` }, 'a 1')), {
      status: 400,
      code: 'invalid_argument',
      reason: 'limit_label_name',
      message: /longer than the limit of 1024 bytes/,
    });
  });

  test('too large after decompression, gzipped or not: 422 on /ingest', () => {
    const ctx = context({ limits: { maxProfileBytes: 100 } });
    const samples: [string[], number[]][] = Array.from({ length: 50 }, (_, i) => [[`f${i}`], [i + 1]]);
    for (const gzip of [false, true]) {
      const body = pprofBytes({ sampleTypes: [['cpu', 'nanoseconds']] }, samples, gzip);
      expectIngestError(() => ingest(request({ name: 'app', format: 'pprof' }, body), ctx), {
        status: 422,
        code: 'invalid_argument',
        reason: 'too_large',
        message: 'profile is larger than the limit of 100 bytes after decompression',
      });
    }
  });

  test('a sample type name with "-" is a bad profile', () => {
    const pprof = pprofBytes({ sampleTypes: [['inuse-space', 'bytes']] }, [[['a'], [1]]]);
    expectIngestError(() => ingest(request({ name: 'app', format: 'pprof' }, pprof)), {
      status: 422,
      code: 'invalid_argument',
      reason: 'bad_profile',
      message: /sample type 0 \("inuse-space", unit "bytes"\) is invalid/,
    });
  });
});
