import { defaultIngestLimits, IngestError } from '@emberscope/ingest';
import { buildFunctionTree, stackValuesFromFolded, toFlameGraph } from '@emberscope/model';
import { encodeWalRecord } from '@emberscope/storage';
import { afterAll, describe, expect, test } from 'vitest';
import { ComputePool } from '../src/compute/pool.js';
import { packProfiles, unpackProfiles } from '../src/compute/profile-wire.js';
import { runsInline, runTask } from '../src/compute/tasks.js';
import { QueryGate } from '../src/query-gate.js';
import { cpuProfile } from './helpers.js';

/** Enough distinct stacks to cross the inline threshold, so the work really goes to a worker. */
function bigInput() {
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) lines.push(`main;svc${i % 50};handler${i % 400};leaf${i} ${1 + (i % 7)}`);
  return stackValuesFromFolded(lines);
}

describe('ComputePool', () => {
  const pool = new ComputePool(1, 30_000);
  afterAll(() => pool.close());

  test('a worker computes the same flame graph as the main thread', async () => {
    const parts = [bigInput()];
    expect(parts[0].parent.length).toBeGreaterThan(50_000);
    const inWorker = await pool.run('flameGraph', { parts, maxNodes: 1000 });
    expect(inWorker).toEqual(toFlameGraph(buildFunctionTree(parts), 1000));
  });

  test('a task over the timeout is stopped with deadline_exceeded and the worker is replaced', async () => {
    const slow = new ComputePool(1, 1);
    try {
      await expect(slow.run('flameGraph', { parts: [bigInput()], maxNodes: 0 })).rejects.toMatchObject({
        code: 'deadline_exceeded',
      });
    } finally {
      await slow.close();
    }
    // The regular pool still works afterwards in the same process.
    const small = stackValuesFromFolded(['a;b 1']);
    expect((await pool.run('flameGraph', { parts: [small], maxNodes: 10 })).total).toBe(1);
  });
});

describe('decoding uploads on a worker', () => {
  const pool = new ComputePool(1, 30_000, 'decoding the upload');
  afterAll(() => pool.close());
  const ctx = { tenant: 't', nowMs: 1_700_000_000_000, limits: defaultIngestLimits };
  const stacks: Record<string, number> = {};
  for (let i = 0; i < 400; i++) stacks[`main;handler${i % 20};work${i}`] = 1 + (i % 5);

  test('a worker decodes an upload into exactly what the main thread would store', async () => {
    const input = {
      query: 'name=app.cpu{env=prod}&format=pprof',
      contentType: '',
      body: cpuProfile(stacks),
      ctx,
    };
    expect(runsInline('ingestLegacy', input)).toBe(false);
    const inWorker = await pool.run('ingestLegacy', input);
    // Buffers arrive as plain Uint8Arrays: compare bytes, not classes.
    const inline = runTask('ingestLegacy', input).map((p) => ({ ...p, payload: new Uint8Array(p.payload) }));
    expect(inWorker).toEqual(inline);
    expect(inWorker[0].series[0].labels).toContainEqual({ name: 'env', value: 'prod' });
    // The WAL record framed on the worker is what storage would frame, and ends with the payload.
    for (const p of inWorker) {
      expect(p.walRecord).toEqual(encodeWalRecord(p));
      expect(p.payload.buffer).toBe(p.walRecord!.buffer);
    }
  });

  test('Push series decoded on a worker keep their profiles and delta flags', async () => {
    const series = [
      {
        labels: [{ name: '__name__', value: 'process_cpu' }],
        samples: [{ rawProfile: cpuProfile(stacks), id: '' }],
      },
      {
        labels: [
          { name: '__name__', value: 'memory' },
          { name: '__delta__', value: 'false' },
          { name: 'service_name', value: 'dienst-ü' },
        ],
        samples: [{ rawProfile: cpuProfile({ 'main;naïve;日本': 3, ...stacks }), id: '' }],
      },
    ];
    const input = { series, ctx };
    const inWorker = await pool.run('decodePush', input);
    const inline = runTask('decodePush', input).map((d) => ({
      ...d,
      ingested: { ...d.ingested, payload: new Uint8Array(d.ingested.payload) },
    }));
    expect(inWorker).toEqual(inline);
    expect(inWorker.map((d) => d.mayBeCumulative)).toEqual([true, false]);
    expect(inWorker[1].ingested.profile.strings).toContain('日本');
  });

  test('a worker holding several uploads at once answers each with its own profile, errors included', async () => {
    const pipelined = new ComputePool(1, 30_000, 'decoding the upload', 4);
    try {
      const inputs = Array.from({ length: 12 }, (_, i) => ({
        query: `name=app${i}.cpu&format=pprof`,
        contentType: '',
        body: i === 5 ? Buffer.alloc(20_000, 0xff) : cpuProfile({ ...stacks, [`main;only${i}`]: i + 1 }),
        ctx,
      }));
      const results = await Promise.allSettled(inputs.map((input) => pipelined.run('ingestLegacy', input)));
      results.forEach((result, i) => {
        if (i === 5) {
          expect(result).toMatchObject({ status: 'rejected', reason: { status: 422 } });
          return;
        }
        const inline = runTask('ingestLegacy', inputs[i]).map((p) => ({
          ...p,
          payload: new Uint8Array(p.payload),
        }));
        expect(result).toEqual({ status: 'fulfilled', value: inline });
      });
    } finally {
      await pipelined.close();
    }
  });

  test('packing keeps every field, string and array of a batch of profiles', () => {
    const body = cpuProfile({ 'a;b;c': 1, 'a;ü;🔥': 2 });
    const profiles = [
      ...runTask('ingestLegacy', { query: 'name=x&format=pprof', contentType: '', body, ctx }),
      ...runTask('ingestLegacy', {
        query: 'name=y{k=v}&format=pprof',
        contentType: '',
        body: cpuProfile(stacks),
        ctx,
      }),
    ];
    const unpacked = unpackProfiles(structuredClone(packProfiles(profiles)));
    expect(unpacked).toEqual(profiles.map((p) => ({ ...p, payload: new Uint8Array(p.payload) })));
    // The decoder's fields in the decoder's order: one object shape for both (see profileOf).
    for (const [i, u] of unpacked.entries())
      expect(Object.keys(u.profile)).toEqual(Object.keys(profiles[i].profile));
  });

  test('an upload refused on the worker keeps its status, reason and message', async () => {
    const body = Buffer.alloc(20_000, 0xff); // not a protobuf
    const refused = pool.run('ingestLegacy', { query: 'name=app&format=pprof', contentType: '', body, ctx });
    await expect(refused).rejects.toBeInstanceOf(IngestError);
    await expect(refused).rejects.toMatchObject({ status: 422, reason: 'bad_profile' });
    await expect(refused).rejects.toThrow(/not a valid pprof/);
  });
});

describe('QueryGate', () => {
  test('refuses ranges over the limit with a clear message', () => {
    const gate = new QueryGate({ maxRangeMs: 86_400_000, maxConcurrent: () => 1, timeoutMs: 1000 });
    expect(() => gate.checkRange({ startMs: 0, endMs: 2 * 86_400_000 })).toThrow(
      'the query range of 2d exceeds the limit of 1d (--max-query-range)',
    );
    expect(() => gate.checkRange({ startMs: 0, endMs: 86_400_000 })).not.toThrow();
  });

  test('limits concurrent queries per tenant', async () => {
    const gate = new QueryGate({ maxRangeMs: 0, maxConcurrent: () => 1, timeoutMs: 1000 });
    let release!: () => void;
    const first = gate.run('a', () => new Promise<void>((r) => (release = r)));
    await expect(gate.run('a', async () => 1)).rejects.toMatchObject({
      code: 'resource_exhausted',
      status: 429,
    });
    expect(await gate.run('b', async () => 2)).toBe(2); // other tenants are not affected
    release();
    await first;
    expect(await gate.run('a', async () => 3)).toBe(3);
  });

  test('times out slow queries with 504', async () => {
    const gate = new QueryGate({ maxRangeMs: 0, maxConcurrent: () => 4, timeoutMs: 20 });
    await expect(gate.run('a', () => new Promise(() => {}))).rejects.toMatchObject({
      code: 'deadline_exceeded',
      status: 504,
    });
  });
});
