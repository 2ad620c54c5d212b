import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { flamebearerMetadata, renderHtml } from '@emberscope/model';
import { decodeProfile, encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import { parseDuration, timeRangeOf, timeRangeOptions } from '../args.js';
import type { Command } from '../command.js';
import { CliError, ExitCode, NoDataError, UsageError } from '../errors.js';
import { type Client, progress, ServerError } from '../http.js';
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
  ms < 60_000
    ? `${Math.round(ms / 1000)} s`
    : ms >= 86_400_000
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
Ranges longer than the server allows are merged day by day here (--chunk sets the window); in pprof
such merges keep function names but not line numbers. Progress goes to stderr. Exits 3 without data.

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
    {
      name: 'chunk',
      kind: 'string',
      value: 'DURATION',
      help: 'merge window by window (e.g. 1d) on this side; automatic when the range exceeds the server limit',
    },
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
    const chunkText = args.string('chunk');
    let data: Uint8Array | string;
    if (chunkText !== undefined) {
      data = await exportChunked(client, q, range, parseDuration(chunkText, '--chunk'), format);
    } else {
      try {
        data = await withHeartbeat(exportOnce(client, q, range, format));
      } catch (err) {
        // A range longer than the server allows (--max-query-range): merge window by window here instead.
        if (
          !(
            err instanceof ServerError &&
            err.status === 400 &&
            /query range .* exceeds/.test(err.serverMessage)
          )
        )
          throw err;
        const chunkMs = chunkUnder(err.serverMessage);
        progress('export', `${err.serverMessage}; merging in chunks of ${span(chunkMs)} instead`);
        data = await exportChunked(client, q, range, chunkMs, format);
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

/** Windows safely under the limit the server states ("… exceeds the limit of 32d …"); 1 day if unstated. */
function chunkUnder(message: string): number {
  const limit = /limit of ([\d.]+(?:ms|s|m|h|d))\b/.exec(message)?.[1];
  if (!limit) return 86_400_000;
  return Math.max(1000, Math.floor(parseDuration(limit) * 0.9));
}

/** Resolves like `work`, telling on stderr every 10 s that the server is still at it. */
async function withHeartbeat<T>(work: Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => progress('export', `still merging on the server (${Math.round((Date.now() - started) / 1000)} s)`),
    10_000,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

type Format = 'pprof' | 'collapsed' | 'flamebearer' | 'html';
type Range = { start: number; end: number };

/** The whole range merged by the server in one request. */
async function exportOnce(
  client: Client,
  q: ProfileQuery,
  range: Range,
  format: Format,
): Promise<Uint8Array | string> {
  switch (format) {
    case 'pprof': {
      const bytes = await client.connectProto(
        'querier.v1.QuerierService',
        'SelectMergeProfile',
        selectMergeProfileRequest(q, range),
      );
      // An empty message (or one without samples, field 2) means no data.
      if (!hasSamples(bytes)) throw new NoDataError(`no data for ${q.text} in this range`);
      return gzipSync(bytes);
    }
    case 'collapsed': {
      const fg = await mergedFlameGraph(client, q, range);
      const text = collapsedOf(fg);
      if (text === '') throw new NoDataError(`no data for ${q.text} in this range`);
      return text;
    }
    default: {
      const res = await renderFlamebearer(client, q, range);
      if (!(res.flamebearer?.numTicks > 0)) throw new NoDataError(`no data for ${q.text} in this range`);
      return format === 'html' ? flamebearerHtml(q.text, res) : JSON.stringify(res);
    }
  }
}

/**
 * The range merged window by window (each at most `chunkMs`), then merged here: pprof samples by function
 * stack (line numbers and addresses are not kept across windows), other formats by folded stack.
 */
async function exportChunked(
  client: Client,
  q: ProfileQuery,
  range: Range,
  chunkMs: number,
  format: Format,
): Promise<Uint8Array | string> {
  if (!(chunkMs >= 1000)) throw new UsageError('--chunk must be at least 1s');
  const windows: Range[] = [];
  // Query ranges include both ends: windows must not share their boundary milliseconds.
  for (let start = range.start; start <= range.end; start += chunkMs)
    windows.push({ start, end: Math.min(range.end, start + chunkMs - 1) });
  let builder: ProfileBuilder | undefined;
  const stacks = new Map<string, number>();
  for (const [i, w] of windows.entries()) {
    progress(
      'export',
      `chunk ${i + 1}/${windows.length}: ${new Date(w.start).toISOString()} → ${new Date(w.end).toISOString()}`,
    );
    if (format === 'pprof') {
      const bytes = await client.connectProto(
        'querier.v1.QuerierService',
        'SelectMergeProfile',
        selectMergeProfileRequest(q, w),
      );
      if (!hasSamples(bytes)) continue;
      builder = addSamples(builder, decodeProfile(bytes), range);
    } else {
      for (const line of collapsedOf(await mergedFlameGraph(client, q, w)).split('\n')) {
        const at = line.lastIndexOf(' ');
        if (at > 0)
          stacks.set(line.slice(0, at), (stacks.get(line.slice(0, at)) ?? 0) + Number(line.slice(at + 1)));
      }
    }
  }
  if (format === 'pprof') {
    if (!builder) throw new NoDataError(`no data for ${q.text} in this range`);
    return encodeProfile(builder.build(), { gzip: true });
  }
  if (stacks.size === 0) throw new NoDataError(`no data for ${q.text} in this range`);
  if (format === 'collapsed')
    return `${[...stacks]
      .map(([stack, v]) => `${stack} ${v}`)
      .sort()
      .join('\n')}\n`;
  const res = {
    version: 1,
    flamebearer: flamebearerOf(stacks),
    metadata: flamebearerMetadata(q.profileTypeId),
  };
  return format === 'html' ? flamebearerHtml(q.text, res) : JSON.stringify(res);
}

/** Adds every sample of `p` (root-first function names, all value columns) to the merged profile. */
function addSamples(
  builder: ProfileBuilder | undefined,
  p: ReturnType<typeof decodeProfile>,
  range: Range,
): ProfileBuilder {
  const str = (i: number) => p.strings[i] ?? '';
  const types = p.sampleTypes.length / 2;
  const b =
    builder ??
    new ProfileBuilder({
      sampleTypes: Array.from(
        { length: types },
        (_, t) => [str(p.sampleTypes[2 * t]), str(p.sampleTypes[2 * t + 1])] as const,
      ),
      periodType: [str(p.periodType[0]), str(p.periodType[1])],
      period: p.period,
      timeNanos: BigInt(range.start) * 1_000_000n,
      durationNanos: BigInt(range.end - range.start) * 1_000_000n,
    });
  for (let s = 0; s < p.sampleCount; s++) {
    const leafFirst: string[] = [];
    for (let k = p.sampleLocStart[s]; k < p.sampleLocStart[s + 1]; k++) {
      const loc = p.sampleLocs[k];
      for (let row = p.locationLineStart[loc]; row < p.locationLineStart[loc + 1]; row++) {
        const fn = p.lineFunction[row];
        leafFirst.push(fn < 0 ? '?' : str(p.functionName[fn]));
      }
    }
    b.addSample(leafFirst.reverse(), Array.from(p.values.subarray(s * types, (s + 1) * types)));
  }
  return b;
}

interface TreeNode {
  self: number;
  total: number;
  children: Map<string, TreeNode>;
}

/** A flamebearer (levels of [x delta, total, self, name] quadruples, children by name) from folded stacks. */
export function flamebearerOf(stacks: Map<string, number>): Flamebearer {
  const root: TreeNode = { self: 0, total: 0, children: new Map() };
  for (const [stack, value] of stacks) {
    root.total += value;
    let node = root;
    for (const name of stack.split(';')) {
      let child = node.children.get(name);
      if (!child) {
        child = { self: 0, total: 0, children: new Map() };
        node.children.set(name, child);
      }
      child.total += value;
      node = child;
    }
    node.self += value;
  }
  const names = ['total'];
  const nameIndex = new Map<string, number>([['total', 0]]);
  const levels: number[][] = [];
  const prevEnd: number[] = [];
  let maxSelf = 0;
  const visit = (name: string, node: TreeNode, depth: number, x: number) => {
    let index = nameIndex.get(name);
    if (index === undefined) {
      index = names.push(name) - 1;
      nameIndex.set(name, index);
    }
    levels[depth] ??= [];
    levels[depth].push(x - (prevEnd[depth] ?? 0), node.total, node.self, index);
    prevEnd[depth] = x + node.total;
    maxSelf = Math.max(maxSelf, node.self);
    let childX = x;
    for (const [childName, child] of [...node.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      visit(childName, child, depth + 1, childX);
      childX += child.total;
    }
  };
  visit('total', root, 0, 0);
  return { names, levels, numTicks: root.total, maxSelf };
}
