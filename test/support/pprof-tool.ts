/** Runs `go tool pprof -top` on pprof files and parses the flat (self) and cum value per function. */
import { run } from './clients.js';

export interface PprofTopRow {
  flat: bigint;
  cum: bigint;
  name: string;
}

function parseValue(v: string, unit: string): bigint {
  if (v === '0') return 0n;
  if (!v.endsWith(unit)) throw new Error(`go tool pprof: value ${v} is not in ${unit}`);
  return BigInt(v.slice(0, -unit.length));
}

export interface PprofTopReport {
  rows: PprofTopRow[];
  /** The profile total from the header line `Showing nodes accounting for X, P% of TOTAL total`. */
  total: bigint;
  /** X in that header line: the sum of flat values shown (equal to `total` when nothing was dropped). */
  shown: bigint;
  /** The raw stdout, for failure messages. */
  stdout: string;
}

/**
 * `go tool pprof -top -nodecount=100000 -nodefraction=0 -edgefraction=0 -sample_index=<i> -unit=<unit>
 * -symbolize=none <file>`: every function with its exact flat and cum value (in `unit`, e.g. `ns`).
 * Inlined functions appear under their own name (the ` (inline)` marker is removed).
 */
export async function pprofTop(file: string, sampleIndex: string, unit = 'ns'): Promise<PprofTopRow[]> {
  return (await pprofTopReport([file], sampleIndex, unit)).rows;
}

/**
 * The same `go tool pprof -top` on several files at once: pprof merges them (sums the samples of all
 * profiles) before reporting. Also returns the header totals. pprof marks functions reached only through
 * inlining with ` (inline)` and those reached both inlined and not with ` (partial-inline)`; both markers
 * are removed so that rows are keyed by the plain function name.
 */
export async function pprofTopReport(
  files: string[],
  sampleIndex: string,
  unit = 'ns',
): Promise<PprofTopReport> {
  if (files.length === 0) throw new Error('pprofTopReport: no files');
  const res = await run(
    'go',
    [
      'tool',
      'pprof',
      '-top',
      '-nodecount=100000',
      '-nodefraction=0',
      '-edgefraction=0',
      `-sample_index=${sampleIndex}`,
      `-unit=${unit}`,
      '-symbolize=none',
      ...files,
    ],
    { timeoutMs: 120_000, env: { PPROF_BINARY_PATH: '/nonexistent' } },
  );
  if (res.code !== 0) throw new Error(`go tool pprof failed (${res.code}): ${res.stderr}`);
  const lines = res.stdout.split('\n');
  const header = lines.findIndex((l) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(l));
  if (header < 0) throw new Error(`go tool pprof: no table in output:\n${res.stdout}`);
  const showing = lines
    .map((l) => /^Showing nodes accounting for (\S+), \S+% of (\S+) total/.exec(l))
    .find((m) => m !== null);
  if (!showing) throw new Error(`go tool pprof: no "Showing nodes" line in output:\n${res.stdout}`);
  const rows: PprofTopRow[] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.trim()) continue;
    const m = /^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+?)\s*$/.exec(line);
    if (!m) throw new Error(`go tool pprof: cannot parse line ${JSON.stringify(line)}`);
    rows.push({
      flat: parseValue(m[1] as string, unit),
      cum: parseValue(m[2] as string, unit),
      name: (m[3] as string).replace(/ \((?:partial-)?inline\)$/, ''),
    });
  }
  return {
    rows,
    total: parseValue(showing[2] as string, unit),
    shown: parseValue(showing[1] as string, unit),
    stdout: res.stdout,
  };
}
