/**
 * Zoom-driven detail: the server cuts a flame graph to `maxNodes`, folding the smallest frames into grey "other"
 * frames. When the user zooms into a frame whose subtree holds such cuts, the UI asks the server for the flame graph
 * focused on that frame (`/pyroscope/render?focus=a;b;c`, computed before the cut) and splices it into the loaded
 * graph in place of the truncated subtree. The result is still one whole-profile flamebearer, so percentages,
 * zoom, search and the table work on it unchanged.
 */
import {
  type Flamebearer,
  type FlameTree,
  firstEndingAfter,
  isOtherNode,
  nodeOfPath,
  otherTotal,
} from './flamebearer.js';

/** Whether any frame below `node` is a server-truncation "other" frame. */
export function hasTruncatedBelow(tree: FlameTree, node: number): boolean {
  // Most trees have no cut at all: no need to walk the subtree (on every zoom).
  if (otherTotal(tree).nodes === 0) return false;
  const from = tree.start[node];
  const end = from + tree.total[node];
  // Levels are sorted by x, and every frame of a deeper level inside the node's span is one of its descendants.
  for (let level = tree.level[node] + 1; level < tree.depth; level++)
    for (
      let i = firstEndingAfter(tree, level, from);
      i < tree.levelStart[level + 1] && tree.start[i] < end;
      i++
    )
      if (isOtherNode(tree, i)) return true;
  return false;
}

/**
 * The server's `focus` parameter for a path (`a;b;c`); undefined when a name holds the `;` separator, which the
 * parameter cannot carry.
 */
export function focusParam(path: readonly string[]): string | undefined {
  if (path.length === 0 || path.some((name) => name.includes(';'))) return undefined;
  return path.join(';');
}

/** The deepest frame on `path` that the tree has (0, the root, when none), and how many names of the path lead to it. */
export function deepestOnPath(tree: FlameTree, path: readonly string[]): { node: number; depth: number } {
  for (let depth = path.length; depth > 0; depth--) {
    const node = nodeOfPath(tree, path.slice(0, depth));
    if (node >= 0) return { node, depth };
  }
  return { node: 0, depth: 0 };
}

export interface Spliced {
  /** The whole profile with the focused subtree in full detail. */
  raw: Flamebearer;
  /** The frame's total in the truncated graph, and in the refetched one (they differ when the data changed). */
  before: number;
  after: number;
}

/** Thrown when the focused answer does not hold the frame (the server's data changed and it is gone). */
export class DetailMissingError extends Error {}

interface Frame {
  x: number;
  total: number;
  self: number;
  name: number;
}

/**
 * Replaces the subtree of `node` (of `tree`, decoded from `raw`, top-down) with `focused`, the server's focus answer
 * for that frame: a root whose one child is the frame. When the frame's total changed on the server, the refetched
 * numbers win: the frame's ancestors and the profile total move by the difference and the frames to its right shift.
 */
export function spliceDetail(raw: Flamebearer, tree: FlameTree, node: number, focused: Flamebearer): Spliced {
  const name = tree.names[tree.name[node]];
  const top = focused.levels[1];
  if (focused.levels.length < 2 || top?.length !== 4 || focused.names[top[3]] !== name)
    throw new DetailMissingError(`the server has no frame ${name} on this path any more`);
  const names = raw.names.slice();
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const nameOf = (n: string) => {
    let i = index.get(n);
    if (i === undefined) {
      i = names.push(n) - 1;
      index.set(n, i);
    }
    return i;
  };
  const d0 = tree.level[node];
  const x0 = tree.start[node];
  const before = tree.total[node];
  const after = top[1];
  const delta = after - before;
  const ancestors = new Set<number>();
  for (let n = tree.parent[node]; n >= 0; n = tree.parent[n]) ancestors.add(n);

  const depth = Math.max(tree.depth, d0 + focused.levels.length - 1);
  const levels: Frame[][] = Array.from({ length: depth }, () => []);
  for (let i = 0; i < tree.count; i++) {
    const level = tree.level[i];
    const x = tree.start[i];
    if (i === node) continue;
    if (level > d0 && x >= x0 && x < x0 + before) continue; // a descendant: replaced by the refetched ones
    const f = { x, total: tree.total[i], self: tree.self[i], name: tree.name[i] };
    if (ancestors.has(i)) f.total += delta;
    else if (x >= x0 + before) f.x += delta;
    levels[level].push(f);
  }
  // The refetched frames: level k of the answer is level d0 + k - 1 here, x from the frame's left edge.
  for (let k = 1; k < focused.levels.length; k++) {
    const values = focused.levels[k];
    let prevEnd = 0;
    for (let j = 0; j + 3 < values.length; j += 4) {
      const x = prevEnd + values[j];
      prevEnd = x + values[j + 1];
      levels[d0 + k - 1].push({
        x: x0 + x,
        total: values[j + 1],
        self: values[j + 2],
        name: nameOf(focused.names[values[j + 3]]),
      });
    }
  }
  let maxSelf = 0;
  const encoded = levels
    .filter((frames) => frames.length > 0)
    .map((frames) => {
      frames.sort((a, b) => a.x - b.x);
      const out: number[] = [];
      let prevEnd = 0;
      for (const f of frames) {
        out.push(f.x - prevEnd, f.total, f.self, f.name);
        prevEnd = f.x + f.total;
        if (f.self > maxSelf) maxSelf = f.self;
      }
      return out;
    });
  return {
    raw: { names, levels: encoded, numTicks: raw.numTicks + delta, maxSelf },
    before,
    after,
  };
}
