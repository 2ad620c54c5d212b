import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { outputOption, parseTime } from '../args.js';
import type { Command } from '../command.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { progress } from '../http.js';

type Format = 'pprof' | 'folded';

/** pprof (raw or gzip) or folded text (raw or gzip), told apart by content rather than by file name. */
export function detectFormat(bytes: Uint8Array): { format: Format; gzip: boolean } {
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let head = bytes;
  if (gzip) {
    try {
      head = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH: a truncated prefix is fine */ }).subarray(
        0,
        4096,
      );
    } catch {
      return { format: 'pprof', gzip };
    }
  }
  return { format: looksLikeFolded(head.subarray(0, 4096)) ? 'folded' : 'pprof', gzip };
}

/** Folded text: printable UTF-8 lines ending in a count. */
function looksLikeFolded(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20)) return false;
  return true;
}

function humanBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'send pprof or collapsed (folded) files to the server',
  usage: 'emberscope ingest --name APP{k=v,…} [options] FILE…',
  description: `Sends each FILE to POST /ingest (Pyroscope's ingestion API), one request per file, and prints
a progress line per file on stderr. The format is detected from the content unless --format says:
gzip'd or raw pprof, or collapsed text ("frame1;frame2;leaf 42" per line, gzip'd or not). For collapsed
files the name's suffix gives the profile type, as in Pyroscope: app.cpu, app.alloc_space, …

Examples:
  emberscope ingest --name 'checkout{env=prod}' cpu.pb.gz heap.pb.gz
  emberscope ingest --name checkout.cpu --from now-5m --until now stacks.folded`,
  options: [
    { name: 'name', kind: 'string', value: 'APP{k=v}', help: 'application name and labels (required)' },
    {
      name: 'format',
      kind: 'string',
      value: 'auto|pprof|folded',
      help: 'file format',
      default: 'auto',
    },
    {
      name: 'from',
      kind: 'string',
      value: 'TIME',
      help: 'profile start (default: from the profile, or now)',
    },
    { name: 'until', kind: 'string', value: 'TIME', help: 'profile end' },
    {
      name: 'sample-rate',
      kind: 'string',
      value: 'HZ',
      help: 'samples per second of collapsed CPU profiles',
    },
    { name: 'spy-name', kind: 'string', value: 'NAME', help: 'pyroscope_spy label value (e.g. gospy)' },
    outputOption,
  ],
  async run(args, client) {
    const name = args.required('name');
    const format = args.choice('format', ['auto', 'pprof', 'folded'] as const);
    const output = args.choice('output', ['text', 'json'] as const);
    const files = args.positionals;
    if (files.length === 0) throw new UsageError('no FILE given');
    const now = Date.now();
    const from = args.string('from');
    const until = args.string('until');
    // Checked before anything is sent; the server receives them as unix seconds.
    const fromS = from === undefined ? undefined : Math.floor(parseTime(from, now, 'from') / 1000);
    const untilS = until === undefined ? undefined : Math.floor(parseTime(until, now, 'until') / 1000);
    const sampleRate = args.int('sample-rate');
    const results: { file: string; format: Format; bytes: number; ms: number }[] = [];
    for (const [i, file] of files.entries()) {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        throw new CliError(
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          ExitCode.Usage,
        );
      }
      const detected = detectFormat(bytes);
      const fileFormat = format === 'auto' ? detected.format : format;
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      // pprof carries its own gzip (the server sniffs it); folded text travels with Content-Encoding.
      if (fileFormat === 'folded' && detected.gzip) headers['content-encoding'] = 'gzip';
      if (fileFormat === 'folded') headers['content-type'] = 'text/plain';
      const started = Date.now();
      await client.request('/ingest', {
        body: bytes,
        headers,
        query: {
          name,
          format: fileFormat === 'pprof' ? 'pprof' : 'folded',
          from: fromS,
          until: untilS,
          sampleRate,
          spyName: args.string('spy-name'),
        },
      });
      const ms = Date.now() - started;
      results.push({ file, format: fileFormat, bytes: bytes.length, ms });
      progress(
        'ingest',
        `[${i + 1}/${files.length}] ${file}: ${humanBytes(bytes.length)} ${fileFormat}${detected.gzip ? ' (gzip)' : ''} sent in ${ms} ms`,
      );
    }
    if (output === 'json') console.log(JSON.stringify({ name, files: results }));
    else console.log(`ingested ${files.length} file${files.length === 1 ? '' : 's'} as ${name}`);
    return ExitCode.Ok;
  },
};
