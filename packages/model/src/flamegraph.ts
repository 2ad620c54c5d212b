import type { StackValues } from './stacks.js';

/**
 * A call tree keyed by function name, in columns. Node 0 is the root, named `names[0]` = "total".
 * Invariant: parent[n] < n. All columns have length `size`.
 */
export interface FunctionTree {
  /** Parent node of each node, -1 for the root. */
  parent: Int32Array;
  /** Function name of each node, an index into `names`. */
  name: Int32Array;
  /** Value of the stacks ending exactly at each node. */
  self: Float64Array;
  /** Self plus the totals of the node's children. */
  total: Float64Array;
  names: string[];
  size: number;
}

/**
 * A flame graph in Pyroscope's encoding (`querier.v1.FlameGraph`): `levels[d]` holds four numbers per
 * node at depth d, left to right: `[xOffsetDelta, total, self, nameIndex]`, where the x offset is
 * delta-encoded against the end (x + total) of the previous node of the same level.
 */
export interface FlameGraph {
  names: string[];
  levels: number[][];
  /** The root total. */
  total: number;
  /** The largest self value of any node. */
  maxSelf: number;
}

/** The legacy `flamebearer` JSON object of `/render` and `/pyroscope/render`. */
export interface Flamebearer {
  names: string[];
  levels: number[][];
  numTicks: number;
  maxSelf: number;
}

/** One row of the per-function table. */
export interface FunctionStats {
  name: string;
  self: number;
  /** Value of the stacks that contain the function, each counted once even when it recurses. */
  total: number;
}

/** Pyroscope's `max_flamegraph_nodes_default`. */
export const DEFAULT_MAX_NODES = 8192;
const ROOT_NAME = 'total';
const OTHER_NAME = 'other';
const SLOT_STRIDE = 3;

/**
 * Merges the stack trees of several symbol partitions into one call tree whose frames are function
 * names. Stacks with equal function names merge, within a partition and across partitions; stack
 * subtrees with a zero total are left out.
 */
export function buildFunctionTree(parts: readonly StackValues[]): FunctionTree {
  let stackNodes = 0;
  for (const part of parts) stackNodes += part.parent.length;
  const builder = new FunctionTreeBuilder(stackNodes + 1);
  for (const part of parts) builder.addPartition(part);
  return builder.finish();
}

/**
 * Grows the tree node by node. Children are found through an open-addressing hash table keyed by
 * (parent, name), with the keys stored next to the child id so that a probe touches one cache line, and
 * double hashing from a home slot near the parent's (see homeSlot).
 */
class FunctionTreeBuilder {
  private parent: Int32Array;
  private name: Int32Array;
  private self: Float64Array;
  private size = 1;
  /**
   * SLOT_STRIDE ints per slot: parent, name id, child node. The root is nobody's child, so child 0 marks
   * an empty slot. At most half full.
   */
  private slots: Int32Array;
  private readonly names = [ROOT_NAME];
  private readonly nameIds = new Map([[ROOT_NAME, 0]]);

  constructor(expectedNodes: number) {
    const capacity = nextPowerOfTwo(Math.max(expectedNodes, 16));
    this.parent = new Int32Array(capacity);
    this.name = new Int32Array(capacity);
    this.self = new Float64Array(capacity);
    this.slots = new Int32Array(2 * capacity * SLOT_STRIDE);
    this.parent[0] = -1;
  }

  addPartition(part: StackValues): void {
    const { parent, location, values, locFrameStart, locFrameName } = part;
    const totals = subtreeTotals(parent, values);
    // Function-tree node of each stack node (its innermost frame), -1 when its subtree is skipped.
    const treeNode = new Int32Array(parent.length);
    // Global name id of each partition name, interned on first use.
    const nameIds = new Int32Array(part.names.length).fill(-1);
    for (let i = 0; i < parent.length; i++) {
      let node = parent[i] < 0 ? 0 : treeNode[parent[i]];
      if (node < 0 || totals[i] === 0) {
        treeNode[i] = -1;
        continue;
      }
      const loc = location[i];
      // Frames are stored innermost first and the tree goes root first, so walk them backwards.
      for (let f = locFrameStart[loc + 1] - 1; f >= locFrameStart[loc]; f--) {
        const localName = locFrameName[f];
        let nameId = nameIds[localName];
        if (nameId < 0) nameId = nameIds[localName] = this.internName(part.names[localName]);
        node = this.child(node, nameId);
      }
      this.self[node] += values[i];
      treeNode[i] = node;
    }
  }

  finish(): FunctionTree {
    const { size } = this;
    const parent = this.parent.subarray(0, size);
    const self = this.self.subarray(0, size);
    const total = self.slice();
    for (let i = size - 1; i > 0; i--) total[parent[i]] += total[i];
    return { parent, name: this.name.subarray(0, size), self, total, names: this.names, size };
  }

  private internName(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.nameIds.set(name, id);
    }
    return id;
  }

  /** The child of `parent` named `nameId`, created if missing. */
  private child(parent: number, nameId: number): number {
    if (this.size === this.parent.length) this.grow();
    const { slots } = this;
    const mask = slots.length / SLOT_STRIDE - 1;
    const hash = hashPair(parent, nameId);
    let slot = homeSlot(parent, hash) & mask;
    for (let at = slot * SLOT_STRIDE; slots[at + 2] !== 0; at = slot * SLOT_STRIDE) {
      if (slots[at] === parent && slots[at + 1] === nameId) return slots[at + 2];
      slot = (slot + probeStep(hash)) & mask;
    }
    const node = this.size++;
    this.parent[node] = parent;
    this.name[node] = nameId;
    fillSlot(slots, slot, node, parent, nameId);
    return node;
  }

  private grow(): void {
    const capacity = this.parent.length * 2;
    this.parent = copyInto(new Int32Array(capacity), this.parent);
    this.name = copyInto(new Int32Array(capacity), this.name);
    this.self = copyInto(new Float64Array(capacity), this.self);
    const slots = new Int32Array(2 * capacity * SLOT_STRIDE);
    const mask = 2 * capacity - 1;
    for (let node = 1; node < this.size; node++) {
      const hash = hashPair(this.parent[node], this.name[node]);
      let slot = homeSlot(this.parent[node], hash) & mask;
      while (slots[slot * SLOT_STRIDE + 2] !== 0) slot = (slot + probeStep(hash)) & mask;
      fillSlot(slots, slot, node, this.parent[node], this.name[node]);
    }
    this.slots = slots;
  }
}

function fillSlot(slots: Int32Array, slot: number, node: number, parent: number, nameId: number): void {
  const at = slot * SLOT_STRIDE;
  slots[at] = parent;
  slots[at + 1] = nameId;
  slots[at + 2] = node;
}

/** Self plus descendants of every stack node, in one reverse pass (parents precede children). */
function subtreeTotals(parent: Int32Array, values: Float64Array): Float64Array {
  const totals = values.slice(0, parent.length);
  for (let i = parent.length - 1; i >= 0; i--) if (parent[i] >= 0) totals[parent[i]] += totals[i];
  return totals;
}

function hashPair(a: number, b: number): number {
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * Probing starts next to slot 2 × parent: most lookups are under a node created moments before (down a
 * new path), so they land where the previous ones did instead of missing the cache (builds from
 * storage-like input measured 2× faster than with a random home).
 */
function homeSlot(parent: number, hash: number): number {
  return 2 * parent + (hash >>> 31);
}

/**
 * The probe step comes from the whole key, so the many children of one wide node, which share a home,
 * scatter instead of piling up into one long run. Odd, so it reaches every slot of the power-of-two table.
 */
function probeStep(hash: number): number {
  return hash | 1;
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

function copyInto<T extends Int32Array | Float64Array>(target: T, source: T): T {
  target.set(source);
  return target;
}

/**
 * Lays the tree out as a flame graph. When the tree has more than `maxNodes` nodes (root excluded), only
 * nodes whose total reaches the `maxNodes`-th largest total are kept, and the dropped children of each
 * kept node are folded into one child named "other", placed after its sorted siblings. `maxNodes` ≤ 0
 * means the default.
 */
export function toFlameGraph(tree: FunctionTree, maxNodes = DEFAULT_MAX_NODES): FlameGraph {
  const minTotal = truncationThreshold(tree, maxNodes > 0 ? maxNodes : DEFAULT_MAX_NODES);
  const kept = keepNodes(tree, minTotal);
  const { childStart, children, otherTotal } = kept;
  const { name, self, total } = tree;
  // Name ids are renumbered in order of first visit; the "other" nodes share the id of a real function
  // called "other", or take an extra id past the tree's names.
  const realOther = tree.names.indexOf(OTHER_NAME);
  const otherNameId = realOther >= 0 ? realOther : tree.names.length;
  const nameIndex = new Int32Array(tree.names.length + 1).fill(-1);
  const names: string[] = [];
  const levels: number[][] = [];
  const levelEnd: number[] = [];
  let maxSelf = 0;

  // Depth-first pre-order walk, which visits every level left to right. An entry k >= 0 is the kept
  // node kept.node[k], and ~k is the "other" child of that node. The root is entry 0.
  const capacity = 2 * kept.node.length;
  const stackEntry = new Int32Array(capacity);
  const stackX = new Float64Array(capacity);
  const stackDepth = new Int32Array(capacity);
  let sp = 1;
  while (sp > 0) {
    sp--;
    const entry = stackEntry[sp];
    const x = stackX[sp];
    const depth = stackDepth[sp];
    const isOther = entry < 0;
    const node = isOther ? -1 : kept.node[entry];
    const nodeTotal = isOther ? otherTotal[~entry] : total[node];
    const nodeSelf = isOther ? nodeTotal : self[node];
    const nameId = isOther ? otherNameId : name[node];

    let outName = nameIndex[nameId];
    if (outName < 0) {
      outName = nameIndex[nameId] = names.length;
      names.push(nameId === otherNameId ? OTHER_NAME : tree.names[nameId]);
    }
    if (depth === levels.length) {
      levels.push([]);
      levelEnd.push(0);
    }
    levels[depth].push(x - levelEnd[depth], nodeTotal, nodeSelf, outName);
    levelEnd[depth] = x + nodeTotal;
    if (nodeSelf > maxSelf) maxSelf = nodeSelf;
    if (isOther) continue;

    // Children start after the node's self. The k-th child from the left goes k entries below the top,
    // so the leftmost is visited first.
    const first = childStart[entry];
    const end = childStart[entry + 1];
    const count = end - first + (otherTotal[entry] !== 0 ? 1 : 0);
    let childX = x + nodeSelf;
    for (let k = 0; k < count; k++) {
      const at = sp + count - 1 - k;
      const child = first + k < end ? children[first + k] : ~entry;
      stackEntry[at] = child;
      stackX[at] = childX;
      stackDepth[at] = depth + 1;
      childX += child < 0 ? otherTotal[entry] : total[kept.node[child]];
    }
    sp += count;
  }
  return { names, levels, total: total[0], maxSelf };
}

/** The flame graph as the legacy flamebearer object. */
export function toFlamebearer(graph: FlameGraph): Flamebearer {
  return { names: graph.names, levels: graph.levels, numTicks: graph.total, maxSelf: graph.maxSelf };
}

const THRESHOLD_SAMPLE = 4096;

/**
 * The `limit`-th largest total of the non-root nodes, or -Infinity when all of them fit.
 *
 * Selecting over a copy of every total would copy megabytes to keep a few thousand nodes, so a guess
 * comes first, from an evenly spaced sample, aimed at about twice `limit` nodes. If at least `limit`
 * nodes reach the guess, the answer is among them (it cannot be below the guess), and the exact
 * selection runs on those only; otherwise on all nodes.
 */
function truncationThreshold(tree: FunctionTree, limit: number): number {
  const { total, size } = tree;
  const nodes = size - 1;
  if (nodes <= limit) return Number.NEGATIVE_INFINITY;
  const step = Math.max(1, Math.floor(nodes / THRESHOLD_SAMPLE));
  const sample = new Float64Array(Math.floor(nodes / step));
  for (let j = 0; j < sample.length; j++) sample[j] = total[1 + j * step];
  const sampleRankFromTop = Math.min(sample.length, Math.ceil((2 * limit) / step) + 1);
  const guess = selectKth(sample, sample.length - sampleRankFromTop);

  let reaching = 0;
  for (let node = 1; node < size; node++) if (total[node] >= guess) reaching++;
  if (reaching < limit) return selectKth(total.slice(1), nodes - limit);
  // Copy only the candidates: room for every total would cost page faults and, since V8 counts typed
  // arrays against the heap, garbage collections.
  const candidates = new Float64Array(reaching);
  for (let node = 1, c = 0; node < size; node++) if (total[node] >= guess) candidates[c++] = total[node];
  return selectKth(candidates, reaching - limit);
}

/** Reorders `a` so that a[k] holds what an ascending sort would put there, and returns it (Hoare's select). */
function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    // Now a[lo..j] <= pivot <= a[i..hi], and anything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** The nodes that survive truncation, renumbered densely in tree order, the root being 0. */
interface KeptNodes {
  /** Tree node of each kept node. */
  node: Int32Array;
  /** Children of kept node k, as kept numbers sorted by name: children[childStart[k] .. childStart[k + 1]). */
  childStart: Int32Array;
  children: Int32Array;
  /** Summed total of each kept node's dropped children, shown as its "other" child. */
  otherTotal: Float64Array;
}

function keepNodes(tree: FunctionTree, minTotal: number): KeptNodes {
  const { parent, name, total, size } = tree;
  let count = 1;
  for (let n = 1; n < size; n++) if (total[n] >= minTotal) count++;
  const node = new Int32Array(count);
  const otherTotal = new Float64Array(count);
  // Kept number of each kept tree node (0 for the root).
  const keptNumber = new Int32Array(size);
  for (let n = 1, k = 1; n < size; n++) {
    if (total[n] >= minTotal) {
      keptNumber[n] = k;
      node[k++] = n;
    } else if (parent[n] === 0 || keptNumber[parent[n]] !== 0) {
      otherTotal[keptNumber[parent[n]]] += total[n];
    }
  }
  const { childStart, children } = childLists(count, (k) => keptNumber[parent[node[k]]]);

  // Sibling groups are small, so sorting each beats sorting all names.
  const byName = (a: number, b: number) => compareUtf8(tree.names[name[node[a]]], tree.names[name[node[b]]]);
  for (let k = 0; k < count; k++) {
    const from = childStart[k];
    const to = childStart[k + 1];
    if (to - from > 1) children.subarray(from, to).sort(byName);
  }
  return { node, childStart, children, otherTotal };
}

/**
 * The children of every node of a parent-pointer tree of `count` nodes (root 0, parentOf(k) < k), in
 * compressed rows: node k's are children[childStart[k] .. childStart[k + 1]), in index order.
 */
function childLists(count: number, parentOf: (node: number) => number) {
  const childStart = new Int32Array(count + 1);
  for (let k = 1; k < count; k++) childStart[parentOf(k) + 1]++;
  for (let k = 0; k < count; k++) childStart[k + 1] += childStart[k];
  const cursor = childStart.slice(0, count);
  const children = new Int32Array(Math.max(count - 1, 0));
  for (let k = 1; k < count; k++) children[cursor[parentOf(k)]++] = k;
  return { childStart, children };
}

/** Compares strings by their UTF-8 bytes, the order of Go's sort and therefore of Pyroscope. */
export function compareUtf8(a: string, b: string): number {
  return compareCodeUnits(utf8SortKey(a), utf8SortKey(b));
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ABOVE_D800 = /[\ud800-\uffff]/;

/**
 * A string whose UTF-16 order is the UTF-8 order of `s`: the two differ only where a surrogate (half of a
 * code point above U+FFFF) meets a code unit from U+E000 up, so surrogates are moved above the rest of
 * the BMP. Most names have no such code units and are their own key.
 */
function utf8SortKey(s: string): string {
  if (!ABOVE_D800.test(s)) return s;
  let key = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    key += String.fromCharCode(c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);
  }
  return key;
}

/**
 * Self and total per function, by self descending (then total, then name). A function that recurses is
 * counted once per stack in its total.
 */
export function functionTable(tree: FunctionTree): FunctionStats[] {
  const { parent, name, self, total, size } = tree;
  const { childStart, children } = childLists(size, (node) => parent[node]);
  const selfByName = new Float64Array(tree.names.length);
  const totalByName = new Float64Array(tree.names.length);
  // How many nodes on the current root path carry each name; a node adds its total only when it is the
  // outermost of its name on the path.
  const onPath = new Int32Array(tree.names.length);
  // Depth-first walk; ~node marks leaving a node.
  const stack = new Int32Array(2 * size);
  let sp = 0;
  for (let c = childStart[0]; c < childStart[1]; c++) stack[sp++] = children[c];
  while (sp > 0) {
    const entry = stack[--sp];
    if (entry < 0) {
      onPath[name[~entry]]--;
      continue;
    }
    const nameId = name[entry];
    selfByName[nameId] += self[entry];
    if (onPath[nameId]++ === 0) totalByName[nameId] += total[entry];
    stack[sp++] = ~entry;
    for (let c = childStart[entry]; c < childStart[entry + 1]; c++) stack[sp++] = children[c];
  }

  const rows: FunctionStats[] = [];
  tree.names.forEach((functionName, nameId) => {
    if (totalByName[nameId] !== 0 || selfByName[nameId] !== 0) {
      rows.push({ name: functionName, self: selfByName[nameId], total: totalByName[nameId] });
    }
  });
  return rows.sort((a, b) => b.self - a.self || b.total - a.total || compareUtf8(a.name, b.name));
}
