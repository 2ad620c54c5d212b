import type { FlameTree } from './flamebearer.js';

/** One row of the top table: a function aggregated over every call site. */
export interface FunctionRow {
  name: number;
  self: number;
  total: number;
}

export type SortKey = 'name' | 'self' | 'total';

/** Per-tree facts that make a subtree's table cost O(subtree) instead of O(tree); built once per tree. */
interface TableIndex {
  /** The nearest ancestor with the same name (the root "total" frames excluded), or -1. */
  sameNameAbove: Int32Array;
  /** `visit[i] === pass` marks node i as inside the subtree aggregated by that pass. */
  visit: Int32Array;
  pass: number;
}

const indexes = new WeakMap<FlameTree, TableIndex>();

function tableIndex(tree: FlameTree): TableIndex {
  let index = indexes.get(tree);
  if (index) return index;
  const sameNameAbove = new Int32Array(tree.count).fill(-1);
  /** The deepest frame of each function on the current depth-first path, or -1. */
  const top = new Int32Array(tree.names.length).fill(-1);
  // Each node is pushed once, plus one "leave" entry (~i) while its subtree is walked.
  const stack = new Int32Array(2 * tree.count);
  for (let r = 0; r < tree.count; r++) {
    if (tree.parent[r] >= 0) continue;
    let sp = 0;
    stack[sp++] = r;
    while (sp > 0) {
      const entry = stack[--sp];
      if (entry < 0) {
        const i = ~entry;
        top[tree.name[i]] = sameNameAbove[i];
        continue;
      }
      if (tree.level[entry] !== 0) {
        const n = tree.name[entry];
        sameNameAbove[entry] = top[n];
        top[n] = entry;
        stack[sp++] = ~entry;
      }
      for (let c = tree.childEnd[entry] - 1; c >= tree.firstChild[entry] && c >= 0; c--) stack[sp++] = c;
    }
  }
  index = { sameNameAbove, visit: new Int32Array(tree.count), pass: 0 };
  indexes.set(tree, index);
  return index;
}

/**
 * Per-function self and total over the subtree of `root` (the whole profile by default, or the zoomed node).
 * Total counts a function once per stack: a node's total is added only when no ancestor (inside the subtree)
 * has the same name, so recursion is not double-counted. Walks only the subtree, level by level: the children
 * of a level's contiguous range of nodes are again one contiguous range.
 */
export function functionTable(tree: FlameTree, root = 0): FunctionRow[] {
  if (tree.count === 0) return [];
  const index = tableIndex(tree);
  const { sameNameAbove, visit } = index;
  const pass = ++index.pass;
  const self = new Float64Array(tree.names.length);
  const total = new Float64Array(tree.names.length);
  const seen = new Uint8Array(tree.names.length);
  const rootLevel = tree.level[root];
  visit[root] = pass;
  let lo = root;
  let hi = root + 1;
  while (lo < hi) {
    let nextLo = -1;
    let nextHi = -1;
    for (let i = lo; i < hi; i++) {
      // The range may hold nodes of other parents only when the tree has orphans (a malformed level).
      if (i !== root && (tree.parent[i] < 0 || visit[tree.parent[i]] !== pass)) continue;
      visit[i] = pass;
      if (tree.level[i] !== 0) {
        // the synthetic "total" frame is not a function
        const n = tree.name[i];
        self[n] += tree.self[i];
        const above = sameNameAbove[i];
        if (above < 0 || tree.level[above] < rootLevel) total[n] += tree.total[i];
        seen[n] = 1;
      }
      if (tree.firstChild[i] >= 0) {
        if (nextLo < 0) nextLo = tree.firstChild[i];
        nextHi = tree.childEnd[i];
      }
    }
    lo = nextLo;
    hi = nextHi;
  }
  const rows: FunctionRow[] = [];
  for (let n = 0; n < seen.length; n++) if (seen[n]) rows.push({ name: n, self: self[n], total: total[n] });
  return rows;
}

/** Each name's position in sorted order (equal names share one), so sorting compares integers, not strings. */
const ranks = new WeakMap<readonly string[], Int32Array>();

function nameRanks(names: readonly string[]): Int32Array {
  let rank = ranks.get(names);
  if (rank) return rank;
  const order = Array.from(names.keys()).sort((a, b) =>
    names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0,
  );
  rank = new Int32Array(names.length);
  for (let k = 1; k < order.length; k++)
    rank[order[k]] = names[order[k]] === names[order[k - 1]] ? rank[order[k - 1]] : k;
  ranks.set(names, rank);
  return rank;
}

export function sortRows(
  rows: FunctionRow[],
  names: readonly string[],
  key: SortKey,
  desc: boolean,
): FunctionRow[] {
  const dir = desc ? -1 : 1;
  const rank = nameRanks(names);
  return rows.sort((a, b) => {
    if (key === 'name') return dir * Math.sign(rank[a.name] - rank[b.name]);
    const d = a[key] - b[key];
    if (d !== 0) return dir * d;
    return rank[a.name] < rank[b.name] ? -1 : 1;
  });
}
