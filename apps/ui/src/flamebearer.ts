/**
 * Flamebearer JSON → a flat, typed-array flame tree (data), and nothing else: no DOM, no pixels.
 *
 * Wire format (pyroscope-api.md §3.4): `levels[d]` holds every node at depth d, left to right, four numbers per node,
 * `[xDelta, total, self, nameIndex]`, where x is delta-encoded against the end of the previous node on the same level.
 * Here nodes are numbered in level order (level 0 first, left to right inside a level), so every level is one
 * contiguous index range `levelStart[d] .. levelStart[d + 1]`, sorted by x: hit-testing and culling binary-search it.
 */

export interface Flamebearer {
  names: string[];
  levels: number[][];
  numTicks: number;
  maxSelf: number;
}

export interface FlameTree {
  names: readonly string[];
  /** Left edge of each node, in ticks from the left edge of the root. */
  start: Float64Array;
  total: Float64Array;
  self: Float64Array;
  /** Index into `names`. */
  name: Int32Array;
  level: Int32Array;
  /** Parent node index; -1 for roots. */
  parent: Int32Array;
  /**
   * Children of node i are `firstChild[i] <= c < childEnd[i]` (contiguous: a level is sorted by x and so are the
   * parents above it); both -1/0 for leaves.
   */
  firstChild: Int32Array;
  childEnd: Int32Array;
  /** Nodes of level d are `levelStart[d] <= i < levelStart[d + 1]`; length is depth + 1. */
  levelStart: Int32Array;
  count: number;
  depth: number;
  numTicks: number;
}

/** The name the server gives the node that stands for the children it cut away (`maxNodes`). */
export const OTHER_NAME = 'other';

export function decodeFlamebearer(fb: Flamebearer): FlameTree {
  let count = 0;
  for (const level of fb.levels) count += Math.floor(level.length / 4);
  const start = new Float64Array(count);
  const total = new Float64Array(count);
  const self = new Float64Array(count);
  const name = new Int32Array(count);
  const levelOf = new Int32Array(count);
  const parent = new Int32Array(count).fill(-1);
  const firstChild = new Int32Array(count).fill(-1);
  const childEnd = new Int32Array(count);
  const levelStart = new Int32Array(fb.levels.length + 1);
  let i = 0;
  for (let d = 0; d < fb.levels.length; d++) {
    levelStart[d] = i;
    const values = fb.levels[d];
    let prevEnd = 0;
    for (let k = 0; k + 3 < values.length; k += 4) {
      const x = prevEnd + values[k];
      start[i] = x;
      total[i] = values[k + 1];
      self[i] = values[k + 2];
      name[i] = values[k + 3];
      levelOf[i] = d;
      prevEnd = x + values[k + 1];
      i++;
    }
    // Both this level and the one above are sorted by x, so one forward pass pairs children with parents.
    if (d > 0) {
      let p = levelStart[d - 1];
      const pEnd = levelStart[d];
      for (let c = levelStart[d]; c < i; c++) {
        while (p < pEnd && start[p] + total[p] <= start[c]) p++;
        if (p < pEnd && start[p] <= start[c]) {
          parent[c] = p;
          if (firstChild[p] < 0) firstChild[p] = c;
          childEnd[p] = c + 1;
        }
      }
    }
  }
  levelStart[fb.levels.length] = i;
  return {
    names: fb.names,
    start,
    total,
    self,
    name,
    level: levelOf,
    parent,
    firstChild,
    childEnd,
    levelStart,
    count,
    depth: fb.levels.length,
    numTicks: fb.numTicks,
  };
}

/** A server-truncation bucket: named "other" and without children of its own. */
export function isOtherNode(tree: FlameTree, i: number): boolean {
  return tree.names[tree.name[i]] === OTHER_NAME && tree.self[i] === tree.total[i] && tree.level[i] > 0;
}

const otherTotals = new WeakMap<FlameTree, { nodes: number; ticks: number }>();

/** Sum of the "other" nodes: how much of the profile the server folded away (walked once per tree). */
export function otherTotal(tree: FlameTree): { nodes: number; ticks: number } {
  let sum = otherTotals.get(tree);
  if (sum) return sum;
  sum = { nodes: 0, ticks: 0 };
  for (let i = 0; i < tree.count; i++)
    if (isOtherNode(tree, i)) {
      sum.nodes++;
      sum.ticks += tree.total[i];
    }
  otherTotals.set(tree, sum);
  return sum;
}

/** The first node of `level` whose right edge is past `tick` (binary search). */
export function firstEndingAfter(tree: FlameTree, level: number, tick: number): number {
  let lo = tree.levelStart[level];
  let hi = tree.levelStart[level + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tree.start[mid] + tree.total[mid] <= tick) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The node of `level` that covers `tick`, or -1. */
export function nodeAtTick(tree: FlameTree, level: number, tick: number): number {
  if (level < 0 || level >= tree.depth) return -1;
  const i = firstEndingAfter(tree, level, tick);
  return i < tree.levelStart[level + 1] && tree.start[i] <= tick ? i : -1;
}

/** Function names from the root down to node i (the root "total" excluded). */
export function pathOf(tree: FlameTree, i: number): string[] {
  const path: string[] = [];
  for (let n = i; n >= 0 && tree.level[n] > 0; n = tree.parent[n]) path.push(tree.names[tree.name[n]]);
  return path.reverse();
}

/** The node reached by following `path` (names, root first) from the root; -1 when it no longer exists. */
export function nodeOfPath(tree: FlameTree, path: readonly string[]): number {
  if (tree.count === 0) return -1;
  let node = 0;
  for (let d = 0; d < path.length; d++) {
    const level = d + 1;
    if (level >= tree.depth) return -1;
    let found = -1;
    const from = firstEndingAfter(tree, level, tree.start[node]);
    for (
      let c = from;
      c < tree.levelStart[level + 1] && tree.start[c] < tree.start[node] + tree.total[node];
      c++
    )
      if (tree.parent[c] === node && tree.names[tree.name[c]] === path[d]) {
        found = c;
        break;
      }
    if (found < 0) return -1;
    node = found;
  }
  return node;
}

/** Whether `a` is `b` or one of its ancestors. */
export function isAncestorOrSelf(tree: FlameTree, a: number, b: number): boolean {
  for (let n = b; n >= 0; n = tree.parent[n]) if (n === a) return true;
  return false;
}
