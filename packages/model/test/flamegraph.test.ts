import { describe, expect, it } from 'vitest';
import {
  buildFunctionTree,
  compareUtf8,
  type FlameGraph,
  type FunctionTree,
  functionTable,
  toFlamebearer,
  toFlameGraph,
} from '../src/flamegraph.js';
import type { StackValues } from '../src/stacks.js';
import { stackValuesFromFolded } from '../src/testing.js';

const graphOf = (lines: string[], maxNodes?: number) =>
  toFlameGraph(buildFunctionTree([stackValuesFromFolded(lines)]), maxNodes);

/** Every node of a flame graph with its absolute x, level by level. */
function decodeLevels(graph: FlameGraph) {
  return graph.levels.map((level) => {
    const nodes = [];
    let end = 0;
    for (let i = 0; i < level.length; i += 4) {
      const [delta, total, self, name] = level.slice(i, i + 4);
      nodes.push({ x: end + delta, total, self, name: graph.names[name] });
      end += delta + total;
    }
    return nodes;
  });
}

describe('toFlameGraph', () => {
  it('reproduces the worked example of the flamebearer spec', () => {
    const graph = graphOf(['foo;bar 2', 'foo;baz 1', 'foo 1', 'qux 3']);
    expect(graph).toEqual({
      names: ['total', 'foo', 'bar', 'baz', 'qux'],
      levels: [
        [0, 7, 0, 0],
        [0, 4, 1, 1, 0, 3, 3, 4],
        [1, 2, 2, 2, 0, 1, 1, 3],
      ],
      total: 7,
      maxSelf: 3,
    });
    expect(toFlamebearer(graph)).toEqual({
      names: graph.names,
      levels: graph.levels,
      numTicks: 7,
      maxSelf: 3,
    });
  });

  it('gives the empty graph for an empty tree', () => {
    const empty = { names: ['total'], levels: [[0, 0, 0, 0]], total: 0, maxSelf: 0 };
    expect(toFlameGraph(buildFunctionTree([]))).toEqual(empty);
    expect(graphOf([])).toEqual(empty);
  });

  it('sorts siblings by UTF-8 bytes', () => {
    const siblings = ['😀', '\uffff', 'é', 'a', '_', 'B'];
    const graph = graphOf(siblings.map((name) => `${name} 1`));
    expect(graph.names).toEqual(['total', 'B', '_', 'a', 'é', '\uffff', '😀']);
    expect([...siblings].sort(compareUtf8)).toEqual(graph.names.slice(1));
  });

  describe('truncation', () => {
    // Non-root totals: main 12, zeta 10, x 5, alpha 1, beta 1.
    const lines = ['main;zeta 10', 'main;alpha 1', 'main;beta 1', 'x 5'];

    it('folds the dropped siblings of a kept node into "other", after the kept ones', () => {
      expect(graphOf(lines, 3)).toEqual({
        names: ['total', 'main', 'zeta', 'other', 'x'],
        levels: [
          [0, 17, 0, 0],
          [0, 12, 0, 1, 0, 5, 5, 4],
          [0, 10, 10, 2, 0, 2, 2, 3],
        ],
        total: 17,
        maxSelf: 10,
      });
    });

    it('folds dropped children of the root, and counts "other" in maxSelf', () => {
      expect(graphOf(lines, 2).levels).toEqual([
        [0, 17, 0, 0],
        [0, 12, 0, 1, 0, 5, 5, 3],
        [0, 10, 10, 2, 0, 2, 2, 3],
      ]);
      expect(graphOf(lines, 1)).toEqual({
        names: ['total', 'main', 'other'],
        levels: [
          [0, 17, 0, 0],
          [0, 12, 0, 1, 0, 5, 5, 2],
          [0, 12, 12, 2],
        ],
        total: 17,
        maxSelf: 12,
      });
    });

    it('keeps every node tied with the cut-off total', () => {
      const graph = graphOf(['a 5', 'b 5', 'c 5', 'd 1'], 2);
      expect(graph.names).toEqual(['total', 'a', 'b', 'c', 'other']);
      expect(graph.levels[1]).toEqual([0, 5, 5, 1, 0, 5, 5, 2, 0, 5, 5, 3, 0, 1, 1, 4]);
    });

    it('uses the default of 8192 for maxNodes <= 0', () => {
      const full = graphOf(lines);
      expect(graphOf(lines, 0)).toEqual(full);
      expect(graphOf(lines, -1)).toEqual(full);
      expect(full.levels[2]).toHaveLength(3 * 4);
    });

    it('shares the name of a real function called "other"', () => {
      expect(graphOf(['other 5', 'x 1', 'y 1'], 1)).toEqual({
        names: ['total', 'other'],
        levels: [
          [0, 7, 0, 0],
          [0, 5, 5, 1, 0, 2, 2, 1],
        ],
        total: 7,
        maxSelf: 5,
      });
    });

    it('keeps exactly the nodes that reach the maxNodes-th largest total in a large tree', () => {
      const tree = randomTree(100_000, 7);
      for (const maxNodes of [1, 10, 100, 8192, 60_000]) expectKeptNodes(tree, maxNodes);
    });

    it('stays exact when the sampled estimate of the cut-off is too high', () => {
      // A flat tree where the evenly spaced sample (every third node) holds all the large totals.
      const tree = flatTree(Array.from({ length: 13_000 }, (_, i) => (i % 3 === 0 && i < 6_000 ? 100 : 1)));
      for (const maxNodes of [1_000, 2_500]) expectKeptNodes(tree, maxNodes);
    });
  });
});

/** Checks the number of real (not "other") nodes kept against a sort of all totals. */
function expectKeptNodes(tree: FunctionTree, maxNodes: number): void {
  const descending = Float64Array.from(tree.total.subarray(1)).sort().reverse();
  const threshold = descending[maxNodes - 1];
  const expectedKept = descending.filter((total) => total >= threshold).length;
  const graph = toFlameGraph(tree, maxNodes);
  const nodes = decodeLevels(graph).flat();
  const otherNodes = nodes.filter((node) => node.name === 'other').length;
  expect(nodes.length - 1 - otherNodes, `maxNodes ${maxNodes}`).toBe(expectedKept);
  expect(graph.total).toBe(tree.total[0]);
}

describe('buildFunctionTree', () => {
  const graphOfParts = (parts: StackValues[]) => toFlameGraph(buildFunctionTree(parts));

  it('merges partitions with their own symbol tables', () => {
    const first = stackValuesFromFolded(['main;handler;json 3', 'main;gc 1']);
    const second = stackValuesFromFolded(['main;handler;sql 4', 'main;handler;json 2']);
    expect(second.names).toEqual(['main', 'handler', 'sql', 'json']);
    const tree = buildFunctionTree([first, second]);
    expect(tree.names).toEqual(['total', 'main', 'handler', 'json', 'gc', 'sql']);
    expect(tree.size).toBe(6);
    expect(toFlameGraph(tree)).toEqual(
      graphOf(['main;handler;json 3', 'main;gc 1', 'main;handler;sql 4', 'main;handler;json 2']),
    );
    // gc (x 0) sorts before handler (x 1), whose children json 5 and sql 4 follow.
    expect(toFlameGraph(tree).levels[3]).toEqual([1, 5, 5, 4, 0, 4, 4, 5]);
  });

  it('expands inlined frames and merges locations of the same function', () => {
    const part: StackValues = {
      names: ['main', 'handler', 'inlinedHelper', 'encode'],
      // Location 1 is handler with inlinedHelper inlined into it (innermost first); location 3 is
      // another line of handler.
      locFrameStart: Uint32Array.of(0, 1, 3, 4, 5),
      locFrameName: Uint32Array.of(0, 2, 1, 3, 1),
      parent: Int32Array.of(-1, 0, 1, 0),
      location: Int32Array.of(0, 1, 2, 3),
      values: Float64Array.of(0, 1, 2, 5),
    };
    expect(graphOfParts([part])).toEqual({
      names: ['total', 'main', 'handler', 'inlinedHelper', 'encode'],
      levels: [
        [0, 8, 0, 0],
        [0, 8, 0, 1],
        [0, 8, 5, 2],
        [5, 3, 1, 3],
        [6, 2, 2, 4],
      ],
      total: 8,
      maxSelf: 5,
    });
  });

  it('leaves out subtrees with a zero total', () => {
    const tree = buildFunctionTree([stackValuesFromFolded(['a;b;c 0', 'a;d 2', 'z 0'])]);
    expect(tree.size).toBe(3);
    expect(tree.names).toEqual(['total', 'a', 'd']);
    expect([...tree.total]).toEqual([2, 2, 2]);
  });

  it('keeps the columns consistent', () => {
    const tree = buildFunctionTree([stackValuesFromFolded(['a;b 1', 'a;c 2', 'a 3', 'd 4'])]);
    expect(tree.parent).toHaveLength(tree.size);
    expect([...tree.parent]).toEqual([-1, 0, 1, 1, 0]);
    expect([...tree.name].map((id) => tree.names[id])).toEqual(['total', 'a', 'b', 'c', 'd']);
    expect([...tree.self]).toEqual([0, 3, 1, 2, 4]);
    expect([...tree.total]).toEqual([10, 6, 1, 2, 4]);
  });

  it('merges under nodes with thousands of children', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `main;f${i} 1`);
    const tree = buildFunctionTree([
      stackValuesFromFolded(lines),
      stackValuesFromFolded([...lines].reverse()),
    ]);
    expect(tree.size).toBe(3002);
    expect(tree.total[1]).toBe(6000);
    expect(new Set(tree.total.subarray(2))).toEqual(new Set([2]));
  });

  it('grows past its initial capacity', () => {
    // 40 single-frame stack nodes for 40 × 3 tree nodes, all inlined.
    const names = Array.from({ length: 120 }, (_, i) => `f${i}`);
    const part: StackValues = {
      names,
      locFrameStart: Uint32Array.from({ length: 41 }, (_, i) => 3 * i),
      locFrameName: Uint32Array.from(names.keys()),
      parent: Int32Array.from({ length: 40 }, (_, i) => i - 1),
      location: Int32Array.from({ length: 40 }, (_, i) => i),
      values: Float64Array.from({ length: 40 }, () => 1),
    };
    const tree = buildFunctionTree([part]);
    expect(tree.size).toBe(121);
    expect(tree.total[0]).toBe(40);
    expect(graphOfParts([part]).levels).toHaveLength(121);
  });
});

describe('functionTable', () => {
  it('counts a recursive function once per stack in its total', () => {
    const tree = buildFunctionTree([stackValuesFromFolded(['a;b;a;b 1', 'a 2', 'c;a 4'])]);
    expect(functionTable(tree)).toEqual([
      { name: 'a', self: 6, total: 7 },
      { name: 'b', self: 1, total: 1 },
      { name: 'c', self: 0, total: 4 },
    ]);
  });

  it('is empty for an empty tree', () => {
    expect(functionTable(buildFunctionTree([]))).toEqual([]);
  });
});

/** A root with one leaf child per value. */
function flatTree(values: number[]): FunctionTree {
  const size = values.length + 1;
  const self = Float64Array.of(0, ...values);
  const total = self.slice();
  total[0] = values.reduce((a, b) => a + b, 0);
  return {
    parent: Int32Array.from({ length: size }, (_, i) => (i === 0 ? -1 : 0)),
    name: Int32Array.from({ length: size }, (_, i) => i),
    self,
    total,
    names: ['total', ...values.map((_, i) => `f${i}`)],
    size,
  };
}

/** A random tree of `size` nodes with positive totals, from a seeded LCG. */
function randomTree(size: number, seed: number): FunctionTree {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const parent = new Int32Array(size);
  const name = new Int32Array(size);
  const self = new Float64Array(size);
  parent[0] = -1;
  for (let node = 1; node < size; node++) {
    parent[node] = Math.floor(random() ** 3 * node);
    name[node] = 1 + (node % 500);
    self[node] = 1 + Math.floor(random() * 1000);
  }
  const total = self.slice();
  for (let node = size - 1; node > 0; node--) total[parent[node]] += total[node];
  const names = ['total', ...Array.from({ length: 500 }, (_, i) => `f${i}`)];
  return { parent, name, self, total, names, size };
}
