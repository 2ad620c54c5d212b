import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffTable, NegativeValueError, toDiffFlameGraph } from '../src/diff.js';
import { buildFunctionTree, type FunctionTree, toFlameGraph } from '../src/flamegraph.js';
import { folded, stacksArbitrary, treeOf } from './tree-helpers.js';

interface DiffNode {
  name: string;
  left: { x: number; total: number; self: number };
  right: { x: number; total: number; self: number };
}

function decodeDiff(graph: { names: string[]; levels: number[][] }): DiffNode[][] {
  return graph.levels.map((level) => {
    const nodes: DiffNode[] = [];
    let leftEnd = 0;
    let rightEnd = 0;
    for (let i = 0; i < level.length; i += 7) {
      const left = { x: leftEnd + level[i], total: level[i + 1], self: level[i + 2] };
      const right = { x: rightEnd + level[i + 3], total: level[i + 4], self: level[i + 5] };
      leftEnd = left.x + left.total;
      rightEnd = right.x + right.total;
      nodes.push({ name: graph.names[level[i + 6]], left, right });
    }
    return nodes;
  });
}

function decodeSingle(graph: { names: string[]; levels: number[][] }) {
  return graph.levels.map((level) => {
    const nodes = [];
    let end = 0;
    for (let i = 0; i < level.length; i += 4) {
      const x = end + level[i];
      nodes.push({ name: graph.names[level[i + 3]], x, total: level[i + 1], self: level[i + 2] });
      end = x + level[i + 1];
    }
    return nodes;
  });
}

describe('toDiffFlameGraph', () => {
  it('reproduces the worked example of the spec', () => {
    const diff = toDiffFlameGraph(treeOf(['foo;bar 2']), treeOf(['foo;bar 1', 'foo;baz 3']));
    expect(diff).toEqual({
      names: ['total', 'foo', 'bar', 'baz'],
      levels: [
        [0, 2, 0, 0, 4, 0, 0],
        [0, 2, 0, 0, 4, 0, 1],
        [0, 2, 2, 0, 1, 1, 2, 0, 0, 0, 0, 3, 3, 3],
      ],
      total: 6,
      maxSelf: 3,
      leftTicks: 2,
      rightTicks: 4,
    });
  });

  it('gives a root-only graph for two empty trees', () => {
    const empty = buildFunctionTree([]);
    expect(toDiffFlameGraph(empty, empty)).toEqual({
      names: ['total'],
      levels: [[0, 0, 0, 0, 0, 0, 0]],
      total: 0,
      maxSelf: 0,
      leftTicks: 0,
      rightTicks: 0,
    });
  });

  it('keeps a node when either side reaches the cut-off and folds the rest into "other" on both sides', () => {
    // max(left, right) totals: a 11, a;x 10, b 5, a;z 2, a;y 1; the 3rd largest is 5.
    const left = treeOf(['a;x 10', 'a;y 1', 'b 1']);
    const right = treeOf(['a;x 1', 'a;z 2', 'b 5']);
    expect(toDiffFlameGraph(left, right, 3)).toEqual({
      names: ['total', 'a', 'x', 'other', 'b'],
      levels: [
        [0, 12, 0, 0, 8, 0, 0],
        [0, 11, 0, 0, 3, 0, 1, 0, 1, 1, 0, 5, 5, 4],
        [0, 10, 10, 0, 1, 1, 2, 0, 1, 1, 0, 2, 2, 3],
      ],
      total: 20,
      maxSelf: 10,
      leftTicks: 12,
      rightTicks: 8,
    });
    expect(toDiffFlameGraph(left, right, 0)).toEqual(toDiffFlameGraph(left, right));
  });

  it('refuses negative values', () => {
    const negative = treeOf(['a;b 1']);
    negative.self[2] = -1;
    expect(() => toDiffFlameGraph(treeOf(['a 1']), negative)).toThrow(NegativeValueError);
    expect(() => toDiffFlameGraph(negative, treeOf(['a 1']))).toThrow(/negative values.*left tree.*"a;b"/);
    expect(() => diffTable(negative, negative)).toThrow(NegativeValueError);
  });

  it('has equal sides when a tree is compared with itself', () => {
    fc.assert(
      fc.property(stacksArbitrary, fc.integer({ min: 0, max: 40 }), (stacks, maxNodes) => {
        const tree = treeOf(folded(stacks));
        const diff = toDiffFlameGraph(tree, tree, maxNodes);
        expect(diff.leftTicks).toBe(diff.rightTicks);
        expect(diff.total).toBe(2 * tree.total[0]);
        for (const level of diff.levels) {
          for (let i = 0; i < level.length; i += 7)
            expect(level.slice(i, i + 3)).toEqual(level.slice(i + 3, i + 6));
        }
        // And then it is the plain flame graph, side by side.
        const single = toFlameGraph(tree, maxNodes);
        expect(diff.names).toEqual(single.names);
        expect(diff.levels.map((level) => level.filter((_, i) => i % 7 < 3 || i % 7 === 6))).toEqual(
          single.levels,
        );
      }),
    );
  });

  it('shows each side as its own flame graph, plus zero-width nodes for the other side', () => {
    fc.assert(
      fc.property(stacksArbitrary, stacksArbitrary, (leftStacks, rightStacks) => {
        const left = treeOf(folded(leftStacks));
        const right = treeOf(folded(rightStacks));
        const diff = decodeDiff(toDiffFlameGraph(left, right, 1 << 20));
        for (const [side, tree] of [
          ['left', left],
          ['right', right],
        ] as const) {
          const expected = decodeSingle(toFlameGraph(tree, 1 << 20));
          const actual = diff
            .map((level) => level.map((node) => ({ name: node.name, ...node[side] })))
            .map((level) => level.filter((node) => node.total !== 0 || node.name === 'total'))
            .filter((level) => level.length > 0);
          expect(actual).toEqual(expected);
        }
      }),
    );
  });
});

describe('diffTable', () => {
  const left = treeOf(['foo;bar 2']);
  const right = treeOf(['foo;bar 1', 'foo;baz 3']);

  it('compares shares of each side by default', () => {
    expect(diffTable(left, right)).toEqual([
      row('bar', [2, 2], [1, 1], 1, 0.25, -0.75, -0.75),
      row('baz', [0, 0], [3, 3], 0, 0.75, 0.75, null),
      row('foo', [0, 2], [0, 4], 1, 1, 0, 0),
    ]);
  });

  it('compares raw values in absolute mode', () => {
    expect(diffTable(left, right, { normalize: false })).toEqual([
      row('baz', [0, 0], [3, 3], 0, 3, 3, null),
      row('foo', [0, 2], [0, 4], 2, 4, 2, 1),
      row('bar', [2, 2], [1, 1], 2, 1, -1, -0.5),
    ]);
  });

  it('counts recursion once and handles empty sides', () => {
    const empty: FunctionTree = buildFunctionTree([]);
    expect(diffTable(treeOf(['a;a;a 4']), empty)).toEqual([row('a', [4, 4], [0, 0], 1, 0, -1, -1)]);
    expect(diffTable(empty, empty)).toEqual([]);
  });
});

function row(
  name: string,
  [baselineSelf, baselineTotal]: number[],
  [comparisonSelf, comparisonTotal]: number[],
  baseline: number,
  comparison: number,
  change: number,
  relativeChange: number | null,
) {
  return {
    name,
    baselineSelf,
    baselineTotal,
    comparisonSelf,
    comparisonTotal,
    baseline,
    comparison,
    change,
    relativeChange,
  };
}
