import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { renderHtml } from '@emberscope/model';
import { timeRangeOf, timeRangeOptions } from '../args.js';
import type { Command } from '../command.js';
import { CliError, ExitCode, NoDataError } from '../errors.js';
import { type Client, progress } from '../http.js';
import { collapsedOf, type ProfileQuery, queryOption, resolveQuery } from '../profile.js';
import { mergedFlameGraph } from './top.js';

export interface Flamebearer {
  names: string[];
  levels: number[][];
  numTicks: number;
  maxSelf: number;
}

interface RenderResponse {
  flamebearer: Flamebearer;
  metadata: { units?: string; sampleRate?: number; name?: string };
}

/** `/pyroscope/render` (Pyroscope's legacy query API): the flamebearer JSON of a merged profile. */
export async function renderFlamebearer(
  client: Client,
  q: ProfileQuery,
  range: { start: number; end: number },
): Promise<RenderResponse> {
  return client.getJson<RenderResponse>('/pyroscope/render', {
    query: q.text,
    from: range.start,
    until: range.end,
    maxNodes: 65536,
  });
}

/** A standalone (offline) HTML flame graph page of a flamebearer. */
export function flamebearerHtml(title: string, res: RenderResponse): string {
  return renderHtml(res.flamebearer, {
    title,
    units: res.metadata?.units ?? '',
    sampleRate: res.metadata?.sampleRate,
  });
}

/** Protobuf of querier.v1.SelectMergeProfileRequest: profile_typeID=1, label_selector=2, start=3, end=4. */
export function selectMergeProfileRequest(
  q: ProfileQuery,
  range: { start: number; end: number },
): Uint8Array {
  const out: number[] = [];
  const varint = (v: bigint) => {
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
  };
  const str = (field: number, s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    varint(BigInt((field << 3) | 2));
    varint(BigInt(bytes.length));
    out.push(...bytes);
  };
  str(1, q.profileTypeId);
  str(2, q.selector);
  varint(BigInt(3 << 3));
  varint(BigInt(range.start));
  varint(BigInt(4 << 3));
  varint(BigInt(range.end));
  return Uint8Array.from(out);
}

const human = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
const span = (ms: number) =>
  ms >= 86_400_000
    ? `${(ms / 86_400_000).toFixed(1)} d`
    : ms >= 3_600_000
      ? `${(ms / 3_600_000).toFixed(1)} h`
      : `${Math.round(ms / 60_000)} min`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'the merged profile as pprof, collapsed text, flamebearer JSON or standalone HTML',
  usage:
    "emberscope export --query 'TYPE{SELECTOR}' --format pprof|collapsed|flamebearer|html -o FILE [options]",
  description: `Merges every profile of the query over the range on the server and writes it to FILE (or stdout
with -o -). Formats:
  pprof        gzip'd pprof with full symbols, for go tool pprof (SelectMergeProfile)
  collapsed    folded stacks "root;…;leaf value", for flamegraph.pl, speedscope, …
  flamebearer  Pyroscope's flame graph JSON (/pyroscope/render)
  html         a standalone flame graph page that works offline
Progress goes to stderr. Exits 3 when the range holds no data.

Examples:
  emberscope export --query 'cpu{service_name="checkout"}' --from now-24h --format pprof -o cpu.pb.gz
  go tool pprof -top cpu.pb.gz`,
  options: [
    queryOption(),
    {
      name: 'format',
      kind: 'string',
      value: 'FORMAT',
      help: 'pprof, collapsed, flamebearer or html',
      default: 'pprof',
    },
    { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'output file; - for stdout (required)' },
    ...timeRangeOptions(),
  ],
  async run(args, client) {
    const queryText = args.required('query');
    const format = args.choice('format', ['pprof', 'collapsed', 'flamebearer', 'html'] as const);
    const out = args.required('out');
    const range = timeRangeOf(args);
    const q = await resolveQuery(client, queryText, range);
    const started = Date.now();
    progress(
      'export',
      `merging ${q.text} over ${span(range.end - range.start)} (${new Date(range.start).toISOString()} → ${new Date(range.end).toISOString()})`,
    );
    let data: Uint8Array | string;
    switch (format) {
      case 'pprof': {
        const bytes = await client.connectProto(
          'querier.v1.QuerierService',
          'SelectMergeProfile',
          selectMergeProfileRequest(q, range),
        );
        // An empty message (or one without samples, field 2) means no data.
        if (!hasSamples(bytes)) throw new NoDataError(`no data for ${q.text} in this range`);
        data = gzipSync(bytes);
        break;
      }
      case 'collapsed': {
        const fg = await mergedFlameGraph(client, q, range);
        data = collapsedOf(fg);
        if (data === '') throw new NoDataError(`no data for ${q.text} in this range`);
        break;
      }
      default: {
        const res = await renderFlamebearer(client, q, range);
        if (!(res.flamebearer?.numTicks > 0)) throw new NoDataError(`no data for ${q.text} in this range`);
        data = format === 'html' ? flamebearerHtml(q.text, res) : JSON.stringify(res);
      }
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (out === '-') process.stdout.write(data);
    else {
      try {
        await writeFile(out, data);
      } catch (err) {
        throw new CliError(
          `cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          ExitCode.ServerError,
        );
      }
    }
    progress(
      'export',
      `wrote ${human(size)} of ${format} to ${out === '-' ? 'stdout' : out} in ${Date.now() - started} ms`,
    );
    return ExitCode.Ok;
  },
};

/** Whether a serialized pprof Profile has at least one sample (field 2), scanning the top-level fields. */
function hasSamples(buf: Uint8Array): boolean {
  let pos = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated');
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
  };
  try {
    while (pos < buf.length) {
      const key = varint();
      const wt = key & 7;
      if (key >>> 3 === 2) return true;
      if (wt === 0) varint();
      else if (wt === 2) pos += varint();
      else if (wt === 1) pos += 8;
      else if (wt === 5) pos += 4;
      else return true;
    }
  } catch {
    return true;
  }
  return false;
}
