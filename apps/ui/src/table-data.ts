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
  /** How many frames of each function are on the current DFS path (recursion guard). */
  const onPath = new Int32Array(tree.names.length);
  const seen = new Uint8Array(tree.names.length);
  if (tree.count === 0) return [];
  // Iterative depth-first walk of the subtree; a negative entry on the stack means "leaving node ~entry".
  const stack: number[] = [root];
  while (stack.length > 0) {
    const entry = stack.pop() as number;
    if (entry < 0) {
      onPath[tree.name[~entry]]--;
      continue;
    }
    const i = entry;
    const isRoot = tree.level[i] === 0; // the synthetic "total" frame is not a function
    const n = tree.name[i];
    if (!isRoot) {
      self[n] += tree.self[i];
      if (onPath[n] === 0) total[n] += tree.total[i];
      onPath[n]++;
      seen[n] = 1;
      stack.push(~i);
    }
    for (let c = tree.childEnd[i] - 1; c >= tree.firstChild[i] && c >= 0; c--) stack.push(c);
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
