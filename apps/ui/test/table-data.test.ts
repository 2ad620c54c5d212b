import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFlamebearer, type FlameTree } from '../src/flamebearer.js';
import { type FunctionRow, functionTable, sortRows } from '../src/table-data.js';
import { randomFlamebearer } from './fixtures.js';

/** The straightforward depth-first aggregation the indexed one must equal. */
function referenceTable(tree: FlameTree, root: number): FunctionRow[] {
  const self = new Float64Array(tree.names.length);
  const total = new Float64Array(tree.names.length);
  const onPath = new Int32Array(tree.names.length);
  const seen = new Uint8Array(tree.names.length);
  const stack: number[] = [root];
  while (stack.length > 0) {
    const entry = stack.pop() as number;
    if (entry < 0) {
      onPath[tree.name[~entry]]--;
      continue;
    }
    const n = tree.name[entry];
    if (tree.level[entry] !== 0) {
      self[n] += tree.self[entry];
      if (onPath[n] === 0) total[n] += tree.total[entry];
      onPath[n]++;
      seen[n] = 1;
      stack.push(~entry);
    }
    for (let c = tree.childEnd[entry] - 1; c >= tree.firstChild[entry] && c >= 0; c--) stack.push(c);
  }
  const rows: FunctionRow[] = [];
  for (let n = 0; n < seen.length; n++) if (seen[n]) rows.push({ name: n, self: self[n], total: total[n] });
  return rows;
}

describe('functionTable', () => {
  it('equals the depth-first aggregation for every subtree of random trees', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 60 })
          .chain((size) =>
            fc.tuple(
              fc.array(fc.nat(1000), { minLength: size, maxLength: size }),
              fc.array(fc.nat(1000), { minLength: size, maxLength: size }),
              fc.array(fc.integer({ min: 1, max: 50 }), { minLength: size, maxLength: size }),
              fc.integer({ min: 1, max: 8 }),
            ),
          ),
        ([parents, names, selfs, nameCount]) => {
          const tree = decodeFlamebearer(randomFlamebearer(parents, names, selfs, nameCount));
          for (let root = 0; root < tree.count; root++)
            expect(functionTable(tree, root)).toEqual(referenceTable(tree, root));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sorts equal values by name, and names with duplicates like string comparison', () => {
    const names = ['total', 'b', 'a', 'c', 'a'];
    const rows = (): FunctionRow[] => [
      { name: 1, self: 1, total: 5 },
      { name: 2, self: 1, total: 5 },
      { name: 3, self: 2, total: 1 },
      { name: 4, self: 0, total: 2 },
    ];
    const order = (r: FunctionRow[]) => r.map((x) => x.name);
    expect(order(sortRows(rows(), names, 'self', true))).toEqual([3, 2, 1, 4]);
    expect(order(sortRows(rows(), names, 'total', false))).toEqual([3, 4, 2, 1]);
    expect(sortRows(rows(), names, 'name', false).map((x) => names[x.name])).toEqual(['a', 'a', 'b', 'c']);
    expect(sortRows(rows(), names, 'name', true).map((x) => names[x.name])).toEqual(['c', 'b', 'a', 'a']);
  });
});
