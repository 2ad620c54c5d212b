import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { cpuProfile } from '../support/profiles.js';
import { selectMergeStacktraces } from '../support/query.js';
import { type RunningServer, startServer } from '../support/server.js';

const cpuType = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'emberscope-durability-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, args: string[] = []): Promise<RunningServer> {
  const s = await startServer({ dataDir: dir, args: ['--log-level', 'info', ...args], name: 'durability' });
  servers.push(s);
  return s;
}

/**
 * Sends `count` distinct profiles concurrently (by /ingest and Push) and returns the total each service
 * must have: the sum over the acknowledged (200) ones. Refusals fail the test unless tolerated.
 */
async function sendProfiles(
  url: string,
  count: number,
  tolerateRefusals = false,
): Promise<Map<string, number>> {
  const expected = new Map<string, number>();
  const now = BigInt(Date.now()) * 1_000_000n;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const service = `svc-${i % 7}`;
      const n = 1 + (i % 13);
      const body = cpuProfile(
        { [`main;${service};work${i % 5}`]: n, 'main;idle': 1 },
        now - BigInt(i) * 1_000_000n,
      );
      const send = (): Promise<Response | undefined> => {
        if (i % 3 === 0) {
          const push = {
            series: [
              {
                labels: [
                  { name: '__name__', value: 'process_cpu' },
                  { name: 'service_name', value: service },
                ],
                samples: [{ rawProfile: body.toString('base64'), ID: `id-${i}` }],
              },
            ],
          };
          return fetch(`${url}/push.v1.PusherService/Push`, {
            method: 'POST',
            body: JSON.stringify(push),
            headers: { 'content-type': 'application/json' },
          }).catch(() => undefined);
        }
        return fetch(`${url}/ingest?name=${service}&format=pprof`, { method: 'POST', body }).catch(
          () => undefined,
        );
      };
      let res = await send();
      // Like a well-behaved client, retry what the server sheds for now (503 with Retry-After, e.g. a full
      // head while tiny heads are flushed back to back); a shorter wait than asked keeps the test quick.
      for (
        let attempt = 0;
        res?.status === 503 && res.headers.has('retry-after') && attempt < 50;
        attempt++
      ) {
        await res.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await send();
      }
      if (res?.status !== 200) {
        if (tolerateRefusals) return;
        expect.fail(`profile ${i} refused: ${res?.status} ${await res?.text()}`);
      }
      expected.set(service, (expected.get(service) ?? 0) + (n + 1) * 10_000_000);
    }),
  );
  return expected;
}

async function totals(url: string, services: Iterable<string>): Promise<Map<string, number>> {
  const now = Date.now();
  const result = new Map<string, number>();
  for (const service of services) {
    const fg = await selectMergeStacktraces(url, {
      profileTypeID: cpuType,
      labelSelector: `{service_name="${service}"}`,
      start: now - 3_600_000,
      end: now + 60_000,
    });
    result.set(service, Number(fg?.total ?? 0));
  }
  return result;
}

describe('durability', () => {
  test('every acknowledged profile survives SIGKILL right after the 200s (WAL replay)', async () => {
    const dir = dataDir();
    const first = await start(dir);
    const expected = await sendProfiles(first.url, 300);
    await first.kill(); // SIGKILL: no flush, no graceful anything
    const second = await start(dir);
    expect(await totals(second.url, expected.keys())).toEqual(expected);
  });

  test('SIGKILL while blocks are being flushed loses and duplicates nothing', async () => {
    const dir = dataDir();
    // A tiny head size forces flushes to blocks during the load.
    const first = await start(dir, ['--max-head-size', '64KiB']);
    const expected = await sendProfiles(first.url, 300);
    await first.kill();
    const second = await start(dir, ['--max-head-size', '64KiB']);
    expect(await totals(second.url, expected.keys())).toEqual(expected);
    // And once more, after a graceful stop that flushes everything to blocks.
    expect(await second.stop('SIGTERM')).toBe(0);
    const third = await start(dir);
    expect(await totals(third.url, expected.keys())).toEqual(expected);
  });

  test('SIGTERM finishes in-flight requests, flushes and exits 0', async () => {
    const dir = dataDir();
    const s = await start(dir);
    const before = await sendProfiles(s.url, 50);
    // Requests racing the shutdown either complete (200) or are refused (503 / connection closed), never lost after a 200.
    const racing = sendProfiles(s.url, 200, true);
    await new Promise((r) => setTimeout(r, 30));
    expect(await s.stop('SIGTERM')).toBe(0);
    const during = await racing;
    expect(s.logTail()).toMatch(/"msg":"stopped"/);
    const expected = new Map(before);
    for (const [service, v] of during) expected.set(service, (expected.get(service) ?? 0) + v);
    const again = await start(dir);
    expect(await totals(again.url, expected.keys())).toEqual(expected);
  });
});
