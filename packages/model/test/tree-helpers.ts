import fc from 'fast-check';
import { buildFunctionTree, type FunctionTree } from '../src/flamegraph.js';
import { stackValuesFromFolded } from '../src/testing.js';

export interface Stack {
  frames: string[];
  value: number;
}

/** Stacks over a small alphabet, so that paths and recursion repeat. */
export const stackArbitrary: fc.Arbitrary<Stack> = fc.record({
  frames: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 6 }),
  value: fc.integer({ min: 1, max: 1000 }),
});

export const stacksArbitrary = fc.array(stackArbitrary, { minLength: 0, maxLength: 30 });

export const folded = (stacks: readonly Stack[]) => stacks.map((s) => `${s.frames.join(';')} ${s.value}`);

/** The function tree of folded lines (`a;b;c 3`), in one partition. */
export function treeOf(lines: readonly string[]): FunctionTree {
  return buildFunctionTree([stackValuesFromFolded(lines)]);
}

/** Every non-root node by its path of names, with its self and total. */
export function pathsOf(tree: FunctionTree): Map<string, { self: number; total: number }> {
  const paths = new Map<string, { self: number; total: number }>();
  const pathOf: string[] = [''];
  for (let n = 1; n < tree.size; n++) {
    const frame = tree.names[tree.name[n]];
    pathOf[n] = tree.parent[n] === 0 ? frame : `${pathOf[tree.parent[n]]};${frame}`;
    const entry = paths.get(pathOf[n]) ?? { self: 0, total: 0 };
    entry.self += tree.self[n];
    entry.total += tree.total[n];
    paths.set(pathOf[n], entry);
  }
  return paths;
}

/** Checks the invariants of a function tree: parents first, totals = self + children, distinct siblings. */
export function checkTree(tree: FunctionTree): void {
  const { parent, name, self, total, size } = tree;
  if (parent.length !== size || name.length !== size || self.length !== size || total.length !== size) {
    throw new Error('column lengths differ from size');
  }
  if (parent[0] !== -1 || tree.names[0] !== 'total') throw new Error('bad root');
  const sum = Float64Array.from(self);
  const siblings = new Set<string>();
  for (let n = size - 1; n > 0; n--) {
    if (!(parent[n] >= 0 && parent[n] < n)) throw new Error(`node ${n} has parent ${parent[n]}`);
    sum[parent[n]] += total[n];
    const key = `${parent[n]}:${name[n]}`;
    if (siblings.has(key)) throw new Error(`node ${parent[n]} has two children named ${tree.names[name[n]]}`);
    siblings.add(key);
  }
  for (let n = 0; n < size; n++) {
    if (Math.abs(sum[n] - total[n]) > 1e-9) throw new Error(`node ${n}: total ${total[n]} != ${sum[n]}`);
  }
}
