import { alignTrees } from './diff.js';
import type { FunctionTree } from './flamegraph.js';
import { nameMapper, TreeBuilder } from './internal/tree-builder.js';
import type { StackValues } from './stacks.js';

// All operations here read the whole, untruncated tree and return a new, canonical tree (siblings have
// distinct names, root "total" at node 0); truncate the result with toFlameGraph.

/**
 * The subtree at `path` (function names root first, the root "total" not included), as a tree whose root
 * has one child: the node at the end of the path, with everything below it. The root's total is that
 * node's total. An empty path gives a copy of the tree; a path that does not exist gives an empty tree.
 */
export function focusSubtree(tree: FunctionTree, path: readonly string[]): FunctionTree {
  const { parent, name, self, size } = tree;
  const builder = new TreeBuilder(64);
  const nameId = nameMapper(builder, tree.names);
  // The image of each tree node in the result, -1 outside the subtree; descendants follow their
  // ancestors, so one pass finds them all.
  const image = new Int32Array(size).fill(-1);
  // How many names of the path lead to each node, 0 when it is off the path.
  const matched = new Int32Array(size);
  if (path.length === 0) {
    image[0] = 0;
    builder.addSelf(0, self[0]);
  }
  for (let n = 1; n < size; n++) {
    const p = parent[n];
    if (image[p] >= 0) {
      image[n] = builder.child(image[p], nameId(name[n]));
    } else {
      const depth = p === 0 ? 0 : matched[p];
      if ((p !== 0 && depth === 0) || tree.names[name[n]] !== path[depth]) continue;
      matched[n] = depth + 1;
      if (matched[n] < path.length) continue;
      image[n] = builder.child(0, nameId(name[n]));
    }
    builder.addSelf(image[n], self[n]);
  }
  return builder.finish();
}

/** The two halves of the sandwich view of one function. */
export interface Sandwich {
  /**
   * Who calls the function: an inverted tree whose root has one child, the function, whose children are
   * its direct callers, theirs the callers' callers, and so on up to the outermost frame.
   */
  callers: FunctionTree;
  /** What the function calls: the root's one child is the function, with its merged callees below. */
  callees: FunctionTree;
}

/**
 * The callers and callees of `functionName`. Each stack counts once, cut at its outermost call of the
 * function, so a recursive function's own recursion shows among its callees and both trees' root totals
 * equal the function's total in functionTable. Both trees are empty when the function does not occur.
 */
export function sandwich(tree: FunctionTree, functionName: string): Sandwich {
  const { parent, name, self, total, size } = tree;
  const callers = new TreeBuilder(64);
  const callees = new TreeBuilder(64);
  const callerName = nameMapper(callers, tree.names);
  const calleeName = nameMapper(callees, tree.names);
  const isTargetName = tree.names.map((n) => n === functionName);
  let callerTop = -1;
  let calleeTop = -1;
  // The image of each node in the callee tree, -1 above the outermost call.
  const image = new Int32Array(size).fill(-1);
  for (let n = 1; n < size; n++) {
    const parentImage = image[parent[n]];
    if (parentImage >= 0) {
      image[n] = callees.child(parentImage, calleeName(name[n]));
    } else if (isTargetName[name[n]]) {
      if (calleeTop < 0) {
        calleeTop = callees.child(0, callees.internName(functionName));
        callerTop = callers.child(0, callers.internName(functionName));
      }
      image[n] = calleeTop;
      // The stack up to this outermost call, reversed: its callers, the outermost last.
      let caller = callerTop;
      for (let m = parent[n]; m > 0; m = parent[m]) caller = callers.child(caller, callerName(name[m]));
      callers.addSelf(caller, total[n]);
    } else {
      continue;
    }
    callees.addSelf(image[n], self[n]);
  }
  return { callers: callers.finish(), callees: callees.finish() };
}

/**
 * The bottom-up tree: each stack reversed, so the functions with self time are the root's children and
 * their callers are below them. Totals are preserved: every leaf path of the result sums to the input's.
 */
export function invert(tree: FunctionTree): FunctionTree {
  const { parent, name, self, size } = tree;
  const builder = new TreeBuilder(size);
  const nameId = nameMapper(builder, tree.names);
  builder.addSelf(0, self[0]);
  for (let n = 1; n < size; n++) {
    if (self[n] === 0) continue;
    let node = 0;
    for (let m = n; m > 0; m = parent[m]) node = builder.child(node, nameId(name[m]));
    builder.addSelf(node, self[n]);
  }
  return builder.finish();
}

/** The sum of two trees: equal paths of function names merge and their values add up. */
export function mergeTrees(a: FunctionTree, b: FunctionTree): FunctionTree {
  const aligned = alignTrees(a, b);
  const self = new Float64Array(aligned.size);
  const total = new Float64Array(aligned.size);
  for (let n = 0; n < aligned.size; n++) {
    self[n] = aligned.left.self[n] + aligned.right.self[n];
    total[n] = aligned.left.total[n] + aligned.right.total[n];
  }
  return {
    parent: aligned.parent,
    name: aligned.name,
    self,
    total,
    names: aligned.names,
    size: aligned.size,
  };
}

/**
 * Pyroscope's `stack_trace_selector.call_site` filter: keeps the values of the stacks whose function
 * names, root first (inlined frames included, outermost first), start with `callSite`, and zeroes the
 * others. The stack trees are shared with the input; only the values are new. An empty call site keeps
 * everything.
 */
export function filterCallSite(parts: readonly StackValues[], callSite: readonly string[]): StackValues[] {
  if (callSite.length === 0) return [...parts];
  return parts.map((part) => ({ ...part, values: filterValues(part, callSite) }));
}

const MISMATCH = -1;

function filterValues(part: StackValues, callSite: readonly string[]): Float64Array {
  const { parent, location, values, locFrameStart, locFrameName, names } = part;
  const full = callSite.length;
  // Call-site frames matched along the path to each node: MISMATCH once a frame differs, `full` once
  // the whole call site matched (everything below then matches too).
  const matched = new Int32Array(parent.length);
  const kept = new Float64Array(parent.length);
  for (let i = 0; i < parent.length; i++) {
    let state = parent[i] < 0 ? 0 : matched[parent[i]];
    if (state !== MISMATCH && state !== full) {
      const loc = location[i];
      // Frames are stored innermost first; the call site reads root first.
      for (let f = locFrameStart[loc + 1] - 1; f >= locFrameStart[loc] && state < full; f--) {
        if (names[locFrameName[f]] !== callSite[state]) {
          state = MISMATCH;
          break;
        }
        state++;
      }
    }
    matched[i] = state;
    if (state === full) kept[i] = values[i];
  }
  return kept;
}
