import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/index.js';
import type { TargetHealth } from '../src/scrape/index.js';
import { startCapturingServer } from './capture.js';

// Garbage collection on demand: a scrape timeout must fire even when the collector runs while the
// scrape hangs (a timeout signal reachable only weakly was collected, and the loop hung for good).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('scrape timeouts', () => {
  let dir: string;
  let hang: Server;
  let s: Awaited<ReturnType<typeof startCapturingServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emberscope-scrape-timeout-'));
    hang = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const file = join(dir, 'emberscope.yaml');
    writeFileSync(
      file,
      `scrape_configs:
  - job_name: hanging
    scrape_interval: 2s
    scrape_timeout: 1s
    static_configs: [{ targets: ['${address}'] }]
    profiling_config:
      pprof_config:
        process_cpu: { enabled: false }
        mutex: { enabled: false }
        block: { enabled: false }
        goroutine: { enabled: false }
`,
    );
    const { scrape_configs } = loadConfig(['--config', file], {});
    s = await startCapturingServer({ scrape_configs }, 'warn');
  });

  afterAll(async () => {
    await s?.stop();
    hang?.closeAllConnections();
    hang?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a hanging target times out even when garbage is collected during the scrape', async () => {
    let target: TargetHealth | undefined;
    // Each scrape lasts 1 s (the timeout); three of them, with collections all along, take about 6 s.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      gc();
      const res = await fetch(`${s.url}/api/v1/targets`);
      target = ((await res.json()) as { data: { activeTargets: TargetHealth[] } }).data.activeTargets[0];
      if (target.profiles[0].scrapes >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const memory = target!.profiles[0];
    expect(memory.scrapes).toBeGreaterThanOrEqual(3);
    expect(memory.health).toBe('down');
    expect(memory.lastError).toBe('scrape of /debug/pprof/allocs timed out after 1s');
  }, 40_000);
});
