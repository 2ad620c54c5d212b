import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCollapsed } from '../src/encodings.js';
import { buildFunctionTree, functionTable } from '../src/flamegraph.js';
import type { StackValues } from '../src/stacks.js';
import { stackValuesFromFolded } from '../src/testing.js';
import { filterCallSite, focusSubtree, invert, mergeTrees, sandwich } from '../src/tree-ops.js';
import { checkTree, folded, type Stack, stacksArbitrary, treeOf } from './tree-helpers.js';

/** Folded lines merged and sorted, as toCollapsed writes them. */
function collapsedOf(stacks: readonly Stack[]): string {
  const sums = new Map<string, number>();
  for (const { frames, value } of stacks)
    sums.set(frames.join(';'), (sums.get(frames.join(';')) ?? 0) + value);
  const lines = [...sums]
    .map(([path, value]) => `${path} ${value}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return lines.map((line) => `${line}\n`).join('');
}

const startsWith = (frames: readonly string[], prefix: readonly string[]) =>
  frames.length >= prefix.length && prefix.every((name, i) => frames[i] === name);

describe('focusSubtree', () => {
  const tree = treeOf(['a;b 1', 'a;c 2', 'a 3', 'd 4', 'a;c;e 5']);

  it('re-roots the tree at the node of a path', () => {
    const focused = focusSubtree(tree, ['a']);
    checkTree(focused);
    expect(focused.total[0]).toBe(11);
    expect(toCollapsed(focused)).toBe('a 3\na;b 1\na;c 2\na;c;e 5\n');
    expect(toCollapsed(focusSubtree(tree, ['a', 'c']))).toBe('c 2\nc;e 5\n');
  });

  it('gives the whole tree for an empty path and an empty tree for a missing one', () => {
    expect(toCollapsed(focusSubtree(tree, []))).toBe(toCollapsed(tree));
    expect(focusSubtree(tree, []).total[0]).toBe(15);
    for (const path of [['x'], ['a', 'd'], ['c'], ['a', 'c', 'e', 'f']]) {
      const empty = focusSubtree(tree, path);
      expect(empty.size).toBe(1);
      expect(empty.total[0]).toBe(0);
    }
  });

  it('keeps the stacks under the path, cut to start at its last function', () => {
    fc.assert(
      fc.property(
        stacksArbitrary,
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
        (stacks, path) => {
          const focused = focusSubtree(treeOf(folded(stacks)), path);
          checkTree(focused);
          const cut = path.length === 0 ? 0 : path.length - 1;
          const expected = stacks
            .filter((s) => startsWith(s.frames, path))
            .map((s) => ({ frames: s.frames.slice(cut), value: s.value }))
            .filter((s) => s.frames.length > 0);
          expect(toCollapsed(focused)).toBe(collapsedOf(expected));
          expect(focused.total[0]).toBe(expected.reduce((sum, s) => sum + s.value, 0));
        },
      ),
    );
  });
});

describe('sandwich', () => {
  it('splits the stacks through a function into callers and callees (speedscope example)', () => {
    const tree = treeOf(['b 1', 'a;b 1', 'a;b;c 1', 'a 2', 'a;b;d 1', 'd;b 1']);
    const { callers, callees } = sandwich(tree, 'b');
    checkTree(callers);
    checkTree(callees);
    expect(toCollapsed(callers)).toBe('b 1\nb;a 3\nb;d 1\n');
    expect(toCollapsed(callees)).toBe('b 3\nb;c 1\nb;d 1\n');
    expect(callers.total[0]).toBe(5);
    expect(callees.total[0]).toBe(5);
  });

  it('cuts recursive stacks at the outermost call', () => {
    const tree = treeOf(['a;b;a;b 1', 'a 2', 'c;a 4']);
    const { callers, callees } = sandwich(tree, 'a');
    expect(toCollapsed(callers)).toBe('a 3\na;c 4\n');
    expect(toCollapsed(callees)).toBe('a 6\na;b;a;b 1\n');
    expect(callers.total[0]).toBe(7);
    expect(callees.total[0]).toBe(7);
  });

  it('gives empty trees for a function that does not occur', () => {
    const { callers, callees } = sandwich(treeOf(['a;b 1']), 'zzz');
    expect([callers.size, callers.total[0], callees.size, callees.total[0]]).toEqual([1, 0, 1, 0]);
  });

  it("has root totals equal to the function's total, each stack counted once", () => {
    fc.assert(
      fc.property(stacksArbitrary, fc.constantFrom('a', 'b', 'c', 'f'), (stacks, fn) => {
        const tree = treeOf(folded(stacks));
        const { callers, callees } = sandwich(tree, fn);
        checkTree(callers);
        checkTree(callees);
        const expected = stacks.filter((s) => s.frames.includes(fn)).reduce((sum, s) => sum + s.value, 0);
        expect(callers.total[0]).toBe(expected);
        expect(callees.total[0]).toBe(expected);
        expect(functionTable(tree).find((row) => row.name === fn)?.total ?? 0).toBe(expected);
        if (expected > 0) {
          // One child under the root: the function itself.
          for (const half of [callers, callees]) {
            expect([...half.parent].filter((p) => p === 0)).toHaveLength(1);
            expect(half.names[half.name[1]]).toBe(fn);
            expect(half.total[1]).toBe(expected);
          }
        }
        // The callees are the stacks from the outermost call on; the callers the stacks up to it, reversed.
        const outermost = stacks
          .filter((s) => s.frames.includes(fn))
          .map((s) => ({ frames: s.frames, at: s.frames.indexOf(fn), value: s.value }));
        expect(toCollapsed(callees)).toBe(
          collapsedOf(outermost.map((s) => ({ frames: s.frames.slice(s.at), value: s.value }))),
        );
        expect(toCollapsed(callers)).toBe(
          collapsedOf(
            outermost.map((s) => ({ frames: s.frames.slice(0, s.at + 1).reverse(), value: s.value })),
          ),
        );
      }),
    );
  });
});

describe('invert', () => {
  it('turns stacks bottom-up', () => {
    const inverted = invert(treeOf(['a;b 1', 'a;c 2', 'a 3', 'd 4']));
    checkTree(inverted);
    expect(toCollapsed(inverted)).toBe('a 3\nb;a 1\nc;a 2\nd 4\n');
    expect(inverted.total[0]).toBe(10);
  });

  it('is its own inverse and keeps the total', () => {
    fc.assert(
      fc.property(stacksArbitrary, (stacks) => {
        const tree = treeOf(folded(stacks));
        const inverted = invert(tree);
        checkTree(inverted);
        expect(inverted.total[0]).toBe(tree.total[0]);
        expect(toCollapsed(inverted)).toBe(
          collapsedOf(stacks.map((s) => ({ frames: [...s.frames].reverse(), value: s.value }))),
        );
        expect(toCollapsed(invert(inverted))).toBe(toCollapsed(tree));
      }),
    );
  });
});

describe('mergeTrees', () => {
  it('adds up equal paths', () => {
    const merged = mergeTrees(treeOf(['a;b 1', 'c 2']), treeOf(['a;b 3', 'a 1']));
    checkTree(merged);
    expect(toCollapsed(merged)).toBe('a 1\na;b 4\nc 2\n');
    expect(merged.total[0]).toBe(7);
  });

  it('equals the tree of both sets of stacks', () => {
    fc.assert(
      fc.property(stacksArbitrary, stacksArbitrary, (a, b) => {
        const merged = mergeTrees(treeOf(folded(a)), treeOf(folded(b)));
        checkTree(merged);
        expect(toCollapsed(merged)).toBe(toCollapsed(treeOf(folded([...a, ...b]))));
        expect(merged.total[0]).toBe(treeOf(folded([...a, ...b])).total[0]);
      }),
    );
  });
});

describe('filterCallSite', () => {
  it('keeps the stacks under a root-first prefix and zeroes the others', () => {
    const part = stackValuesFromFolded(['a;b;c 1', 'a;b 2', 'a;x 4', 'b;a;b 8', 'a 16']);
    const [filtered] = filterCallSite([part], ['a', 'b']);
    expect(filtered.parent).toBe(part.parent);
    expect(toCollapsed(buildFunctionTree([filtered]))).toBe('a;b 2\na;b;c 1\n');
    expect(filterCallSite([part], [])[0]).toBe(part);
    expect(buildFunctionTree(filterCallSite([part], ['z'])).total[0]).toBe(0);
  });

  it('matches inlined frames one by one, outermost first', () => {
    // Location 1 is handler with helper inlined into it (innermost first).
    const part: StackValues = {
      names: ['main', 'handler', 'helper', 'encode'],
      locFrameStart: Uint32Array.of(0, 1, 3, 4),
      locFrameName: Uint32Array.of(0, 2, 1, 3),
      parent: Int32Array.of(-1, 0, 1, 0),
      location: Int32Array.of(0, 1, 2, 2),
      values: Float64Array.of(1, 2, 4, 8),
    };
    const totalOf = (callSite: string[]) => buildFunctionTree(filterCallSite([part], callSite)).total[0];
    expect(totalOf(['main'])).toBe(15);
    expect(totalOf(['main', 'handler'])).toBe(6);
    expect(totalOf(['main', 'handler', 'helper'])).toBe(6);
    expect(totalOf(['main', 'handler', 'helper', 'encode'])).toBe(4);
    expect(totalOf(['main', 'helper'])).toBe(0);
    expect(totalOf(['main', 'encode'])).toBe(8);
  });

  it('keeps exactly the stacks whose path starts with the call site, in every partition', () => {
    fc.assert(
      fc.property(
        stacksArbitrary,
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
        (stacks, partitions, callSite) => {
          const lines = Array.from({ length: partitions }, (): string[] => []);
          stacks.forEach((stack, i) => {
            lines[i % partitions].push(`${stack.frames.join(';')} ${stack.value}`);
          });
          const parts = lines.map(stackValuesFromFolded);
          const filtered = filterCallSite(parts, callSite);
          expect(filtered).toHaveLength(partitions);
          const kept = stacks.filter((s) => startsWith(s.frames, callSite));
          expect(toCollapsed(buildFunctionTree(filtered))).toBe(collapsedOf(kept));
        },
      ),
    );
  });
});
