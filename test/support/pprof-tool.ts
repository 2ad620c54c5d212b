/** Runs `go tool pprof -top` on a pprof file and parses the flat (self) value per function. */
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

/**
 * `go tool pprof -top -nodecount=100000 -nodefraction=0 -edgefraction=0 -sample_index=<i> -unit=<unit>
 * -symbolize=none <file>`: every function with its exact flat and cum value (in `unit`, e.g. `ns`).
 * Inlined functions appear under their own name (the ` (inline)` marker is removed).
 */
export async function pprofTop(file: string, sampleIndex: string, unit = 'ns'): Promise<PprofTopRow[]> {
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
      file,
    ],
    { timeoutMs: 120_000, env: { PPROF_BINARY_PATH: '/nonexistent' } },
  );
  if (res.code !== 0) throw new Error(`go tool pprof failed (${res.code}): ${res.stderr}`);
  const lines = res.stdout.split('\n');
  const header = lines.findIndex((l) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(l));
  if (header < 0) throw new Error(`go tool pprof: no table in output:\n${res.stdout}`);
  const rows: PprofTopRow[] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.trim()) continue;
    const m = /^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+?)\s*$/.exec(line);
    if (!m) throw new Error(`go tool pprof: cannot parse line ${JSON.stringify(line)}`);
    rows.push({
      flat: parseValue(m[1] as string, unit),
      cum: parseValue(m[2] as string, unit),
      name: (m[3] as string).replace(/ \(inline\)$/, ''),
    });
  }
  return rows;
}
