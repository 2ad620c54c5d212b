import { DEFAULT_MAX_NODES, type FunctionTree, functionTable } from './flamegraph.js';
import { layoutLevels } from './internal/layout.js';
import { nameMapper, subtreeTotals, TreeBuilder } from './internal/tree-builder.js';
import { compareUtf8 } from './internal/utf8.js';

/**
 * A diff flame graph in Pyroscope's "double" encoding (`querier.v1.FlameGraphDiff`): `levels[d]` holds
 * seven numbers per node at depth d, `[lDelta, lTotal, lSelf, rDelta, rTotal, rSelf, nameIndex]`, each
 * side's x offset delta-encoded against that side's previous node of the level.
 */
export interface FlameGraphDiff {
  names: string[];
  levels: number[][];
  /** leftTicks + rightTicks. */
  total: number;
  /** The largest self value of any node on either side. */
  maxSelf: number;
  /** Root total of the left (baseline) tree. */
  leftTicks: number;
  /** Root total of the right (comparison) tree. */
  rightTicks: number;
}

/** Thrown for trees that hold negative values, which Pyroscope refuses to diff. */
export class NegativeValueError extends RangeError {
  override name = 'NegativeValueError';
}

/**
 * Two trees laid over each other: one node for every path present in either tree, with each side's
 * values (zero where the path is missing on that side).
 */
export interface AlignedTrees {
  parent: Int32Array;
  name: Int32Array;
  names: string[];
  size: number;
  left: { self: Float64Array; total: Float64Array };
  right: { self: Float64Array; total: Float64Array };
}

/** Lays two trees over each other, merging nodes with the same path of function names. */
export function alignTrees(left: FunctionTree, right: FunctionTree): AlignedTrees {
  const builder = new TreeBuilder(left.size + right.size);
  const leftNodes = mapNodes(builder, left);
  const rightNodes = mapNodes(builder, right);
  const shape = builder.finish();
  const side = (tree: FunctionTree, nodes: Int32Array) => {
    const self = new Float64Array(shape.size);
    for (let n = 0; n < tree.size; n++) self[nodes[n]] += tree.self[n];
    return { self, total: subtreeTotals(shape.parent, self) };
  };
  return {
    parent: shape.parent,
    name: shape.name,
    names: shape.names,
    size: shape.size,
    left: side(left, leftNodes),
    right: side(right, rightNodes),
  };
}

/** Adds the paths of `tree` to the builder; returns the builder node of each tree node. */
function mapNodes(builder: TreeBuilder, tree: FunctionTree): Int32Array {
  const nameId = nameMapper(builder, tree.names);
  const nodes = new Int32Array(tree.size);
  for (let n = 1; n < tree.size; n++) nodes[n] = builder.child(nodes[tree.parent[n]], nameId(tree.name[n]));
  return nodes;
}

/**
 * The diff flame graph of two trees, as Pyroscope's `Diff` and `/pyroscope/render-diff` return it. Both
 * trees are aligned first, so every node exists on both sides. When there are more than `maxNodes`
 * nodes (root excluded), a node is kept when either side's total reaches the `maxNodes`-th largest of
 * max(left total, right total); the dropped children of each kept node fold into one "other" child on
 * both sides. `maxNodes` ≤ 0 means the default. Throws NegativeValueError for negative values.
 */
export function toDiffFlameGraph(
  left: FunctionTree,
  right: FunctionTree,
  maxNodes = DEFAULT_MAX_NODES,
): FlameGraphDiff {
  assertNonNegative(left, 'left');
  assertNonNegative(right, 'right');
  const aligned = alignTrees(left, right);
  const rank = new Float64Array(aligned.size);
  for (let n = 0; n < aligned.size; n++) rank[n] = Math.max(aligned.left.total[n], aligned.right.total[n]);
  const limit = maxNodes > 0 ? maxNodes : DEFAULT_MAX_NODES;
  const { names, levels, maxSelf } = layoutLevels(aligned, [aligned.left, aligned.right], rank, limit);
  const leftTicks = aligned.left.total[0];
  const rightTicks = aligned.right.total[0];
  return { names, levels, total: leftTicks + rightTicks, maxSelf, leftTicks, rightTicks };
}

/** One function of the diff table. */
export interface DiffTableRow {
  name: string;
  /** Self and total of the function in the left (baseline) tree; recursion counts once in the total. */
  baselineSelf: number;
  baselineTotal: number;
  /** The same in the right (comparison) tree. */
  comparisonSelf: number;
  comparisonTotal: number;
  /** The baseline total as a share of the baseline's root total (0..1), or the raw total in absolute mode. */
  baseline: number;
  /** The comparison total as a share of the comparison's root total, or the raw total in absolute mode. */
  comparison: number;
  /** comparison − baseline. */
  change: number;
  /** change ÷ baseline (0.25 = 25 % more); null for a function absent from the baseline. */
  relativeChange: number | null;
}

export interface DiffTableOptions {
  /**
   * Compare each function's share of its side's total (the default, as Pyroscope's diff view does), or,
   * when false, the raw values, for before/after comparisons of the same workload.
   */
  normalize?: boolean;
}

/**
 * Per-function comparison of two trees, biggest change (either way) first, then by name. Throws
 * NegativeValueError for negative values.
 */
export function diffTable(
  left: FunctionTree,
  right: FunctionTree,
  { normalize = true }: DiffTableOptions = {},
): DiffTableRow[] {
  assertNonNegative(left, 'left');
  assertNonNegative(right, 'right');
  return diffRows(functionTable(left), functionTable(right), left.total[0], right.total[0], { normalize });
}

/** One function's self and total (recursion counted once) on one side of a comparison. */
export interface FunctionTotals {
  name: string;
  self: number;
  total: number;
}

/**
 * The rows of `diffTable` from each side's per-function totals and root total, for callers that have
 * function tables rather than FunctionTrees (the UI's opened files, the CLI against older servers).
 */
export function diffRows(
  left: Iterable<FunctionTotals>,
  right: Iterable<FunctionTotals>,
  leftTicks: number,
  rightTicks: number,
  { normalize = true }: DiffTableOptions = {},
): DiffTableRow[] {
  const share = (value: number, ticks: number) => (!normalize ? value : ticks > 0 ? value / ticks : 0);
  const rows = new Map<string, DiffTableRow>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (r === undefined) {
      r = {
        name,
        baselineSelf: 0,
        baselineTotal: 0,
        comparisonSelf: 0,
        comparisonTotal: 0,
        baseline: 0,
        comparison: 0,
        change: 0,
        relativeChange: 0,
      };
      rows.set(name, r);
    }
    return r;
  };
  for (const { name, self, total } of left) {
    const r = row(name);
    r.baselineSelf = self;
    r.baselineTotal = total;
  }
  for (const { name, self, total } of right) {
    const r = row(name);
    r.comparisonSelf = self;
    r.comparisonTotal = total;
  }
  for (const r of rows.values()) {
    r.baseline = share(r.baselineTotal, leftTicks);
    r.comparison = share(r.comparisonTotal, rightTicks);
    r.change = r.comparison - r.baseline;
    r.relativeChange = r.baseline !== 0 ? r.change / r.baseline : r.comparison !== 0 ? null : 0;
  }
  return [...rows.values()].sort(
    (a, b) => Math.abs(b.change) - Math.abs(a.change) || compareUtf8(a.name, b.name),
  );
}

function assertNonNegative(tree: FunctionTree, side: string): void {
  for (let n = 0; n < tree.size; n++) {
    if (tree.self[n] < 0 || Number.isNaN(tree.self[n])) {
      const path = [];
      for (let m = n; m > 0; m = tree.parent[m]) path.push(tree.names[tree.name[m]]);
      throw new NegativeValueError(
        `cannot diff a tree with negative values: the ${side} tree has ${tree.self[n]} at ` +
          `${JSON.stringify(path.reverse().join(';') || 'the root')}`,
      );
    }
  }
}
