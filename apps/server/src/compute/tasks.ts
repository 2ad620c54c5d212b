import {
  buildFunctionTree,
  encodeTree,
  filterCallSite,
  type StackValues,
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
};

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
