import { toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { pprofProto, QuerierService, TimeSeriesAggregationType } from '@emberscope/api';
import { decodeProfile, numSampleTypes } from '@emberscope/pprof';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpuProfile, cpuType, startTestServer } from './helpers.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/**
 * The query API through a client generated from the same protos, speaking binary Connect as Grafana's
 * Pyroscope data source does.
 */
describe('querier.v1 over binary Connect', () => {
  let s: TestServer;
  let client: ReturnType<typeof createClient<typeof QuerierService>>;
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000; // a minute boundary 10 min ago
  const at = (offsetS: number) => BigInt(t0 + offsetS * 1000) * 1_000_000n;

  beforeAll(async () => {
    s = await startTestServer();
    client = createClient(QuerierService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }));
    const post = (name: string, body: Buffer) =>
      fetch(`${s.url}/ingest?name=${encodeURIComponent(name)}&format=pprof`, { method: 'POST', body });
    // checkout: 3 profiles at +5 s, +20 s, +65 s; two pods. search: 1 profile.
    expect(
      (await post('checkout{pod=a}', cpuProfile({ 'main;handle;json': 4, 'main;idle': 1 }, at(5)))).status,
    ).toBe(200);
    expect((await post('checkout{pod=b}', cpuProfile({ 'main;handle;db': 2 }, at(20)))).status).toBe(200);
    expect((await post('checkout{pod=a}', cpuProfile({ 'main;handle;json': 6 }, at(65)))).status).toBe(200);
    expect((await post('search{pod=c}', cpuProfile({ 'main;query': 9 }, at(30)))).status).toBe(200);
  });
  afterAll(() => s.stop());

  const range = () => ({ start: BigInt(t0), end: BigInt(t0 + 120_000) });

  test('ProfileTypes, LabelNames, LabelValues as the data source asks them', async () => {
    const types = await client.profileTypes(range());
    expect(types.profileTypes.map((t) => t.ID)).toEqual([
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      'process_cpu:samples:count:cpu:nanoseconds',
    ]);
    expect(types.profileTypes[0]).toMatchObject({
      name: 'process_cpu',
      sampleType: 'cpu',
      sampleUnit: 'nanoseconds',
    });
    const names = await client.labelNames({ matchers: [`{__profile_type__="${cpuType}"}`], ...range() });
    expect(names.names).toEqual(expect.arrayContaining(['__name__', 'pod', 'service_name']));
    const values = await client.labelValues({
      name: 'pod',
      matchers: ['{service_name="checkout"}'],
      ...range(),
    });
    expect(values.names).toEqual(['a', 'b']);
  });

  test('SelectSeries: buckets (ts-step, ts], group_by, limit, AVERAGE', async () => {
    const base = { profileTypeID: cpuType, labelSelector: '{service_name="checkout"}', ...range() };
    const sum = await client.selectSeries({ ...base, step: 60 });
    expect(sum.series).toHaveLength(1);
    // +5 s and +20 s fall in (t0, t0+60]; +65 s in (t0+60, t0+120].
    expect(sum.series[0].points.map((p) => [Number(p.timestamp) - t0, p.value])).toEqual([
      [60_000, 70_000_000],
      [120_000, 60_000_000],
    ]);
    const byPod = await client.selectSeries({ ...base, step: 60, groupBy: ['pod'] });
    expect(
      byPod.series.map((x) => [x.labels.map((l) => `${l.name}=${l.value}`), x.points.map((p) => p.value)]),
    ).toEqual([
      [['pod=a'], [50_000_000, 60_000_000]],
      [['pod=b'], [20_000_000]],
    ]);
    const top1 = await client.selectSeries({ ...base, step: 60, groupBy: ['pod'], limit: 1n });
    expect(top1.series.map((x) => x.labels[0].value)).toEqual(['a']);
    const avg = await client.selectSeries({
      ...base,
      step: 60,
      aggregation: TimeSeriesAggregationType.AVERAGE,
    });
    expect(avg.series[0].points.map((p) => p.value)).toEqual([35_000_000, 60_000_000]);
  });

  test('SelectMergeStacktraces: exact flame graph', async () => {
    const res = await client.selectMergeStacktraces({
      profileTypeID: cpuType,
      labelSelector: '{}',
      ...range(),
    });
    const fg = res.flamegraph!;
    expect(fg.total).toBe(220_000_000n);
    expect(fg.names[0]).toBe('total');
  });

  test('SelectMergeProfile: a pprof whose totals match', async () => {
    const profile = await client.selectMergeProfile({
      profileTypeID: cpuType,
      labelSelector: '{service_name="checkout"}',
      ...range(),
    });
    const p = decodeProfile(toBinary(pprofProto.ProfileSchema, profile));
    expect(numSampleTypes(p)).toBe(1);
    expect(p.strings[p.sampleTypes[0]]).toBe('cpu');
    let total = 0;
    for (let i = 0; i < p.sampleCount; i++) total += p.values[i];
    expect(total).toBe(130_000_000);
  });

  test('GetProfileStats', async () => {
    const stats = await client.getProfileStats({});
    expect(stats.dataIngested).toBe(true);
    expect(Number(stats.oldestProfileTime)).toBe(t0 + 5000);
    expect(Number(stats.newestProfileTime)).toBe(t0 + 65_000);
  });

  test('errors carry Connect codes', async () => {
    const err = await client
      .selectMergeStacktraces({ profileTypeID: 'nope', labelSelector: '{}', ...range() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    const missing = await client
      .selectSeries({ profileTypeID: cpuType, labelSelector: '{}', step: 15 })
      .catch((e) => e);
    expect((missing as ConnectError).rawMessage).toMatch(/missing time range/);
  });
});

test('the storage status report lists blocks, bytes and the profile time span', async () => {
  const s = await startTestServer();
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    await fetch(`${s.url}/ingest?name=app&format=pprof`, { method: 'POST', body: cpuProfile({ a: 1 }, now) });
    await s.server.context.storage.flush();
    const report = (await (await fetch(`${s.url}/api/v1/status/storage`)).json()) as {
      tenants: { tenant: string; blocks: unknown[]; diskBytes: number; newestProfileMs: number }[];
      retentionMs: number;
    };
    expect(report.retentionMs).toBe(30 * 86_400_000);
    expect(report.tenants[0]).toMatchObject({
      tenant: 'anonymous',
      newestProfileMs: Number(now / 1_000_000n),
    });
    expect(report.tenants[0].blocks).toHaveLength(1);
    expect(report.tenants[0].diskBytes).toBeGreaterThan(0);
  } finally {
    await s.stop();
  }
});

test('a query merging more series than --max-query-series is refused with a clear 429', async () => {
  const s = await startTestServer({ max_query_series: 2 });
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const pod of ['a', 'b', 'c'])
      await fetch(`${s.url}/ingest?name=${encodeURIComponent(`app{pod=${pod}}`)}&format=pprof`, {
        method: 'POST',
        body: cpuProfile({ 'main;work': 1 }, now),
      });
    const range = { start: Date.now() - 3_600_000, end: Date.now() + 60_000 };
    const res = await fetch(`${s.url}/querier.v1.QuerierService/SelectMergeStacktraces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profileTypeID: cpuType, labelSelector: '{}', ...range }),
    });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { message: string }).message).toBe(
      'the query selects 3 series, more than the limit of 2 (--max-query-series): narrow the label selector',
    );
    const narrow = await fetch(`${s.url}/querier.v1.QuerierService/SelectMergeStacktraces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profileTypeID: cpuType, labelSelector: '{pod!="c"}', ...range }),
    });
    expect(narrow.status).toBe(200);
  } finally {
    await s.stop();
  }
});
