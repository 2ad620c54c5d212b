import { childLists, OTHER_NAME } from './tree-builder.js';
import { compareUtf8 } from './utf8.js';

/** The shape of a function tree: everything but its values. */
export interface TreeShape {
  parent: Int32Array;
  name: Int32Array;
  names: string[];
  size: number;
}

/** The values of one side of a flame graph (one for a plain graph, two for a diff). */
export interface Side {
  self: Float64Array;
  total: Float64Array;
}

export interface Levels {
  names: string[];
  /** 3 numbers per side and node, `[xOffsetDelta, total, self]`, then the name index. */
  levels: number[][];
  /** The largest self value of any node on any side. */
  maxSelf: number;
}

/**
 * Lays a tree out as flame graph levels, with one `[xOffsetDelta, total, self]` triple per side and node
 * followed by the name index; each side's x offsets are its own and delta-encoded against that side's
 * previous node of the level. Children sit after their parent's self, sorted by name (UTF-8 bytes).
 *
 * When there are more than `maxNodes` non-root nodes, only those whose `rank` reaches the `maxNodes`-th
 * largest rank are kept; the dropped children of each kept node are folded into one child named
 * "other", after its sorted siblings, whose self and total are their summed totals on each side. Since
 * no node outranks its parent, kept nodes form a tree. Names are numbered in order of first visit.
 */
export function layoutLevels(
  tree: TreeShape,
  sides: readonly Side[],
  rank: Float64Array,
  maxNodes: number,
): Levels {
  const minRank = truncationThreshold(rank, tree.size, maxNodes);
  const kept = keepNodes(tree, sides, rank, minRank);
  const { childStart, children, otherTotal } = kept;
  const { name } = tree;
  const sideCount = sides.length;
  // The "other" nodes share the id of a real function called "other", or take an extra id past the
  // tree's names.
  const realOther = tree.names.indexOf(OTHER_NAME);
  const otherNameId = realOther >= 0 ? realOther : tree.names.length;
  const nameIndex = new Int32Array(tree.names.length + 1).fill(-1);
  const names: string[] = [];
  const levels: number[][] = [];
  // End (x + total) of the previous node of each level, per side: levelEnd[depth * sideCount + s].
  const levelEnd: number[] = [];
  let maxSelf = 0;

  // Depth-first pre-order walk, which visits every level left to right. An entry k >= 0 is the kept
  // node kept.node[k], and ~k is the "other" child of that node. The root is entry 0 at x 0.
  const capacity = 2 * kept.node.length;
  const stackEntry = new Int32Array(capacity);
  const stackX = new Float64Array(capacity * sideCount);
  const stackDepth = new Int32Array(capacity);
  // The columns of the sides, hoisted out of the walk; the second side is null for a plain graph.
  const [selfA, totalA] = [sides[0].self, sides[0].total];
  const [selfB, totalB] = sideCount > 1 ? [sides[1].self, sides[1].total] : [null, null];
  let sp = 1;
  while (sp > 0) {
    sp--;
    const entry = stackEntry[sp];
    const depth = stackDepth[sp];
    const isOther = entry < 0;
    const node = isOther ? -1 : kept.node[entry];
    const nameId = isOther ? otherNameId : name[node];
    let outName = nameIndex[nameId];
    if (outName < 0) {
      outName = nameIndex[nameId] = names.length;
      names.push(nameId === otherNameId ? OTHER_NAME : tree.names[nameId]);
    }
    if (depth === levels.length) {
      levels.push([]);
      for (let s = 0; s < sideCount; s++) levelEnd.push(0);
    }
    const level = levels[depth];
    const at = depth * sideCount;
    const xA = stackX[sp * sideCount];
    const nodeTotalA = isOther ? otherTotal[~entry * sideCount] : totalA[node];
    const nodeSelfA = isOther ? nodeTotalA : selfA[node];
    level.push(xA - levelEnd[at], nodeTotalA, nodeSelfA);
    levelEnd[at] = xA + nodeTotalA;
    if (nodeSelfA > maxSelf) maxSelf = nodeSelfA;
    let childXA = xA + nodeSelfA;
    let childXB = 0;
    if (selfB !== null && totalB !== null) {
      const xB = stackX[sp * sideCount + 1];
      const nodeTotalB = isOther ? otherTotal[~entry * sideCount + 1] : totalB[node];
      const nodeSelfB = isOther ? nodeTotalB : selfB[node];
      level.push(xB - levelEnd[at + 1], nodeTotalB, nodeSelfB);
      levelEnd[at + 1] = xB + nodeTotalB;
      if (nodeSelfB > maxSelf) maxSelf = nodeSelfB;
      childXB = xB + nodeSelfB;
    }
    level.push(outName);
    if (isOther) continue;

    // The k-th child from the left goes k entries below the top, so the leftmost is visited first.
    const first = childStart[entry];
    const end = childStart[entry + 1];
    const count = end - first + kept.hasOther[entry];
    for (let k = 0; k < count; k++) {
      const to = sp + count - 1 - k;
      const child = first + k < end ? children[first + k] : ~entry;
      stackEntry[to] = child;
      stackDepth[to] = depth + 1;
      stackX[to * sideCount] = childXA;
      childXA += child < 0 ? otherTotal[entry * sideCount] : totalA[kept.node[child]];
      if (totalB !== null) {
        stackX[to * sideCount + 1] = childXB;
        childXB += child < 0 ? otherTotal[entry * sideCount + 1] : totalB[kept.node[child]];
      }
    }
    sp += count;
  }
  return { names, levels, maxSelf };
}

const THRESHOLD_SAMPLE = 4096;

/**
 * The `limit`-th largest rank of the non-root nodes, or -Infinity when all of them fit.
 *
 * Selecting over a copy of every rank would copy megabytes to keep a few thousand nodes, so a guess
 * comes first, from an evenly spaced sample, aimed at about twice `limit` nodes. If at least `limit`
 * nodes reach the guess, the answer is among them (it cannot be below the guess), and the exact
 * selection runs on those only; otherwise on all nodes.
 */
export function truncationThreshold(rank: Float64Array, size: number, limit: number): number {
  const nodes = size - 1;
  if (nodes <= limit) return Number.NEGATIVE_INFINITY;
  const step = Math.max(1, Math.floor(nodes / THRESHOLD_SAMPLE));
  const sample = new Float64Array(Math.floor(nodes / step));
  for (let j = 0; j < sample.length; j++) sample[j] = rank[1 + j * step];
  const sampleRankFromTop = Math.min(sample.length, Math.ceil((2 * limit) / step) + 1);
  const guess = selectKth(sample, sample.length - sampleRankFromTop);

  let reaching = 0;
  for (let node = 1; node < size; node++) if (rank[node] >= guess) reaching++;
  if (reaching < limit) return selectKth(rank.slice(1, size), nodes - limit);
  // Copy only the candidates: room for every rank would cost page faults and, since V8 counts typed
  // arrays against the heap, garbage collections.
  const candidates = new Float64Array(reaching);
  for (let node = 1, c = 0; node < size; node++) if (rank[node] >= guess) candidates[c++] = rank[node];
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
export interface KeptNodes {
  /** Tree node of each kept node. */
  node: Int32Array;
  /** Children of kept node k, as kept numbers sorted by name: children[childStart[k] .. childStart[k + 1]). */
  childStart: Int32Array;
  children: Int32Array;
  /** Summed total of each kept node's dropped children per side, otherTotal[k * sides + s]. */
  otherTotal: Float64Array;
  /** Whether kept node k dropped any child, which then shows as its "other" child. */
  hasOther: Uint8Array;
}

export function keepNodes(
  tree: TreeShape,
  sides: readonly Side[],
  rank: Float64Array,
  minRank: number,
): KeptNodes {
  const { parent, name, size } = tree;
  const sideCount = sides.length;
  // One or two sides; their columns are hoisted out of the loop, which is hot.
  const total0 = sides[0].total;
  const total1 = sideCount > 1 ? sides[1].total : null;
  let count = 1;
  for (let n = 1; n < size; n++) if (rank[n] >= minRank) count++;
  const node = new Int32Array(count);
  const otherTotal = new Float64Array(count * sideCount);
  const hasOther = new Uint8Array(count);
  // Kept number of each kept tree node (0 for the root).
  const keptNumber = new Int32Array(size);
  for (let n = 1, k = 1; n < size; n++) {
    if (rank[n] >= minRank) {
      keptNumber[n] = k;
      node[k++] = n;
    } else if (parent[n] === 0 || keptNumber[parent[n]] !== 0) {
      const at = keptNumber[parent[n]] * sideCount;
      otherTotal[at] += total0[n];
      if (total0[n] !== 0) hasOther[at / sideCount] = 1;
      if (total1 !== null) {
        otherTotal[at + 1] += total1[n];
        if (total1[n] !== 0) hasOther[at / sideCount] = 1;
      }
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
  return { node, childStart, children, otherTotal, hasOther };
}
