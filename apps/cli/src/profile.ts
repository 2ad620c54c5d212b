import type { OptionSpec } from './args.js';
import { NoDataError, UsageError } from './errors.js';
import type { Client } from './http.js';

/** A query `<profile type>{selector}` with its profile type resolved to a full five-part ID. */
export interface ProfileQuery {
  profileTypeId: string;
  selector: string;
  /** `<profile type ID>{selector}`, as the HTTP routes take it. */
  text: string;
}

/** How a query is written, shown once in the --help of the commands that take one. */
export const queryHelp = `Queries are PROFILE_TYPE{SELECTOR}, e.g.
  process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="api", env="prod"}
The type may be shortened to a sample type or prefix that is unique among the selected series:
cpu, alloc_space, inuse_space, goroutine, mutex:delay, … ("emberscope query profile-types" lists them).`;

export const queryOption = (name = 'query', what = ''): OptionSpec => ({
  name,
  kind: 'string',
  value: 'QUERY',
  help: `${what}TYPE{SELECTOR} (see Queries below)`,
});

interface ProfileTypesResponse {
  profileTypes?: { ID: string; name?: string; sampleType?: string }[];
}

/** Splits and checks the query text, resolving a shortened profile type against the server's types. */
export async function resolveQuery(
  client: Client,
  text: string,
  range: { start: number; end: number },
  flag = 'query',
): Promise<ProfileQuery> {
  const t = text.trim();
  const brace = t.indexOf('{');
  const type = (brace < 0 ? t : t.slice(0, brace)).trim();
  const selector = brace < 0 ? '{}' : t.slice(brace).trim();
  if (!type)
    throw new UsageError(
      `--${flag} ${JSON.stringify(text)} has no profile type: write it as TYPE{SELECTOR}, e.g. cpu{service_name="api"}`,
    );
  if (!selector.endsWith('}'))
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: the selector must end with "}"`);
  const parts = type.split(':');
  if (parts.length === 5 || parts.length === 6)
    return { profileTypeId: type, selector, text: `${type}${selector}` };
  const ids = await profileTypesOf(client, selector, range);
  const matches = [
    ids.filter((id) => id.startsWith(`${type}:`)),
    ids.filter((id) => id.split(':')[1] === type),
    ids.filter((id) => id.split(':')[0] === type),
  ].find((m) => m.length > 0);
  if (!matches)
    throw new NoDataError(
      `no profile type matches ${JSON.stringify(type)} in this range${ids.length ? ` (available: ${ids.join(', ')})` : ' (the server has no profile types in range)'}`,
    );
  if (matches.length > 1)
    throw new UsageError(
      `profile type ${JSON.stringify(type)} is ambiguous: use one of ${matches.join(', ')}`,
    );
  return { profileTypeId: matches[0], selector, text: `${matches[0]}${selector}` };
}

/** The profile type IDs of the series that match `selector` (all of the tenant's for `{}`). */
export async function profileTypesOf(
  client: Client,
  selector: string,
  range: { start: number; end: number },
): Promise<string[]> {
  if (selector.replace(/\s/g, '') === '{}') {
    const res = await client.querier<ProfileTypesResponse>('ProfileTypes', range);
    return (res.profileTypes ?? []).map((p) => p.ID).sort();
  }
  const res = await client.querier<{ labelsSet?: { labels?: { name: string; value: string }[] }[] }>(
    'Series',
    {
      matchers: [selector],
      labelNames: ['__profile_type__'],
      ...range,
    },
  );
  const ids = new Set<string>();
  for (const set of res.labelsSet ?? [])
    for (const l of set.labels ?? []) if (l.name === '__profile_type__') ids.add(l.value);
  return [...ids].sort();
}

/** A function's flat (self) and cumulative (total) value. */
export interface FunctionRow {
  name: string;
  self: number;
  total: number;
}

/** Connect's `FlameGraph` (JSON: int64 values as strings) or a flamebearer (numbers). */
export interface FlameGraphLike {
  names: string[];
  levels: ({ values?: (string | number)[] } | number[])[];
}

/** Absolute nodes of a Pyroscope flame graph, whose levels are `[x delta, total, self, name]` quadruples. */
export function flameGraphNodes(
  fg: FlameGraphLike,
): { level: number; x: number; total: number; self: number; name: number; parent: number }[][] {
  const out: { level: number; x: number; total: number; self: number; name: number; parent: number }[][] = [];
  fg.levels.forEach((lvl, level) => {
    const values = (Array.isArray(lvl) ? lvl : (lvl.values ?? [])).map(Number);
    const row: (typeof out)[number] = [];
    const parents = level > 0 ? out[level - 1] : [];
    let prevEnd = 0;
    let p = 0;
    for (let i = 0; i + 3 < values.length; i += 4) {
      const x = prevEnd + values[i];
      const total = values[i + 1];
      prevEnd = x + total;
      while (p < parents.length - 1 && parents[p].x + parents[p].total <= x) p++;
      row.push({ level, x, total, self: values[i + 2], name: values[i + 3], parent: level > 0 ? p : -1 });
    }
    out.push(row);
  });
  return out;
}

/** The per-function table of a flame graph (recursion counted once in the total), as `/api/v1/functions`. */
export function functionTableOf(fg: FlameGraphLike): { total: number; functions: FunctionRow[] } {
  const levels = flameGraphNodes(fg);
  const rows = new Map<string, FunctionRow>();
  const root = levels[0]?.[0];
  // names on the path from the root to each node, to count recursive calls once
  const paths: Set<string>[][] = [];
  levels.forEach((row, level) => {
    paths.push(
      row.map((node) => {
        const name = fg.names[node.name] ?? '?';
        const parentPath = level > 0 ? paths[level - 1][node.parent] : undefined;
        if (level === 0) return new Set<string>();
        let r = rows.get(name);
        if (!r) {
          r = { name, self: 0, total: 0 };
          rows.set(name, r);
        }
        r.self += node.self;
        if (!parentPath?.has(name)) r.total += node.total;
        const path = new Set(parentPath);
        path.add(name);
        return path;
      }),
    );
  });
  return { total: root?.total ?? 0, functions: [...rows.values()] };
}

/** Collapsed (folded) text of a flame graph: `root;…;leaf value`, one line per node with self > 0. */
export function collapsedOf(fg: FlameGraphLike): string {
  const levels = flameGraphNodes(fg);
  const stacks: string[][] = [];
  const lines: string[] = [];
  levels.forEach((row, level) => {
    stacks.push(
      row.map((node) => {
        const stack =
          level === 0 ? '' : `${level > 1 ? `${stacks[level - 1][node.parent]};` : ''}${fg.names[node.name]}`;
        if (level > 0 && node.self > 0) lines.push(`${stack} ${node.self}`);
        return stack;
      }),
    );
  });
  return lines.sort().join('\n') + (lines.length ? '\n' : '');
}

/** Values of a profile type in readable units: nanoseconds as time, bytes in kB/MB/GB, counts as is. */
export function unitFormatter(
  profileTypeId: string,
  reference: number,
): { unit: string; format: (v: number) => string } {
  const sampleUnit = profileTypeId.split(':')[2] ?? '';
  const abs = Math.abs(reference);
  if (sampleUnit === 'nanoseconds') {
    const [div, unit] =
      abs >= 1e9 ? [1e9, 's'] : abs >= 1e6 ? [1e6, 'ms'] : abs >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
    return { unit, format: (v) => `${trim(v / div)}${unit}` };
  }
  if (sampleUnit === 'bytes') {
    const [div, unit] =
      abs >= 1e9 ? [1e9, 'GB'] : abs >= 1e6 ? [1e6, 'MB'] : abs >= 1e3 ? [1e3, 'kB'] : [1, 'B'];
    return { unit, format: (v) => `${trim(v / div)}${unit}` };
  }
  return { unit: sampleUnit || 'count', format: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2)) };
}

function trim(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2);
}

export const pct = (v: number, total: number) => (total > 0 ? `${((100 * v) / total).toFixed(2)}%` : '-');

/** A right-aligned table with a left-aligned last column (names), like `go tool pprof -top`. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
