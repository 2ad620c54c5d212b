import { outputOption, timeRangeOf, timeRangeOptions } from '../args.js';
import type { Command } from '../command.js';
import { ExitCode, NoDataError } from '../errors.js';
import { type Client, ServerError } from '../http.js';
import {
  type FlameGraphLike,
  type FunctionRow,
  functionTableOf,
  type ProfileQuery,
  pct,
  queryOption,
  resolveQuery,
  table,
  unitFormatter,
} from '../profile.js';

/**
 * The per-function table: Emberscope's `/api/v1/functions`, or (on servers without it, such as Grafana
 * Pyroscope) computed here from the merged flame graph of `SelectMergeStacktraces`.
 */
export async function functionTable(
  client: Client,
  q: ProfileQuery,
  range: { start: number; end: number },
  sort: 'self' | 'total',
  limit: number,
): Promise<{ total: number; count: number; functions: FunctionRow[] }> {
  try {
    return await client.getJson('/api/v1/functions', {
      query: q.text,
      from: range.start,
      until: range.end,
      sort,
      limit,
    });
  } catch (err) {
    if (!(err instanceof ServerError && err.routeMissing)) throw err;
  }
  const fg = await mergedFlameGraph(client, q, range);
  const { total, functions } = functionTableOf(fg);
  functions.sort((a, b) => b[sort] - a[sort] || (a.name < b.name ? -1 : 1));
  return { total, count: functions.length, functions: limit > 0 ? functions.slice(0, limit) : functions };
}

/** The merged flame graph (Connect JSON), with a generous node limit so that tables stay exact. */
export async function mergedFlameGraph(
  client: Client,
  q: ProfileQuery,
  range: { start: number; end: number },
): Promise<FlameGraphLike & { total?: string | number }> {
  const res = await client.querier<{ flamegraph?: FlameGraphLike & { total?: string } }>(
    'SelectMergeStacktraces',
    {
      profileTypeID: q.profileTypeId,
      labelSelector: q.selector,
      start: range.start,
      end: range.end,
      maxNodes: 65536,
    },
  );
  return res.flamegraph ?? { names: [], levels: [] };
}

export const topCommand: Command = {
  name: 'top',
  summary: 'the top functions by self or total, like go tool pprof -top',
  usage: "emberscope top --query 'TYPE{SELECTOR}' [--sort self|total] [--limit N] [options]",
  description: `Prints the functions of the merged profile with their flat (self) and cum (total) values in the
profile's units (CPU time in s/ms, memory in MB/kB), like "go tool pprof -top". Exits 3 without data.

Examples:
  emberscope top --query 'cpu{service_name="checkout"}' --from now-15m
  emberscope top --query 'memory:alloc_space:bytes:space:bytes{service_name="checkout"}' --sort total --limit 20`,
  options: [
    queryOption(),
    {
      name: 'sort',
      kind: 'string',
      value: 'self|total',
      help: 'order by flat (self) or cum (total)',
      default: 'self',
    },
    { name: 'limit', kind: 'string', value: 'N', help: 'number of functions shown (0 = all)', default: '20' },
    ...timeRangeOptions(),
    outputOption,
  ],
  async run(args, client) {
    const queryText = args.required('query');
    const sort = args.choice('sort', ['self', 'total'] as const);
    const limit = args.int('limit', true) ?? 20;
    const output = args.choice('output', ['text', 'json'] as const);
    const range = timeRangeOf(args);
    const q = await resolveQuery(client, queryText, range);
    const result = await functionTable(client, q, range, sort, limit);
    if (!(result.total > 0) || result.functions.length === 0)
      throw new NoDataError(`no data for ${q.text} in this range`);
    const { format } = unitFormatter(q.profileTypeId, result.total);
    if (output === 'json') {
      console.log(
        JSON.stringify({
          query: q.text,
          from: range.start,
          until: range.end,
          unit: q.profileTypeId.split(':')[2],
          ...result,
        }),
      );
      return ExitCode.Ok;
    }
    let sum = 0;
    const rows = result.functions.map((f) => {
      sum += f.self;
      return [
        format(f.self),
        pct(f.self, result.total),
        pct(sum, result.total),
        format(f.total),
        pct(f.total, result.total),
        f.name,
      ];
    });
    console.log(
      `Showing top ${result.functions.length} of ${result.count} functions by ${sort === 'self' ? 'flat' : 'cum'}; total ${format(result.total)}`,
    );
    console.log(table(['flat', 'flat%', 'sum%', 'cum', 'cum%', 'name'], rows));
    return ExitCode.Ok;
  },
};
