/**
 * Valid inputs to mutate: the real payloads in /testdata and generated ones (text profiles, trie and tree
 * bodies, multipart forms), plus the small encoders the generators and oracles need.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import fc from 'fast-check';
import { fuzzConfig, scaled } from './harness.js';
import { uvarint } from './mutate.js';

export function testdata(path: string): Buffer {
  return readFileSync(new URL(`../../testdata/${path}`, import.meta.url));
}

/** The real pprof fixtures, gzipped as recorded; the large ones only in long runs. */
export function pprofFixtures(): Buffer[] {
  const names = ['go-goroutine', 'nodejs-0.6.4-heap', 'nodejs-0.6.4-wall-cpu', 'go-cpu'];
  if (fuzzConfig.long) names.push('go-allocs', 'go-mutex', 'go-block');
  return names.map((name) => testdata(`pprof/${name}.pb.gz`));
}

export function pprofFixturesRaw(): Buffer[] {
  return pprofFixtures().map((gz) => gunzipSync(gz));
}

/** A recorded `/ingest` request of testdata/ingest/requests.jsonl with its body. */
export interface RecordedIngest {
  query: string;
  contentType: string;
  body: Buffer;
}

export function recordedIngests(): RecordedIngest[] {
  const lines = testdata('ingest/requests.jsonl').toString('utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const r = JSON.parse(line) as { url: string; contentType: string; savedAs: string };
    return {
      query: r.url.slice(r.url.indexOf('?') + 1),
      contentType: r.contentType,
      body: testdata(`ingest/${r.savedAs}`),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Stacks and text formats

/** Frame names: mostly ordinary, sometimes with the separators and odd characters of the formats. */
export const arbFrame: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.:/]{0,20}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'x;y', '\r', '\u{1f525}', '{}', 'main.main') },
);

export interface StackSample {
  stack: string[];
  value: number;
}

export const arbSamples: fc.Arbitrary<StackSample[]> = fc.array(
  fc.record({
    stack: fc.array(arbFrame, { minLength: 1, maxLength: 12 }),
    value: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat()),
  }),
  { maxLength: 20 },
);

export function foldedText(samples: readonly StackSample[], eol = '\n'): string {
  return samples.map(({ stack, value }) => `${stack.join(';')} ${value}${eol}`).join('');
}

/** "lines": each stack repeated `value` times (values capped to keep bodies small). */
export function linesText(samples: readonly StackSample[]): string {
  return samples.map(({ stack, value }) => `${stack.join(';')}\n`.repeat(value % 8)).join('');
}

/** One node of a `tree` or `trie` body. */
export interface PreorderNode {
  name: string | Uint8Array;
  value: number;
  children: PreorderNode[];
}

/** Encodes nodes as a pre-order `uvarint len, name, uvarint value, uvarint childCount` list. */
export function encodePreorder(roots: readonly PreorderNode[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const stack: PreorderNode[] = [...roots].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    const name = typeof node.name === 'string' ? Buffer.from(node.name, 'utf8') : node.name;
    parts.push(uvarint(name.length), name, uvarint(node.value), uvarint(node.children.length));
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return Buffer.concat(parts);
}

const arbNodeValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 1, arbitrary: fc.maxSafeNat() },
);

/** Random trees, a few levels deep and wide. */
export const arbNodes: fc.Arbitrary<PreorderNode[]> = fc.letrec<{
  node: PreorderNode;
  nodes: PreorderNode[];
}>((tie) => ({
  node: fc.record({ name: arbFrame, value: arbNodeValue, children: tie('nodes') }),
  nodes: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<PreorderNode[]>([]),
    fc.array(tie('node'), { maxLength: 4 }),
  ),
})).nodes;

/** A single path of `depth` nodes under an empty root: the shape that makes stacks long. */
export function chain(depth: number, name: string, value: number): PreorderNode[] {
  let node: PreorderNode = { name, value, children: [] };
  for (let i = 1; i < depth; i++) node = { name, value, children: [node] };
  return [{ name: '', value: 0, children: [node] }];
}

export const arbChain: fc.Arbitrary<PreorderNode[]> = fc
  .record({
    depth: fc.integer({ min: 1, max: scaled(200, 5000) }),
    name: fc.constantFrom('a', 'a;', ';', 'frame', '\u00e9', ''),
    value: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ depth, name, value }) => chain(depth, name, value));

/** A `tree` body: top-level nodes are roots without a frame of their own, as agents send them. */
export const arbTreeBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbNodes.map((nodes) => encodePreorder([{ name: '', value: 0, children: nodes }])),
  arbNodes.map(encodePreorder),
  arbChain.map(encodePreorder),
);

// ---------------------------------------------------------------------------------------------------------
// pprof

/** A small pprof built from stacks, as clients send: some with sample labels, gzipped or not. */
export const arbClientPprof: fc.Arbitrary<Uint8Array> = fc
  .record({
    type: fc.constantFrom<[string, string][]>(
      [['cpu', 'nanoseconds']],
      [['samples', 'count']],
      [
        ['alloc_objects', 'count'],
        ['alloc_space', 'bytes'],
      ],
      [['wall', 'nanoseconds']],
    ),
    samples: fc.array(
      fc.record({
        stack: fc.array(arbFrame, { minLength: 0, maxLength: 6 }),
        value: fc.integer({ min: -5, max: 1000 }),
        label: fc.option(
          fc.tuple(fc.constantFrom('handler', 'span_id', 'a.b', '1x', ''), fc.string({ maxLength: 6 })),
        ),
      }),
      { maxLength: 8 },
    ),
    timeNanos: fc.constantFrom(0n, 1_795_702_181_000_000_000n),
    gzip: fc.boolean(),
  })
  .map(({ type, samples, timeNanos, gzip }) => {
    const builder = new ProfileBuilder({ sampleTypes: type, timeNanos, durationNanos: 10_000_000_000n });
    for (const { stack, value, label } of samples) {
      builder.addSample(
        stack,
        type.map(() => value),
        label ? { [label[0]]: label[1] } : undefined,
      );
    }
    return encodeProfile(builder.build(), { gzip });
  });

// ---------------------------------------------------------------------------------------------------------
// multipart/form-data

export interface FormPart {
  name: string;
  filename?: string;
  content: Uint8Array | string;
}

/** A multipart body the way Go's mime/multipart and undici write it. */
export function multipartBody(boundary: string, parts: readonly FormPart[], eol = '\r\n'): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}${eol}Content-Disposition: form-data; name="${part.name}"${filename}${eol}` +
          `Content-Type: application/octet-stream${eol}${eol}`,
      ),
      Buffer.from(part.content),
      Buffer.from(eol),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--${eol}`));
  return Buffer.concat(chunks);
}

export const SAMPLE_TYPE_CONFIG = JSON.stringify({
  inuse_space: { units: 'bytes', aggregation: 'average', 'display-name': 'inuse_space_bytes' },
  alloc_space: { units: 'bytes', cumulative: true, sampled: false },
  cpu: { 'display-name': 'cpu', units: 'samples', sampled: true },
  goroutine: null,
});
