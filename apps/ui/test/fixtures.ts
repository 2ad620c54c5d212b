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
