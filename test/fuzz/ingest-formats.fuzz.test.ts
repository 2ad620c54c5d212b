/**
 * The text and binary body formats of `/ingest`: folded, lines, tree, trie. Each parser either calls its
 * sink with stacks and positive values, or throws a 422 `bad_format` IngestError. Its output, written
 * back in the same format, parses to the same output.
 */
import fc from 'fast-check';
import { parseFolded } from '../../packages/ingest/src/formats/folded.js';
import { parseLines } from '../../packages/ingest/src/formats/lines.js';
import type { StackSink } from '../../packages/ingest/src/formats/text.js';
import { parseTree } from '../../packages/ingest/src/formats/tree.js';
import { parseTrie } from '../../packages/ingest/src/formats/trie.js';
import { IngestError } from '../../packages/ingest/src/index.js';
import { bytesCodec, fuzzTarget, invariant, outcome, scaled, UndocumentedError } from './harness.js';
import { mutants, TEXT_TOKENS, textTokens, VARINT_TOKENS } from './mutate.js';
import { checkFormatError } from './oracles.js';
import {
  arbChain,
  arbNodes,
  arbSamples,
  arbTreeBody,
  encodePreorder,
  foldedText,
  linesText,
  type PreorderNode,
  type StackSample,
} from './seeds.js';

type Parser = (body: Uint8Array, sink: StackSink) => void;

/**
 * The real caller (ingestText) stops a body whose stacks add up to more than the profile size limit by
 * throwing from the sink: a tree or trie chain of n nodes holds n stacks of up to n frames. The oracles
 * do the same, with this budget, so that the parser's own work stays bounded.
 */
const OUTPUT_BUDGET = 1024 * 1024;

class OutputBudgetExceeded extends Error {}

interface Parsed {
  samples: StackSample[];
  /** False when the sink stopped the parser at OUTPUT_BUDGET. */
  complete: boolean;
}

/** Runs a parser; its samples, or undefined when it refused the body with its documented error. */
function parse(parser: Parser, body: Uint8Array): Parsed | undefined {
  const samples: StackSample[] = [];
  let bytes = 0;
  const sink: StackSink = (stack, value) => {
    for (const frame of stack) bytes += frame.length + 1;
    if (bytes > OUTPUT_BUDGET) throw new OutputBudgetExceeded();
    samples.push({ stack: [...stack], value });
  };
  try {
    const result = outcome(() => parser(body, sink), IngestError, checkFormatError);
    return result.ok ? { samples, complete: true } : undefined;
  } catch (error) {
    if (error instanceof UndocumentedError && error.cause instanceof OutputBudgetExceeded) {
      return { samples, complete: false };
    }
    throw error;
  }
}

function checkSamples(samples: readonly StackSample[], format: string): void {
  for (const { stack, value } of samples) {
    invariant(
      Number.isSafeInteger(value) && value > 0,
      `${format}: value ${value} is not a positive integer`,
    );
    invariant(stack.length > 0, `${format}: empty stack`);
    invariant(
      stack.every((frame) => typeof frame === 'string'),
      `${format}: a frame is not a string`,
    );
  }
}

const key = (stack: readonly string[]) => JSON.stringify(stack);

/** Values summed per stack; undefined when a sum leaves the range the formats can carry. */
function aggregate(samples: readonly StackSample[]): Map<string, number> | undefined {
  const sums = new Map<string, number>();
  for (const { stack, value } of samples) sums.set(key(stack), (sums.get(key(stack)) ?? 0) + value);
  for (const sum of sums.values()) if (!Number.isSafeInteger(sum)) return undefined;
  return sums;
}

function sameAggregate(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/** Sorted for a readable failure message. */
function describeAggregate(m: Map<string, number>): string {
  return JSON.stringify([...m].sort().slice(0, 20));
}

/** A `tree` body holding exactly these stacks: one prefix tree under an empty root. */
function treeBodyOf(sums: Map<string, number>): Uint8Array {
  const root: PreorderNode = { name: '', value: 0, children: [] };
  const childIndex = new Map<PreorderNode, Map<string, PreorderNode>>();
  for (const [stackKey, value] of sums) {
    let node = root;
    for (const frame of JSON.parse(stackKey) as string[]) {
      let index = childIndex.get(node);
      if (!index) {
        index = new Map();
        childIndex.set(node, index);
      }
      let child = index.get(frame);
      if (!child) {
        child = { name: frame, value: 0, children: [] };
        node.children.push(child);
        index.set(frame, child);
      }
      node = child;
    }
    node.value += value;
  }
  return encodePreorder([root]);
}

/** A `trie` body holding exactly these stacks: one top-level node per stack, named by its key. */
function trieBodyOf(sums: Map<string, number>): Uint8Array {
  return encodePreorder(
    [...sums].map(([stackKey, value]) => ({
      name: (JSON.parse(stackKey) as string[]).join(';'),
      value,
      children: [],
    })),
  );
}

// ---------------------------------------------------------------------------------------------------------

const textMutants = (seeds: Uint8Array[]) =>
  mutants(seeds, { dictionary: TEXT_TOKENS, maxRepeat: scaled(64, 2048), maxRun: scaled(4096, 1 << 20) });

const foldedSeeds = [
  Buffer.from('main;work;leaf 10\nmain;idle 3\n'),
  Buffer.from('a;b c;d 1\r\nfoo 2\r\n\r\n  x  7\n'),
  Buffer.from('java/lang/Thread.run;com/example/App.main 42\n'.repeat(4)),
];

fuzzTarget({
  name: 'folded',
  codec: bytesCodec,
  check(body) {
    const parsed = parse(parseFolded, body);
    if (!parsed) return;
    const { samples } = parsed;
    checkSamples(samples, 'folded');
    for (const { stack } of samples) {
      invariant(
        stack.every((f) => !f.includes(';') && !f.includes('\n')),
        'folded: a frame holds ; or a newline',
      );
    }
    if (!parsed.complete) return;
    // Written back one line per sample, it parses to the same samples in the same order.
    const again = parse(parseFolded, Buffer.from(foldedText(samples)))?.samples;
    invariant(
      again !== undefined &&
        key(again.map((s) => [key(s.stack), s.value].join())) ===
          key(samples.map((s) => [key(s.stack), s.value].join())),
      'folded: output written back parses differently',
    );
  },
  properties: [
    {
      name: 'arbitrary strings',
      arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
      runs: 150,
    },
    {
      name: 'mutations of generated and sample bodies',
      arbitrary: fc.oneof(
        arbSamples.map((s) => Buffer.from(foldedText(s))),
        arbSamples.chain((s) => textMutants([Buffer.from(foldedText(s, '\r\n')), ...foldedSeeds])),
      ),
      runs: 150,
    },
  ],
});

fuzzTarget({
  name: 'lines',
  codec: bytesCodec,
  check(body) {
    const parsed = parse(parseLines, body);
    invariant(parsed !== undefined, 'lines has no error to throw');
    const { samples } = parsed;
    checkSamples(samples, 'lines');
    if (!parsed.complete) return;
    // Every non-empty line is one sample of its stack. Decoded as the parser decodes it: a leading
    // byte-order mark is not part of the first line.
    const lines = new TextDecoder().decode(body).split('\n');
    const nonEmpty = lines.filter((l) => l !== '' && l !== '\r').length;
    const total = samples.reduce((sum, s) => sum + s.value, 0);
    invariant(
      total === nonEmpty,
      `lines: values add up to ${total}, the body has ${nonEmpty} non-empty lines`,
    );
    const written = samples.map((s) => `${s.stack.join(';')}\r\n`.repeat(s.value)).join('');
    const again = parse(parseLines, Buffer.from(written))?.samples;
    invariant(
      again !== undefined &&
        key(again.map((s) => [key(s.stack), s.value].join())) ===
          key(samples.map((s) => [key(s.stack), s.value].join())),
      'lines: output written back parses differently',
    );
  },
  properties: [
    {
      name: 'arbitrary strings',
      arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
      runs: 100,
    },
    {
      name: 'mutations of generated bodies',
      arbitrary: arbSamples.chain((s) => textMutants([Buffer.from(linesText(s)), ...foldedSeeds])),
      runs: 100,
    },
  ],
});

// ---------------------------------------------------------------------------------------------------------

/** Both binary formats: sound stacks, and the output re-encoded parses to the same stacks. */
function binaryFormatCheck(
  format: 'tree' | 'trie',
  parser: Parser,
  encode: (sums: Map<string, number>) => Uint8Array,
) {
  return (body: Uint8Array) => {
    const parsed = parse(parser, body);
    if (!parsed) return;
    checkSamples(parsed.samples, format);
    const sums = aggregate(parsed.samples);
    if (!sums || !parsed.complete) return;
    const again = parse(parser, encode(sums));
    invariant(again?.complete, `${format}: output written back is refused or larger`);
    const sumsAgain = aggregate(again.samples)!;
    invariant(
      sameAggregate(sums, sumsAgain),
      () =>
        `${format}: output written back parses differently: ${describeAggregate(sums)} vs ${describeAggregate(sumsAgain)}`,
    );
  };
}

const binaryMutants = (seeds: Uint8Array[]) =>
  mutants(seeds, {
    dictionary: [
      ...VARINT_TOKENS,
      ...textTokens(';', '', 'a;b'),
      Uint8Array.of(0),
      Uint8Array.of(1, 0x61, 1, 1),
    ],
    maxRepeat: scaled(64, 4096),
  });

const binaryProperties = [
  { name: 'arbitrary bytes', arbitrary: fc.uint8Array({ maxLength: 300 }), runs: 150 },
  { name: 'generated trees, deep chains', arbitrary: arbTreeBody, runs: 60 },
  {
    name: 'mutations of generated trees',
    arbitrary: fc.oneof(arbNodes, arbChain).chain((nodes) => binaryMutants([encodePreorder(nodes)])),
    runs: 200,
  },
];

fuzzTarget({
  name: 'tree',
  codec: bytesCodec,
  check: binaryFormatCheck('tree', parseTree, treeBodyOf),
  properties: binaryProperties,
});

fuzzTarget({
  name: 'trie',
  codec: bytesCodec,
  check: binaryFormatCheck('trie', parseTrie, trieBodyOf),
  properties: binaryProperties,
});
