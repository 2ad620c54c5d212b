import type { Flamebearer } from './flamebearer.js';

/**
 * Bottom-up ("inverted") view: every node's self value becomes a stack read from the leaf towards the root, so the
 * roots of the result are the functions where time is spent and their children are their callers. Built on the
 * client from the (already truncated) top-down flamebearer, and returned in the same wire shape so the rest of the
 * pipeline (decode → geometry → paint) is unchanged. Children are sorted by name, like the server does.
 */
export function invertFlamebearer(fb: Flamebearer): Flamebearer {
  interface TrieNode {
    name: number;
    total: number;
    self: number;
    children: Map<number, TrieNode>;
  }
  const root: TrieNode = { name: 0, total: 0, self: 0, children: new Map() };
  // Decode to parallel arrays with parents (the same pass as decodeFlamebearer, kept local to stay allocation-light).
  const levels = fb.levels;
  const nameOf: number[][] = [];
  const parentOf: number[][] = [];
  const selfOf: number[][] = [];
  for (let d = 0; d < levels.length; d++) {
    const v = levels[d];
    const names: number[] = [];
    const parents: number[] = [];
    const selfs: number[] = [];
    const starts: number[] = [];
    const totals: number[] = [];
    let prevEnd = 0;
    for (let k = 0; k + 3 < v.length; k += 4) {
      const x = prevEnd + v[k];
      starts.push(x);
      totals.push(v[k + 1]);
      selfs.push(v[k + 2]);
      names.push(v[k + 3]);
      prevEnd = x + v[k + 1];
    }
    if (d > 0) {
      const up = levels[d - 1];
      // Recompute parent x ranges from the level above.
      const pStart: number[] = [];
      const pTotal: number[] = [];
      let pe = 0;
      for (let k = 0; k + 3 < up.length; k += 4) {
        const x = pe + up[k];
        pStart.push(x);
        pTotal.push(up[k + 1]);
        pe = x + up[k + 1];
      }
      let p = 0;
      for (let c = 0; c < starts.length; c++) {
        while (p < pStart.length && pStart[p] + pTotal[p] <= starts[c]) p++;
        parents.push(p);
      }
    } else for (let c = 0; c < starts.length; c++) parents.push(-1);
    nameOf.push(names);
    parentOf.push(parents);
    selfOf.push(selfs);
  }
  for (let d = 1; d < levels.length; d++) {
    for (let c = 0; c < nameOf[d].length; c++) {
      const value = selfOf[d][c];
      if (value <= 0) continue;
      root.total += value;
      let at = root;
      let level = d;
      let idx = c;
      while (level > 0) {
        const name = nameOf[level][idx];
        let child = at.children.get(name);
        if (!child) {
          child = { name, total: 0, self: 0, children: new Map() };
          at.children.set(name, child);
        }
        child.total += value;
        at = child;
        idx = parentOf[level][idx];
        level--;
      }
      at.self += value;
    }
  }
  const out: number[][] = [];
  let maxSelf = 0;
  // Breadth-first, keeping each level sorted by x: a level's nodes come from the previous level's nodes in order.
  let frontier: Array<{ node: TrieNode; x: number }> = [{ node: root, x: 0 }];
  while (frontier.length > 0) {
    const row: number[] = [];
    const next: Array<{ node: TrieNode; x: number }> = [];
    let prevEnd = 0;
    for (const { node, x } of frontier) {
      row.push(x - prevEnd, node.total, node.self, node.name);
      prevEnd = x + node.total;
      if (node.self > maxSelf) maxSelf = node.self;
      let cx = x + node.self;
      const kids = [...node.children.values()].sort((a, b) =>
        fb.names[a.name] < fb.names[b.name] ? -1 : fb.names[a.name] > fb.names[b.name] ? 1 : 0,
      );
      for (const k of kids) {
        next.push({ node: k, x: cx });
        cx += k.total;
      }
    }
    out.push(row);
    frontier = next;
  }
  return { names: fb.names, levels: root.total > 0 ? out : [], numTicks: root.total, maxSelf };
}
