import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFunctionTree, type FlameGraph, type FunctionTree, toFlameGraph } from '../src/flamegraph.js';
import { stackValuesFromFolded } from '../src/testing.js';

interface Stack {
  frames: string[];
  value: number;
}

const stackArbitrary: fc.Arbitrary<Stack> = fc.record({
  frames: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 6 }),
  value: fc.integer({ min: 1, max: 1000 }),
});
/** Stacks spread over 1–3 partitions, each with its own symbol table. */
const partitionedStacks = fc.tuple(
  fc.array(stackArbitrary, { minLength: 1, maxLength: 40 }),
  fc.integer({ min: 1, max: 3 }),
);

function buildPartitioned([stacks, partitions]: [Stack[], number]): FunctionTree {
  const lines = Array.from({ length: partitions }, (): string[] => []);
  stacks.forEach((stack, i) => {
    lines[i % partitions].push(`${stack.frames.join(';')} ${stack.value}`);
  });
  return buildFunctionTree(lines.map(stackValuesFromFolded));
}

function pathOf(tree: FunctionTree, node: number): string {
  const frames = [];
  for (let n = node; n > 0; n = tree.parent[n]) frames.push(tree.names[tree.name[n]]);
  return frames.reverse().join(';');
}

interface DecodedNode {
  x: number;
  total: number;
  self: number;
  name: string;
}

function decodeLevels(graph: FlameGraph): DecodedNode[][] {
  return graph.levels.map((level) => {
    const nodes: DecodedNode[] = [];
    let end = 0;
    for (let i = 0; i < level.length; i += 4) {
      nodes.push({
        x: end + level[i],
        total: level[i + 1],
        self: level[i + 2],
        name: graph.names[level[i + 3]],
      });
      end += level[i] + level[i + 1];
    }
    return nodes;
  });
}

/** Every node lies in its parent's range right of the parent's self, and children fill that range. */
function expectWellFormed(graph: FlameGraph, sum: number): void {
  const levels = decodeLevels(graph);
  expect(levels[0]).toEqual([{ x: 0, total: sum, self: 0, name: 'total' }]);
  expect(graph.total).toBe(sum);
  for (let depth = 1; depth < levels.length; depth++) {
    const parents = levels[depth - 1];
    const childTotals = new Map<DecodedNode, number>();
    for (const child of levels[depth]) {
      const parent = parents.find((p) => p.x + p.self <= child.x && child.x + child.total <= p.x + p.total);
      expect(parent, `parent of ${child.name} at depth ${depth}`).toBeDefined();
      if (parent) childTotals.set(parent, (childTotals.get(parent) ?? 0) + child.total);
    }
    for (const parent of parents) expect(childTotals.get(parent) ?? 0).toBe(parent.total - parent.self);
  }
  expect(graph.maxSelf).toBe(Math.max(0, ...levels.flat().map((node) => node.self)));
}

describe('flame graph properties', () => {
  it('builds a tree whose totals match the stacks', () => {
    fc.assert(
      fc.property(partitionedStacks, ([stacks, partitions]) => {
        const tree = buildPartitioned([stacks, partitions]);
        const sum = stacks.reduce((acc, s) => acc + s.value, 0);
        expect(tree.total[0]).toBe(sum);

        const childSum = new Float64Array(tree.size);
        for (let node = 1; node < tree.size; node++) childSum[tree.parent[node]] += tree.total[node];
        for (let node = 0; node < tree.size; node++) {
          expect(tree.total[node]).toBe(tree.self[node] + childSum[node]);
        }

        // Reference model: the total of a path is the sum of the stacks it prefixes.
        const expected = new Map<string, number>();
        for (const { frames, value } of stacks) {
          for (let depth = 1; depth <= frames.length; depth++) {
            const path = frames.slice(0, depth).join(';');
            expected.set(path, (expected.get(path) ?? 0) + value);
          }
        }
        const actual = new Map<string, number>();
        for (let node = 1; node < tree.size; node++) actual.set(pathOf(tree, node), tree.total[node]);
        expect(actual).toEqual(expected);
      }),
    );
  });

  it('lays out a well-formed flame graph for any maxNodes', () => {
    fc.assert(
      fc.property(partitionedStacks, fc.integer({ min: -1, max: 120 }), (input, maxNodes) => {
        const tree = buildPartitioned(input);
        const sum = tree.total[0];
        const full = toFlameGraph(tree);
        expectWellFormed(full, sum);
        expect(decodeLevels(full).flat()).toHaveLength(tree.size);

        const truncated = toFlameGraph(tree, maxNodes);
        expectWellFormed(truncated, sum);
        const kept = decodeLevels(truncated)
          .flat()
          .filter((node) => node.name !== 'other');
        const descending = [...tree.total.subarray(1)].sort((a, b) => b - a);
        const expectedKept =
          maxNodes <= 0 || descending.length <= maxNodes
            ? descending.length
            : descending.filter((total) => total >= descending[maxNodes - 1]).length;
        expect(kept).toHaveLength(1 + expectedKept);
      }),
    );
  });
});
