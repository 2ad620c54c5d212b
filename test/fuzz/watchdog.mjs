// The hang watchdog of harness.ts, on its own thread: when one synchronous check has been running for
// longer than `hangMs`, it writes the input to regressions/<target>/<sha1>.<ext> and kills the process.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { state, bytes, hangMs, dir } = workerData;
let target = 'unknown';
let ext = 'bin';
let sequence = -1;
let since = Date.now();

parentPort.on('message', (message) => {
  ({ target, ext } = message);
});

setInterval(() => {
  const current = Atomics.load(state, 0);
  const busy = Atomics.load(state, 1) === 1;
  if (current !== sequence || !busy) {
    sequence = current;
    since = Date.now();
    return;
  }
  const elapsed = Date.now() - since;
  if (elapsed < hangMs) return;
  const input = Buffer.from(bytes.subarray(0, Atomics.load(state, 2)));
  const truncated = Atomics.load(state, 3) === 1 ? ' (truncated: the input was larger)' : '';
  const sha1 = createHash('sha1').update(input).digest('hex');
  mkdirSync(`${dir}${target}`, { recursive: true });
  const path = `${dir}${target}/${sha1}.${ext}`;
  writeFileSync(path, input);
  // The main thread is stuck, so its stderr stream would never flush: write to the descriptor directly.
  writeSync(
    2,
    `\n[fuzz] HANG: target "${target}" ran one input for ${elapsed} ms; saved ${path}${truncated}\n`,
  );
  process.kill(process.pid, 'SIGKILL');
}, 200);
