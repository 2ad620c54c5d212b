import { DEFAULT_MAX_NODES, type FunctionTree, functionTable } from './flamegraph.js';
import { keepNodes, truncationThreshold } from './internal/layout.js';
import { childLists, OTHER_NAME, TreeBuilder } from './internal/tree-builder.js';
import { compareUtf8, utf8SortKey } from './internal/utf8.js';

// ---------------------------------------------------------------------------------------------------
// Pyroscope's tree wire format (`PROFILE_FORMAT_TREE`, and the `/ingest?format=tree` body)

/**
 * Encodes the tree in Pyroscope's tree format: nodes in depth-first pre-order, each as
 * `uvarint nameLength, name (UTF-8), uvarint self, uvarint childCount`, the first being the root with an
 * empty name. Children come sorted by name (UTF-8 bytes). Truncated as toFlameGraph does: past
 * `maxNodes` nodes (root excluded; ≤ 0 means the default, Infinity none) only those whose total reaches
 * the `maxNodes`-th largest are kept, and each kept node's dropped children become one last child named
 * "other" whose self is their summed total. An empty tree encodes to no bytes, as in Pyroscope.
 * Values must be non-negative; fractions are truncated, as Go's int64 conversion does.
 */
export function encodeTree(tree: FunctionTree, maxNodes = DEFAULT_MAX_NODES): Uint8Array {
  if (tree.size <= 1 && tree.total[0] === 0) return new Uint8Array(0);
  const limit = maxNodes > 0 ? maxNodes : DEFAULT_MAX_NODES;
  const sides = [tree];
  const kept = keepNodes(tree, sides, tree.total, truncationThreshold(tree.total, tree.size, limit));
  const { node, childStart, children, otherTotal, hasOther } = kept;
  const out = new ByteWriter();
  const encoder = new TextEncoder();
  const nameBytes: (Uint8Array | undefined)[] = [];
  const nameOf = (nameId: number) => {
    let bytes = nameBytes[nameId];
    if (bytes === undefined) bytes = nameBytes[nameId] = encoder.encode(tree.names[nameId]);
    return bytes;
  };
  const otherName = encoder.encode(OTHER_NAME);
  const writeNode = (name: Uint8Array, self: number, childCount: number) => {
    out.uvarint(name.length);
    out.bytes(name);
    out.uvarint(wireValue(self));
    out.uvarint(childCount);
  };
  // Pre-order walk over kept numbers; ~k is the "other" child of kept node k.
  const stack = [0];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (entry < 0) {
      writeNode(otherName, otherTotal[~entry], 0);
      continue;
    }
    const first = childStart[entry];
    const end = childStart[entry + 1];
    const count = end - first + hasOther[entry];
    writeNode(entry === 0 ? EMPTY : nameOf(tree.name[node[entry]]), tree.self[node[entry]], count);
    if (hasOther[entry]) stack.push(~entry);
    for (let c = end - 1; c >= first; c--) stack.push(children[c]);
  }
  return out.finish();
}

const EMPTY = new Uint8Array(0);

function wireValue(value: number): number {
  if (!(value >= 0) || value === Number.POSITIVE_INFINITY) {
    throw new RangeError(`the tree format holds non-negative integers, not ${value}`);
  }
  return Math.trunc(value);
}

/** Thrown for bytes that are not a well-formed tree. */
export class TreeFormatError extends Error {
  override name = 'TreeFormatError';
}

/**
 * Decodes Pyroscope's tree format (see encodeTree) into a function tree. Children of one node that share
 * a name are merged, and the order of children does not matter. The root's name is ignored.
 */
export function decodeTree(bytes: Uint8Array): FunctionTree {
  // Nodes take a dozen bytes or more, most of them the name.
  const builder = new TreeBuilder(bytes.length / 16);
  if (bytes.length === 0) return builder.finish();
  const reader = new ByteReader(bytes);
  const names = new NameInterner(bytes, builder);
  reader.bytes(reader.uvarint()); // the root's name
  builder.addSelf(0, reader.uvarint());
  // Open nodes and how many children each still expects.
  const openNode = [0];
  const remaining = [reader.uvarint()];
  while (openNode.length > 0) {
    const top = remaining.length - 1;
    if (remaining[top] === 0) {
      openNode.pop();
      remaining.pop();
      continue;
    }
    remaining[top]--;
    const nameLength = reader.uvarint();
    const nameStart = reader.offset;
    reader.bytes(nameLength);
    const node = builder.child(openNode[top], names.intern(nameStart, nameLength));
    builder.addSelf(node, reader.uvarint());
    const childCount = reader.uvarint();
    if (childCount > 0) {
      openNode.push(node);
      remaining.push(childCount);
    }
  }
  if (!reader.done) {
    throw new TreeFormatError(`invalid tree: ${bytes.length - reader.offset} bytes after the last node`);
  }
  return builder.finish();
}

/**
 * Name ids of names given as byte ranges of one buffer. Equal names are found by a hash of their bytes,
 * so a name is decoded from UTF-8 once, and repeated names cost no string at all.
 */
class NameInterner {
  /** Open addressing, at most half full: entry + 1, or 0 for an empty slot. */
  private slots = new Int32Array(1024);
  private readonly start: number[] = [];
  private readonly length: number[] = [];
  private readonly nameId: number[] = [];
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly buf: Uint8Array,
    private readonly builder: TreeBuilder,
  ) {}

  intern(start: number, length: number): number {
    const { buf } = this;
    let hash = 0x811c9dc5;
    for (let i = start; i < start + length; i++) hash = Math.imul(hash ^ buf[i], 0x01000193);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let entry = this.slots[slot] - 1; entry >= 0; entry = this.slots[slot] - 1) {
      if (this.length[entry] === length && this.sameBytes(this.start[entry], start, length))
        return this.nameId[entry];
      slot = (slot + 1) & mask;
    }
    let name: string;
    try {
      name = this.decoder.decode(buf.subarray(start, start + length));
    } catch {
      throw new TreeFormatError(`invalid tree: the name at byte ${start} is not valid UTF-8`);
    }
    const entry = this.start.push(start) - 1;
    this.length.push(length);
    // Different bytes can only decode to the same string when invalid, which the decoder refuses.
    this.nameId.push(this.builder.internName(name));
    this.slots[slot] = entry + 1;
    if (2 * this.start.length > this.slots.length) this.rehash();
    return this.nameId[entry];
  }

  private sameBytes(a: number, b: number, length: number): boolean {
    const { buf } = this;
    for (let i = 0; i < length; i++) if (buf[a + i] !== buf[b + i]) return false;
    return true;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.start.length; entry++) {
      let hash = 0x811c9dc5;
      const end = this.start[entry] + this.length[entry];
      for (let i = this.start[entry]; i < end; i++) hash = Math.imul(hash ^ this.buf[i], 0x01000193);
      let slot = hash & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

class ByteWriter {
  private buf = new Uint8Array(4096);
  private length = 0;

  uvarint(value: number): void {
    this.reserve(10);
    let v = value;
    // Division rather than bit operations, which would cut values to 32 bits.
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buf.length, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
}

class ByteReader {
  offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.offset === this.buf.length;
  }

  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.buf.length) throw new TreeFormatError('invalid tree: truncated varint');
      const b = this.buf[this.offset++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new TreeFormatError(`invalid tree: varint longer than 10 bytes at byte ${this.offset}`);
  }

  bytes(length: number): Uint8Array {
    if (length > this.buf.length - this.offset) {
      throw new TreeFormatError(`invalid tree: a name of ${length} bytes runs past the end`);
    }
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Collapsed (folded) stacks

/**
 * The tree as collapsed stacks, the format of flamegraph.pl and `/render?format=collapsed`: one line
 * `root;…;leaf <self>` per node with a non-zero self value, lines sorted by their UTF-8 bytes, each
 * ending in a newline. Names holding ";" or a line break cannot be told apart from frame and line
 * separators in this format.
 */
export function toCollapsed(tree: FunctionTree): string {
  const { parent, name, self, size } = tree;
  // V8 builds these concatenations as ropes, so a path costs one node per frame until it is read.
  const path: string[] = new Array(size);
  path[0] = '';
  const lines: string[] = [];
  for (let n = 1; n < size; n++) {
    const frame = tree.names[name[n]];
    path[n] = parent[n] === 0 ? frame : `${path[parent[n]]};${frame}`;
    if (self[n] !== 0) lines.push(`${path[n]} ${self[n]}`);
  }
  // Sort keys made once per line rather than once per comparison.
  const keys = lines.map(utf8SortKey);
  const order = Array.from(keys.keys()).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
  let out = '';
  for (const i of order) out += `${lines[i]}\n`;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Graphviz call graph

/** pprof's defaults: functions under 0.5 % and calls under 0.1 % of the total are left out. */
const NODE_FRACTION = 0.005;
const EDGE_FRACTION = 0.001;

/**
 * A Graphviz DOT call graph of the heaviest functions, in the style of `go tool pprof -dot` (which
 * `/pyroscope/render?format=dot` returns): one box per function, labelled with its name, self value
 * and total with their shares of the whole, sized by self and coloured by total; an arrow from caller to
 * callee labelled with the value of the stacks through that call. At most `maxNodes` functions, the
 * largest totals first; as in pprof, functions under 0.5 % and calls under 0.1 % of the total are
 * left out. A recursive function's total, and a repeated call's value, count once per stack.
 */
export function toDot(tree: FunctionTree, maxNodes = 100): string {
  const rootTotal = tree.total[0];
  const stats = functionTable(tree);
  const shown = stats
    .filter((row) => row.total > 0 && row.total >= NODE_FRACTION * rootTotal)
    .sort((a, b) => b.total - a.total || b.self - a.self || compareUtf8(a.name, b.name))
    .slice(0, Math.min(Math.max(0, maxNodes), EDGE_KEY - 1));
  const idOf = new Map(shown.map((row, i) => [row.name, i + 1]));
  const maxSelf = Math.max(0, ...shown.map((row) => row.self));
  const share = (value: number) => (rootTotal > 0 ? value / rootTotal : 0);
  const percent = (value: number) => `${(100 * share(value)).toFixed(2)}%`;

  const lines = ['digraph "call graph" {', 'node [style=filled fillcolor="#f8f8f8"]'];
  const shownSelf = shown.reduce((sum, row) => sum + row.self, 0);
  const legend = [
    `Total: ${rootTotal}`,
    `Showing ${shown.length} of ${stats.length} functions, with ${shownSelf} (${percent(shownSelf)}) of the self values`,
  ];
  lines.push(
    `subgraph cluster_L { "legend" [shape=box fontsize=16 label="${legend.map(dotEscape).join('\\l')}\\l"] }`,
  );
  for (const row of shown) {
    const label = [row.name, `${row.self} (${percent(row.self)})`, `of ${row.total} (${percent(row.total)})`];
    const fontSize = Math.round(8 + 16 * Math.sqrt(maxSelf > 0 ? row.self / maxSelf : 0));
    const score = share(row.total);
    lines.push(
      `N${idOf.get(row.name)} [label="${label.map(dotEscape).join('\\n')}" id="node${idOf.get(row.name)}" ` +
        `fontsize=${fontSize} shape=box tooltip="${dotEscape(`${row.name} (${row.total})`)}" ` +
        `color="${mix(GREY_LINE, HOT_LINE, score)}" fillcolor="${mix(GREY_FILL, HOT_FILL, score)}"]`,
    );
  }
  const edges = callEdges(tree, idOf);
  for (const [key, weight] of [...edges].sort((a, b) => a[0] - b[0])) {
    if (weight < EDGE_FRACTION * rootTotal) continue;
    const from = Math.floor(key / EDGE_KEY);
    const to = key % EDGE_KEY;
    const score = share(weight);
    const tooltip = `${shown[from - 1].name} -> ${shown[to - 1].name} (${weight})`;
    lines.push(
      `N${from} -> N${to} [label=" ${weight}" weight=${1 + Math.round(100 * score)} ` +
        `penwidth=${(1 + 5 * score).toFixed(2)} color="${mix(GREY_LINE, HOT_LINE, score)}" ` +
        `tooltip="${dotEscape(tooltip)}"]`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Edge keys are from × EDGE_KEY + to, with 1-based node numbers below EDGE_KEY. */
const EDGE_KEY = 1 << 20;

/**
 * The value through each call from one shown function to another: the totals of the tree nodes of the
 * callee under a node of the caller, counted once per stack when the same call repeats in it.
 */
function callEdges(tree: FunctionTree, idOf: Map<string, number>): Map<number, number> {
  const { parent, name, total, size } = tree;
  const shownId = tree.names.map((n) => idOf.get(n) ?? 0);
  const { childStart, children } = childLists(size, (node) => parent[node]);
  const weights = new Map<number, number>();
  const onPath = new Map<number, number>();
  // Depth-first walk; ~node marks leaving a node.
  const stack: number[] = [];
  for (let c = childStart[0]; c < childStart[1]; c++) stack.push(children[c]);
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const node = entry < 0 ? ~entry : entry;
    const from = shownId[name[parent[node]]];
    const to = shownId[name[node]];
    const key = parent[node] > 0 && from > 0 && to > 0 ? from * EDGE_KEY + to : -1;
    if (entry < 0) {
      if (key >= 0) onPath.set(key, onPath.get(key)! - 1);
      continue;
    }
    if (key >= 0) {
      const depth = onPath.get(key) ?? 0;
      if (depth === 0) weights.set(key, (weights.get(key) ?? 0) + total[node]);
      onPath.set(key, depth + 1);
    }
    stack.push(~node);
    for (let c = childStart[node]; c < childStart[node + 1]; c++) stack.push(children[c]);
  }
  return weights;
}

function dotEscape(text: string): string {
  return text.replace(/[\\"]/g, '\\$&').replace(/\r?\n|\r/g, '\\n');
}

const GREY_FILL = [0xf8, 0xf8, 0xf8];
const HOT_FILL = [0xff, 0xb0, 0x9a];
const GREY_LINE = [0xb2, 0xb2, 0xb2];
const HOT_LINE = [0xb2, 0x3c, 0x00];

/** The colour `score` (0..1, clamped) of the way from `from` to `to`, as #rrggbb. */
function mix(from: number[], to: number[], score: number): string {
  const t = Math.min(1, Math.max(0, score));
  return `#${from
    .map((c, i) =>
      Math.round(c + (to[i] - c) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}
