import type { Flamebearer } from '../src/flamebearer.js';

/** The worked example of pyroscope-api.md §3.4: `foo;bar 2`, `foo;baz 1`, `foo 1`, `qux 3`. */
export const EXAMPLE: Flamebearer = {
  names: ['total', 'foo', 'bar', 'baz', 'qux'],
  levels: [
    [0, 7, 0, 0],
    [0, 4, 1, 1, 0, 3, 3, 4],
    [1, 2, 2, 2, 0, 1, 1, 3],
  ],
  numTicks: 7,
  maxSelf: 3,
};

/** A random call tree as flamebearer levels; few names, so recursion (a name repeated on a path) is common. */
export function randomFlamebearer(
  parents: number[],
  names: number[],
  selfs: number[],
  nameCount: number,
): Flamebearer {
  const n = parents.length + 1;
  const kids: number[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < parents.length; k++) kids[parents[k] % (k + 1)].push(k + 1);
  const name = [0, ...names.map((x) => 1 + (x % nameCount))];
  const self = [0, ...selfs];
  const total = [...self];
  for (let i = n - 1; i > 0; i--) total[parents[i - 1] % i] += total[i];
  const levels: number[][] = [];
  let frontier = [{ i: 0, x: 0 }];
  while (frontier.length > 0) {
    const row: number[] = [];
    const next: Array<{ i: number; x: number }> = [];
    let prevEnd = 0;
    for (const { i, x } of frontier) {
      row.push(x - prevEnd, total[i], self[i], name[i]);
      prevEnd = x + total[i];
      let cx = x + self[i];
      for (const c of kids[i]) {
        next.push({ i: c, x: cx });
        cx += total[c];
      }
    }
    levels.push(row);
    frontier = next;
  }
  const fnNames = ['total', ...Array.from({ length: nameCount }, (_, k) => `fn${k % 5}`)];
  return { names: fnNames, levels, numTicks: total[0], maxSelf: Math.max(...self) };
}
