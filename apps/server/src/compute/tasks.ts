import { buildFunctionTree, type StackValues, toFlameGraph } from '@emberscope/model';

/**
 * CPU-heavy query steps, as pure functions of structured-cloneable inputs, so that the same code runs
 * inline for small inputs and in a worker thread for large ones.
 */
export const tasks = {
  flameGraph(input: { parts: StackValues[]; maxNodes: number }) {
    return toFlameGraph(buildFunctionTree(input.parts), input.maxNodes);
  },
};

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
export type TaskInput<T extends TaskName> = Parameters<Tasks[T]>[0];
export type TaskOutput<T extends TaskName> = ReturnType<Tasks[T]>;

/** Work a task will do, in stack nodes: below a threshold it is cheaper inline than a message round trip. */
export function taskSize(input: { parts: StackValues[] }): number {
  let nodes = 0;
  for (const part of input.parts) nodes += part.parent.length;
  return nodes;
}
