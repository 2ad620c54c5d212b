import {
  buildFunctionTree,
  compareUtf8,
  diffTable,
  encodeTree,
  type FunctionTree,
  filterCallSite,
  focusSubtree,
  functionTable,
  type StackValues,
  sandwich,
  toCollapsed,
  toDiffFlameGraph,
  toDot,
  toFlameGraph,
} from '@emberscope/model';

/** The merged stacks of one query, optionally restricted to a call site (stack_trace_selector). */
export interface StacksInput {
  parts: StackValues[];
  /** Root-first function names every kept stack starts with; empty = all stacks. */
  callSite?: string[];
}

function tree(input: StacksInput) {
  const parts = input.callSite?.length ? filterCallSite(input.parts, input.callSite) : input.parts;
  return buildFunctionTree(parts);
}

/**
 * CPU-heavy query steps, as pure functions of structured-cloneable inputs, so that the same code runs
 * inline for small inputs and in a worker thread for large ones.
 */
export const tasks = {
  flameGraph: (input: StacksInput & { maxNodes: number }) => toFlameGraph(tree(input), input.maxNodes),
  treeBytes: (input: StacksInput & { maxNodes: number }) => encodeTree(tree(input), input.maxNodes),
  dot: (input: StacksInput & { maxNodes: number }) => toDot(tree(input), input.maxNodes),
  collapsed: (input: StacksInput) => toCollapsed(tree(input)),
  diff: (input: { left: StacksInput; right: StacksInput; maxNodes: number }) =>
    toDiffFlameGraph(tree(input.left), tree(input.right), input.maxNodes),
  /** The flame graph of the subtree at `path` (root-first function names), cut to maxNodes after focusing. */
  focusFlameGraph: (input: StacksInput & { path: string[]; maxNodes: number }) =>
    toFlameGraph(focusSubtree(tree(input), input.path), input.maxNodes),
  /** Callers and callees of one function (within the focused subtree when `focus` is set), as flame graphs. */
  sandwich: (input: StacksInput & { function: string; focus?: string[]; maxNodes: number }) => {
    const halves = sandwich(focused(tree(input), input.focus), input.function);
    return {
      callers: toFlameGraph(halves.callers, input.maxNodes),
      callees: toFlameGraph(halves.callees, input.maxNodes),
    };
  },
  /** Per-function self and total, by self (or total) descending; `limit` > 0 keeps the first rows. */
  functionTable: (input: StacksInput & { sort: 'self' | 'total'; limit: number }) => {
    const t = tree(input);
    const rows = functionTable(t);
    if (input.sort === 'total')
      rows.sort((a, b) => b.total - a.total || b.self - a.self || compareUtf8(a.name, b.name));
    return { total: t.total[0], count: rows.length, functions: limited(rows, input.limit) };
  },
  /** Per-function comparison of two queries, biggest change first; `limit` > 0 keeps the first rows. */
  diffTable: (input: { left: StacksInput; right: StacksInput; normalize: boolean; limit: number }) => {
    const left = tree(input.left);
    const right = tree(input.right);
    const rows = diffTable(left, right, { normalize: input.normalize });
    return {
      leftTicks: left.total[0],
      rightTicks: right.total[0],
      count: rows.length,
      rows: limited(rows, input.limit),
    };
  },
};

function focused(t: FunctionTree, path: readonly string[] | undefined): FunctionTree {
  return path?.length ? focusSubtree(t, path) : t;
}

function limited<T>(rows: T[], limit: number): T[] {
  return limit > 0 && rows.length > limit ? rows.slice(0, limit) : rows;
}

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
export type TaskInput<T extends TaskName> = Parameters<Tasks[T]>[0];
export type TaskOutput<T extends TaskName> = ReturnType<Tasks[T]>;

export function runTask<T extends TaskName>(task: T, input: TaskInput<T>): TaskOutput<T> {
  return (tasks[task] as (input: TaskInput<T>) => TaskOutput<T>)(input);
}

/** Work a task will do, in stack nodes: below a threshold it is cheaper inline than a message round trip. */
export function taskSize(input: Partial<StacksInput & { left: StacksInput; right: StacksInput }>): number {
  let nodes = 0;
  for (const stacks of [input, input.left, input.right])
    for (const part of stacks?.parts ?? []) nodes += part.parent.length;
  return nodes;
}
