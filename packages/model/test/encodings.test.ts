import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTree, encodeTree, TreeFormatError, toCollapsed, toDot } from '../src/encodings.js';
import { buildFunctionTree, toFlameGraph } from '../src/flamegraph.js';
import { stackValuesFromFolded } from '../src/testing.js';
import { checkTree, folded, pathsOf, stacksArbitrary, treeOf } from './tree-helpers.js';

const bytesOf = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : [p])));

describe('tree format', () => {
  const tree = treeOf(['a;b 2', 'a 1', 'c 3']);

  it('writes nodes in pre-order with an empty-named root', () => {
    // name length, name, self, child count
    expect(encodeTree(tree)).toEqual(bytesOf(0, 0, 2, 1, 'a', 1, 1, 1, 'b', 2, 0, 1, 'c', 3, 0));
  });

  it('writes varints and UTF-8 names', () => {
    const big = treeOf(['é 300', 'z 2199023255552']);
    expect(encodeTree(big)).toEqual(
      bytesOf(0, 0, 2, 1, 'z', 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0, 2, 'é', 0xac, 0x02, 0),
    );
    expect(pathsOf(decodeTree(encodeTree(big)))).toEqual(pathsOf(big));
  });

  it('folds truncated children into a last child named "other"', () => {
    // totals: a 3, a;b 2, c 3, so two nodes keep a and c.
    expect(encodeTree(tree, 2)).toEqual(bytesOf(0, 0, 2, 1, 'a', 1, 1, 5, 'other', 2, 0, 1, 'c', 3, 0));
    expect(encodeTree(tree, 0)).toEqual(encodeTree(tree));
    expect(encodeTree(tree, Number.POSITIVE_INFINITY)).toEqual(encodeTree(tree));
  });

  it('encodes an empty tree as no bytes, and decodes no bytes as an empty tree', () => {
    expect(encodeTree(buildFunctionTree([]))).toEqual(new Uint8Array(0));
    const empty = decodeTree(new Uint8Array(0));
    expect([empty.size, empty.total[0]]).toEqual([1, 0]);
  });

  it('merges children of the same name and accepts any child order', () => {
    const decoded = decodeTree(bytesOf(0, 0, 3, 1, 'c', 3, 0, 1, 'a', 1, 1, 1, 'b', 2, 0, 1, 'a', 4, 0));
    checkTree(decoded);
    expect(toCollapsed(decoded)).toBe('a 5\na;b 2\nc 3\n');
  });

  it('rejects malformed input', () => {
    expect(() => decodeTree(bytesOf(0, 0, 1))).toThrow(TreeFormatError);
    expect(() => decodeTree(bytesOf(0, 0, 1, 5, 'a'))).toThrow(/runs past the end/);
    expect(() => decodeTree(bytesOf(0, 0, 0, 7))).toThrow(/after the last node/);
    expect(() => decodeTree(bytesOf(0, 0, 1, 1, 0xff, 0, 0))).toThrow(/UTF-8/);
    expect(() => decodeTree(bytesOf(0, ...new Array(11).fill(0x80)))).toThrow(/varint/);
  });

  it('refuses negative values', () => {
    const negative = treeOf(['a 1']);
    negative.self[1] = -1;
    expect(() => encodeTree(negative)).toThrow(RangeError);
  });

  it('round-trips any tree, and a truncated one as its flame graph', () => {
    fc.assert(
      fc.property(stacksArbitrary, fc.integer({ min: 1, max: 30 }), (stacks, maxNodes) => {
        const original = treeOf(folded(stacks));
        const decoded = decodeTree(encodeTree(original, Number.POSITIVE_INFINITY));
        checkTree(decoded);
        expect(pathsOf(decoded)).toEqual(pathsOf(original));
        expect(decodeTree(encodeTree(original))).toEqual(decoded);

        const truncated = decodeTree(encodeTree(original, maxNodes));
        checkTree(truncated);
        expect(toFlameGraph(truncated, 1 << 20)).toEqual(toFlameGraph(original, maxNodes));
      }),
    );
  });
});

describe('toCollapsed', () => {
  it('writes one sorted line per node with a self value', () => {
    const tree = treeOf(['main;zeta 10', 'main 1', 'main;alpha;x 2', 'b 0', 'main;zeta 5']);
    expect(toCollapsed(tree)).toBe('main 1\nmain;alpha;x 2\nmain;zeta 15\n');
    expect(toCollapsed(buildFunctionTree([]))).toBe('');
  });

  it('round-trips through stackValuesFromFolded and buildFunctionTree', () => {
    fc.assert(
      fc.property(stacksArbitrary, (stacks) => {
        const collapsed = toCollapsed(treeOf(folded(stacks)));
        const again = toCollapsed(buildFunctionTree([stackValuesFromFolded(collapsed.split('\n'))]));
        expect(again).toBe(collapsed);
        const sum = collapsed
          .split('\n')
          .filter(Boolean)
          .reduce((acc, line) => acc + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
        expect(sum).toBe(stacks.reduce((acc, s) => acc + s.value, 0));
      }),
    );
  });
});

describe('toDot', () => {
  it('draws the call graph of the heaviest functions', () => {
    const tree = treeOf(['main;handler;encode 60', 'main;handler 20', 'main;gc 19', 'main;tiny 1']);
    const dot = toDot(tree, 3);
    expect(dot).toBe(toDot(tree, 3));
    const lines = dot.trim().split('\n');
    expect(lines[0]).toBe('digraph "call graph" {');
    expect(lines.at(-1)).toBe('}');
    expect(
      lines.filter((line) => /^N\d+ \[/.test(line)).map((line) => line.match(/label="([^"]*)"/)?.[1]),
    ).toEqual([
      'main\\n0 (0.00%)\\nof 100 (100.00%)',
      'handler\\n20 (20.00%)\\nof 80 (80.00%)',
      'encode\\n60 (60.00%)\\nof 60 (60.00%)',
    ]);
    expect(lines.filter((line) => line.includes('->')).map((line) => line.split(' [')[0])).toEqual([
      'N1 -> N2',
      'N2 -> N3',
    ]);
    expect(dot).toContain('N1 -> N2 [label=" 80" weight=81');
    expect(dot).toMatch(/Showing 3 of 5 functions/);
  });

  it('counts a repeated call once per stack and escapes names', () => {
    const dot = toDot(treeOf(['a;b;a;b 1', 'a;"q\\"\\x 1']));
    expect(dot).toContain('N1 -> N2 [label=" 1"');
    expect(dot).toContain('label="\\"q\\\\\\"\\\\x\\n1 (50.00%)\\nof 1 (50.00%)"');
  });

  it('leaves out functions under 0.5 % of the total', () => {
    const dot = toDot(treeOf(['big 1000', 'small 4']));
    expect(dot).toContain('big');
    expect(dot).not.toContain('small\\n');
  });
});
