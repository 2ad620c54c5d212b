import type { FlameTree } from './flamebearer.js';

/** One row of the top table: a function aggregated over every call site. */
export interface FunctionRow {
  name: number;
  self: number;
  total: number;
}

export type SortKey = 'name' | 'self' | 'total';

/**
 * Per-function self and total over the subtree of `root` (the whole profile by default, or the zoomed node).
 * Total counts a function once per stack: a node's total is added only when no ancestor (inside the subtree)
 * has the same name, so recursion is not double-counted.
 */
export function functionTable(tree: FlameTree, root = 0): FunctionRow[] {
  const self = new Float64Array(tree.names.length);
  const total = new Float64Array(tree.names.length);
  const seen = new Uint8Array(tree.names.length);
  if (tree.count === 0) return [];
  const lo = tree.start[root];
  const hi = lo + tree.total[root];
  const rootLevel = tree.level[root];
  for (let i = root; i < tree.count; i++) {
    if (tree.start[i] < lo || tree.start[i] >= hi || tree.level[i] < rootLevel) continue;
    if (tree.level[i] === 0) continue; // the synthetic "total" root
    const n = tree.name[i];
    self[n] += tree.self[i];
    let recursive = false;
    for (
      let p = tree.parent[i];
      p >= 0 && tree.level[p] >= rootLevel && tree.level[p] > 0;
      p = tree.parent[p]
    )
      if (tree.name[p] === n) {
        recursive = true;
        break;
      }
    if (!recursive) total[n] += tree.total[i];
    seen[n] = 1;
  }
  const rows: FunctionRow[] = [];
  for (let n = 0; n < seen.length; n++) if (seen[n]) rows.push({ name: n, self: self[n], total: total[n] });
  return rows;
}

export function sortRows(
  rows: FunctionRow[],
  names: readonly string[],
  key: SortKey,
  desc: boolean,
): FunctionRow[] {
  const dir = desc ? -1 : 1;
  return rows.sort((a, b) => {
    if (key === 'name')
      return dir * (names[a.name] < names[b.name] ? -1 : names[a.name] > names[b.name] ? 1 : 0);
    const d = a[key] - b[key];
    if (d !== 0) return dir * d;
    return names[a.name] < names[b.name] ? -1 : 1;
  });
}
