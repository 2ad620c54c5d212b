// A tiny benchmark harness. The machines are shared and noisy, so results are medians over many runs,
// and comparisons should be ratios of runs taken side by side in the same process.

import os from 'node:os';

/**
 * Times `fn` (sync or async). Calls shorter than `minRunMs` are repeated within one run, so timer
 * resolution and call overhead do not dominate; times are reported per call, in milliseconds.
 */
export async function measure(name, fn, { warmup = 5, iterations = 30, minRunMs = 5 } = {}) {
  let warmupMs = 0;
  for (let i = 0; i < warmup; i++) warmupMs += await timeCalls(fn, 1);
  const repeat = Math.max(1, Math.ceil(minRunMs / (warmupMs / Math.max(warmup, 1) || minRunMs)));
  const runs = [];
  for (let i = 0; i < iterations; i++) runs.push((await timeCalls(fn, repeat)) / repeat);
  return summarize(name, runs);
}

/** Median, 95th percentile and best of per-call times; the best run shows the speed on an idle core. */
export function summarize(name, runs) {
  const sorted = [...runs].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { name, medianMs: at(0.5), p95Ms: at(0.95), minMs: sorted[0], runs };
}

async function timeCalls(fn, count) {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const result = fn();
    if (result instanceof Promise) await result;
  }
  return performance.now() - start;
}

/** Renders rows of plain objects as a markdown table; keys are the headers, arrays are left out. */
export function formatTable(rows) {
  const headers = Object.keys(rows[0]).filter((key) => !Array.isArray(rows[0][key]));
  const cell = (value) => (typeof value === 'number' ? formatNumber(value) : String(value));
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    line(headers),
    line(headers.map(() => '---')),
    ...rows.map((row) => line(headers.map((key) => cell(row[key])))),
  ].join('\n');
}

/** Three significant digits, without exponent notation. */
export function formatNumber(value) {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(digits);
}

/** What a reader needs to judge the numbers: the CPU, the load at the time, the runtime, the date. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    loadAverage: os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' '),
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}
