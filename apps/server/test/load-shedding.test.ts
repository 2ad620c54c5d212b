import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BodyBudget } from '../src/body-budget.js';
import { DiskGuard } from '../src/disk-guard.js';
import { ConfigError } from '../src/index.js';
import { RawConnection, startCapturingServer, waitForMetric } from './capture.js';
import { cpuProfile, cpuType, mergedTotal, startTestServer } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: error bodies are checked field by field.
const json = async (res: Response): Promise<any> => res.json();

/** A folded-format body of exactly `bytes` bytes (lines of "main;work 1"), valid for /ingest?name=x.cpu. */
function foldedBody(bytes: number): Buffer {
  const line = 'main;work 1\n';
  const body = Buffer.alloc(bytes, ' ');
  for (let at = 0; at + line.length <= bytes; at += line.length) body.write(line, at);
  return body;
}

const push = (url: string) =>
  fetch(`${url}/push.v1.PusherService/Push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      series: [
        {
          labels: [
            { name: '__name__', value: 'process_cpu' },
            { name: 'service_name', value: 'pushed' },
          ],
          samples: [{ rawProfile: cpuProfile({ 'main;work': 1 }).toString('base64') }],
        },
      ],
    }),
  });

describe('in-flight request body budget', () => {
  const budget = 64 * 1024;
  let s: Awaited<ReturnType<typeof startCapturingServer>>;
  beforeAll(async () => {
    s = await startCapturingServer({ max_inflight_body_bytes: budget, max_request_body: budget }, 'info');
  });
  afterAll(() => s.stop());

  /** A request that declares 40,008 bytes and sends only the first 1,000: it holds its reservation. */
  async function holdBudget() {
    const body = foldedBody(40_008);
    const held = new RawConnection(s.url);
    await held.write(
      `POST /ingest?name=held.cpu HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await held.write(body.subarray(0, 1000));
    await waitForMetric(s.url, /^emberscope_inflight_body_bytes 40008$/m);
    return {
      async finish() {
        await held.write(body.subarray(1000));
        const res = await held.response();
        held.destroy();
        return res;
      },
    };
  }

  test('BodyBudget reserves up to its limit and releases; 0 means no limit', () => {
    const b = new BodyBudget(100);
    expect(b.tryReserve(60)).toBe(true);
    expect(b.tryReserve(41)).toBe(false);
    expect(b.tryReserve(40)).toBe(true);
    expect(b.inUse).toBe(100);
    b.release(60);
    expect(b.tryReserve(50)).toBe(true);
    const unlimited = new BodyBudget(0);
    expect(unlimited.tryReserve(2 ** 40)).toBe(true);
    expect(unlimited.inUse).toBe(2 ** 40);
  });

  test('a declared body over the remaining budget is answered 503 with Retry-After, without being read', async () => {
    const held = await holdBudget();
    const refused = await fetch(`${s.url}/ingest?name=late.cpu`, {
      method: 'POST',
      body: foldedBody(30_000),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await json(refused)).toEqual({
      code: 'unavailable',
      message: expect.stringMatching(/max_inflight_body_bytes \(64 KiB\); retry in 1s$/),
    });
    // Smaller requests still fit and are served meanwhile.
    const small = await fetch(`${s.url}/ingest?name=small.cpu`, { method: 'POST', body: 'main;work 1\n' });
    expect(small.status).toBe(200);

    expect((await held.finish()).status).toBe(200);
    // Its body is released with its response: the large request fits now.
    await waitForMetric(s.url, /^emberscope_inflight_body_bytes 0$/m);
    const retried = await fetch(`${s.url}/ingest?name=late.cpu`, {
      method: 'POST',
      body: foldedBody(30_000),
    });
    expect(retried.status).toBe(200);
  });

  test('a chunked body is counted while it streams and cut off when the budget runs out', async () => {
    const held = await holdBudget();
    const chunked = new RawConnection(s.url);
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const part = foldedBody(10_008).toString();
    await chunked.write(
      `POST /ingest?name=chunked.cpu HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(part)}${chunk(part)}${chunk(part)}0\r\n\r\n`,
    );
    const res = await chunked.response();
    chunked.destroy();
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/busy/),
    });
    expect((await held.finish()).status).toBe(200);
  });

  test('a chunked body within the budget is stored; one over max_request_body gets 413', async () => {
    await waitForMetric(s.url, /^emberscope_inflight_body_bytes 0$/m);
    const body = foldedBody(30_000);
    const stream = new ReadableStream({
      start(controller) {
        for (let at = 0; at < body.length; at += 7000) controller.enqueue(body.subarray(at, at + 7000));
        controller.close();
      },
    });
    const ok = await fetch(`${s.url}/ingest?name=streamed.cpu`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(ok.status).toBe(200);
    expect(await mergedTotal(s.url, cpuType, '{service_name="streamed"}')).toBeGreaterThan(0);

    const big = new RawConnection(s.url);
    const part = foldedBody(40_008).toString();
    const chunk = `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
    await big.write(
      `POST /ingest?name=big.cpu HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
    );
    const res = await big.response();
    big.destroy();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'resource_exhausted', message: /max_request_body/ });
  });

  test('refusals are counted by route, status and reason', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(
      /^emberscope_request_errors_total\{route="\/ingest",status="503",reason="body_budget"\} 2$/m,
    );
    expect(text).toMatch(/^emberscope_shed_requests_total\{reason="body_budget"\} 2$/m);
  });

  test('the budget must hold at least one largest body', async () => {
    await expect(
      startCapturingServer({ max_inflight_body_bytes: 1024 * 1024, max_request_body: 2 * 1024 * 1024 }),
    ).rejects.toThrow(
      new ConfigError(
        '--max-inflight-body-bytes (1 MiB) must be at least --max-request-body (2 MiB), or 0 for no limit',
      ),
    );
  });
});

describe('backpressure when the WAL falls behind', () => {
  let s: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    s = await startTestServer({ max_wal_pending_appends: 100, max_wal_pending_bytes: 1024 * 1024 });
  });
  afterAll(() => s.stop());

  test('writes get 503 with Retry-After while the backlog is over a bound; reads keep working', async () => {
    const storage = s.server.context.storage;
    const real = storage.walBacklog.bind(storage);
    try {
      // A disk that stopped keeping up: 100 writes queued behind one fsync.
      storage.walBacklog = () => ({ appends: 100, bytes: 4096 });
      const res = await fetch(`${s.url}/ingest?name=slow.cpu`, { method: 'POST', body: 'main;work 1\n' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await json(res)).toEqual({
        code: 'unavailable',
        message:
          'the disk is behind: 100 writes (4 KiB) are waiting for the write-ahead log, at max_wal_pending_appends (100); retry in 1s',
      });
      storage.walBacklog = () => ({ appends: 1, bytes: 1024 * 1024 });
      const pushed = await push(s.url);
      expect(pushed.status).toBe(503);
      expect((await json(pushed)).message).toMatch(/at max_wal_pending_bytes \(1 MiB\)/);
      expect(await mergedTotal(s.url, cpuType)).toBe(0);
    } finally {
      storage.walBacklog = real;
    }
    expect(
      (await fetch(`${s.url}/ingest?name=slow.cpu`, { method: 'POST', body: 'main;work 1\n' })).status,
    ).toBe(200);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/^emberscope_shed_requests_total\{reason="wal_backlog"\} 2$/m);
    expect(text).toMatch(
      /^emberscope_request_errors_total\{route="\/ingest",status="503",reason="wal_backlog"\} 1$/m,
    );
    expect(text).toMatch(/^emberscope_wal_pending_appends 0$/m);
    expect(text).toMatch(/^emberscope_wal_pending_bytes 0$/m);
  });
});

describe('backpressure when blocks are written slower than data arrives', () => {
  test('writes get 503 with Retry-After while the head is full (storage.headFull); reads keep working', async () => {
    const s = await startTestServer();
    const storage = s.server.context.storage;
    const real = storage.headFull.bind(storage);
    try {
      storage.headFull = () => true;
      const res = await fetch(`${s.url}/ingest?name=full.cpu`, { method: 'POST', body: 'main;work 1\n' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await json(res)).message).toMatch(/the in-memory head is full \(max_head_size\)/);
      expect(await mergedTotal(s.url, cpuType)).toBe(0);
      storage.headFull = real;
      const ok = await fetch(`${s.url}/ingest?name=full.cpu`, { method: 'POST', body: 'main;work 1\n' });
      expect(ok.status).toBe(200);
      const text = await (await fetch(`${s.url}/metrics`)).text();
      expect(text).toMatch(/^emberscope_shed_requests_total\{reason="head_full"\} 1$/m);
    } finally {
      storage.headFull = real;
      await s.stop();
    }
  });
});

describe('low-disk protection', () => {
  test('with less free space than min_free_disk_bytes, writes get 507 and reads keep working', async () => {
    // 4 PiB: more than any test machine has free.
    const s = await startTestServer({ min_free_disk_bytes: 2 ** 52 });
    try {
      const res = await fetch(`${s.url}/ingest?name=full.cpu`, { method: 'POST', body: 'main;work 1\n' });
      expect(res.status).toBe(507);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(await json(res)).toEqual({
        code: 'resource_exhausted',
        message: expect.stringMatching(
          /^low disk space: .* free on the data directory's filesystem, below min_free_disk_bytes \(4096 TiB\); writes are refused until space is freed, reads keep working$/,
        ),
      });
      expect((await push(s.url)).status).toBe(507);
      expect((await fetch(`${s.url}/ready`)).status).toBe(200);
      expect(await mergedTotal(s.url, cpuType)).toBe(0);
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const free = Number(/^emberscope_disk_free_bytes (\d+)$/m.exec(text)?.[1]);
      expect(free).toBeGreaterThan(0);
      expect(text).toMatch(/^emberscope_shed_requests_total\{reason="low_disk"\} 2$/m);
      expect(text).toMatch(
        /^emberscope_request_errors_total\{route="\/ingest",status="507",reason="low_disk"\} 1$/m,
      );
    } finally {
      await s.stop();
    }
  });

  test('the default minimum lets writes through on a disk with room', async () => {
    const s = await startTestServer();
    try {
      expect(
        (await fetch(`${s.url}/ingest?name=room.cpu`, { method: 'POST', body: 'main;work 1\n' })).status,
      ).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('DiskGuard reuses one statfs answer for its TTL, then looks again', async () => {
    let nowMs = 0;
    let free = 100;
    let calls = 0;
    const warnings: unknown[] = [];
    const guard = new DiskGuard(
      '/data',
      50,
      { warn: (obj: unknown) => void warnings.push(obj) },
      {
        ttlMs: 1000,
        now: () => nowMs,
        statfs: async () => {
          calls++;
          return { bavail: free, bsize: 1 };
        },
      },
    );
    await guard.check();
    free = 10; // the disk fills up
    nowMs = 999;
    await guard.check(); // still the cached answer
    expect(calls).toBe(1);
    nowMs = 1000;
    await expect(guard.check()).rejects.toMatchObject({ status: 507, reason: 'low_disk', retryAfterS: 60 });
    expect(calls).toBe(2);
    free = 60; // space freed
    nowMs = 2000;
    await guard.check();
    expect(await guard.freeBytes()).toBe(60);
    expect(warnings).toEqual([]);
  });

  test('DiskGuard lets writes through, with one warning, when statfs fails; 0 disables the check', async () => {
    const warnings: unknown[] = [];
    let nowMs = 0;
    const failing = new DiskGuard(
      '/gone',
      50,
      { warn: (obj: unknown) => void warnings.push(obj) },
      {
        now: () => nowMs,
        statfs: async () => {
          throw Object.assign(new Error('ENOENT: no such directory'), { code: 'ENOENT' });
        },
      },
    );
    await failing.check();
    nowMs = 5000;
    await failing.check();
    expect(await failing.freeBytes()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    const off = new DiskGuard(
      '/data',
      0,
      { warn: () => {} },
      { statfs: async () => ({ bavail: 0, bsize: 4096 }) },
    );
    await off.check();
  });
});
