import { layoutLevels } from './internal/layout.js';
import { childLists, subtreeTotals, TreeBuilder } from './internal/tree-builder.js';
import { compareUtf8 } from './internal/utf8.js';
import type { StackValues } from './stacks.js';

export { compareUtf8 };

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

/**
 * Merges the stack trees of several symbol partitions into one call tree whose frames are function
 * names. Stacks with equal function names merge, within a partition and across partitions; stack
 * subtrees with a zero total are left out.
 */
export function buildFunctionTree(parts: readonly StackValues[]): FunctionTree {
  let stackNodes = 0;
  for (const part of parts) stackNodes += part.parent.length;
  const builder = new TreeBuilder(stackNodes + 1);
  for (const part of parts) addPartition(builder, part);
  return builder.finish();
}

function addPartition(builder: TreeBuilder, part: StackValues): void {
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
      if (nameId < 0) nameId = nameIds[localName] = builder.internName(part.names[localName]);
      node = builder.child(node, nameId);
    }
    builder.addSelf(node, values[i]);
    treeNode[i] = node;
  }
}

/**
 * Lays the tree out as a flame graph. When the tree has more than `maxNodes` nodes (root excluded), only
 * nodes whose total reaches the `maxNodes`-th largest total are kept, and the dropped children of each
 * kept node are folded into one child named "other", placed after its sorted siblings. `maxNodes` ≤ 0
 * means the default.
 */
export function toFlameGraph(tree: FunctionTree, maxNodes = DEFAULT_MAX_NODES): FlameGraph {
  const { names, levels, maxSelf } = layoutLevels(
    tree,
    [tree],
    tree.total,
    maxNodes > 0 ? maxNodes : DEFAULT_MAX_NODES,
  );
  return { names, levels, total: tree.total[0], maxSelf };
}

/** The flame graph as the legacy flamebearer object. */
export function toFlamebearer(graph: FlameGraph): Flamebearer {
  return { names: graph.names, levels: graph.levels, numTicks: graph.total, maxSelf: graph.maxSelf };
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
