import { writeFile } from 'node:fs/promises';
import { type DiffTableRow, diffRows, escapeHtml } from '@emberscope/model';
import { outputOption, timeRangeOf, timeRangeOptions } from '../args.js';
import type { Command } from '../command.js';
import { CliError, ExitCode, NoDataError, UsageError } from '../errors.js';
import { type Client, progress, ServerError } from '../http.js';
import {
  functionTableOf,
  type ProfileQuery,
  pct,
  queryOption,
  resolveQuery,
  table,
  unitFormatter,
} from '../profile.js';
import { flamebearerHtml, renderFlamebearer } from './export.js';
import { mergedFlameGraph } from './top.js';

interface DiffTable {
  leftTicks: number;
  rightTicks: number;
  rows: DiffTableRow[];
}

type Range = { start: number; end: number };

/** Emberscope's `/api/v1/diff-table`, or the same computed here from two merged flame graphs. */
async function diffTable(
  client: Client,
  left: ProfileQuery,
  leftRange: Range,
  right: ProfileQuery,
  rightRange: Range,
  absolute: boolean,
): Promise<DiffTable> {
  try {
    return await client.getJson<DiffTable>('/api/v1/diff-table', {
      leftQuery: left.text,
      leftFrom: leftRange.start,
      leftUntil: leftRange.end,
      rightQuery: right.text,
      rightFrom: rightRange.start,
      rightUntil: rightRange.end,
      absolute: absolute ? 'true' : undefined,
    });
  } catch (err) {
    if (!(err instanceof ServerError && err.routeMissing)) throw err;
  }
  const [l, r] = await Promise.all([
    mergedFlameGraph(client, left, leftRange).then(functionTableOf),
    mergedFlameGraph(client, right, rightRange).then(functionTableOf),
  ]);
  const rows = diffRows(l.functions, r.functions, l.total, r.total, { normalize: !absolute });
  return { leftTicks: l.total, rightTicks: r.total, rows };
}

/** Both flame graphs one above the other, each a standalone page in a srcdoc frame (no URL, works offline). */
function diffHtml(left: { title: string; page: string }, right: { title: string; page: string }): string {
  const title = `Diff: ${left.title} vs ${right.title}`;
  const frame = (label: string, page: string) =>
    `<section><h2>${escapeHtml(label)}</h2><iframe title="${escapeHtml(label)}" srcdoc="${escapeHtml(page)}"></iframe></section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;font:14px system-ui,sans-serif}h1{font-size:16px;margin:8px 12px}h2{font-size:14px;margin:8px 12px 4px}iframe{border:0;width:100%;height:48vh}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${frame(`Baseline: ${left.title}`, left.page)}
${frame(`Comparison: ${right.title}`, right.page)}
</body>
</html>
`;
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two queries or two ranges: a top-N table or a diff HTML page',
  usage:
    "emberscope diff --left 'TYPE{SELECTOR}' [--right 'TYPE{SELECTOR}'] [--left-from T --right-from T …] [options]",
  description: `Compares a baseline (left) with a comparison (right): two selectors, two time ranges, or both.
--right defaults to --left, --left-from/--left-until and --right-from/--right-until default to
--from/--until. Prints the functions whose share of the total changed most (baseline, comparison,
change; with --absolute, raw values), or with --format html -o FILE writes both flame graphs to one
standalone page. Exits 3 when either side has no data.

Examples:
  emberscope diff --left 'cpu{service_name="api",version="1.4"}' --right 'cpu{service_name="api",version="1.5"}'
  emberscope diff --left 'cpu{service_name="api"}' --left-from now-2h --left-until now-1h --format html -o diff.html`,
  options: [
    queryOption('left', 'baseline: '),
    queryOption('right', 'comparison (default: --left): '),
    ...timeRangeOptions(),
    ...timeRangeOptions('left-', 'baseline '),
    ...timeRangeOptions('right-', 'comparison '),
    {
      name: 'format',
      kind: 'string',
      value: 'table|html',
      help: 'a table on stdout, or an HTML page',
      default: 'table',
    },
    { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'output file of --format html' },
    { name: 'limit', kind: 'string', value: 'N', help: 'rows of the table (0 = all)', default: '20' },
    { name: 'absolute', kind: 'boolean', help: 'compare raw values instead of shares of each total' },
    outputOption,
  ],
  async run(args, client) {
    const leftText = args.required('left');
    const rightText = args.string('right') ?? leftText;
    const format = args.choice('format', ['table', 'html'] as const);
    const output = args.choice('output', ['text', 'json'] as const);
    const limit = args.int('limit', true) ?? 20;
    const fallback = { from: args.string('from'), until: args.string('until') };
    const leftRange = timeRangeOf(args, 'left-', fallback);
    const rightRange = timeRangeOf(args, 'right-', fallback);
    if (format === 'html' && !args.string('out')) throw new UsageError('--format html needs -o FILE');
    const left = await resolveQuery(client, leftText, leftRange, 'left');
    const right = await resolveQuery(client, rightText, rightRange, 'right');
    if (left.profileTypeId !== right.profileTypeId)
      throw new UsageError(
        `cannot compare different profile types: ${left.profileTypeId} and ${right.profileTypeId}`,
      );

    if (format === 'html') {
      const out = args.required('out');
      progress('diff', `rendering ${left.text} and ${right.text}`);
      const [l, r] = await Promise.all([
        renderFlamebearer(client, left, leftRange),
        renderFlamebearer(client, right, rightRange),
      ]);
      if (!(l.flamebearer?.numTicks > 0)) throw new NoDataError(`no data for the baseline ${left.text}`);
      if (!(r.flamebearer?.numTicks > 0)) throw new NoDataError(`no data for the comparison ${right.text}`);
      const page = diffHtml(
        { title: left.text, page: flamebearerHtml(`Baseline: ${left.text}`, l) },
        { title: right.text, page: flamebearerHtml(`Comparison: ${right.text}`, r) },
      );
      try {
        await writeFile(out, page);
      } catch (err) {
        throw new CliError(
          `cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          ExitCode.ServerError,
        );
      }
      progress('diff', `wrote ${out}`);
      return ExitCode.Ok;
    }

    const absolute = args.bool('absolute');
    const result = await diffTable(client, left, leftRange, right, rightRange, absolute);
    if (!(result.leftTicks > 0)) throw new NoDataError(`no data for the baseline ${left.text}`);
    if (!(result.rightTicks > 0)) throw new NoDataError(`no data for the comparison ${right.text}`);
    const rows = limit > 0 ? result.rows.slice(0, limit) : result.rows;
    if (output === 'json') {
      console.log(
        JSON.stringify({
          left: left.text,
          right: right.text,
          normalized: !absolute,
          leftTicks: result.leftTicks,
          rightTicks: result.rightTicks,
          rows,
        }),
      );
      return ExitCode.Ok;
    }
    const { format: fmt } = unitFormatter(left.profileTypeId, Math.max(result.leftTicks, result.rightTicks));
    const show = (v: number) => (absolute ? fmt(v) : pct(v, 1));
    const signed = (v: number) => (v > 0 ? `+${show(v)}` : v < 0 ? `-${show(-v)}` : show(0));
    console.log(
      `Baseline ${left.text}: ${fmt(result.leftTicks)} total; comparison ${right.text}: ${fmt(result.rightTicks)} total (${absolute ? 'values' : 'share of each total'})`,
    );
    console.log(
      table(
        ['baseline', 'comparison', 'change', 'name'],
        rows.map((r) => [show(r.baseline), show(r.comparison), signed(r.change), r.name]),
      ),
    );
    return ExitCode.Ok;
  },
};
