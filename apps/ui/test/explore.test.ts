import { describe, expect, it } from 'vitest';
import { exploreStats } from '../src/explore.js';

describe('tag explorer statistics', () => {
  it('aligns series, keeps the top values and folds the rest into "other"', () => {
    const { timestampsMs, rows } = exploreStats(
      [
        { value: 'eu', timestampsMs: [0, 10], values: [4, 6] },
        { value: 'us', timestampsMs: [10, 20], values: [2, 2] },
        { value: 'ap', timestampsMs: [0], values: [1] },
      ],
      2,
    );
    expect(timestampsMs).toEqual([0, 10, 20]);
    expect(rows.map((r) => [r.value, r.total, r.points])).toEqual([
      ['eu', 10, [4, 6, 0]],
      ['us', 4, [0, 2, 2]],
      ['other', 1, [1, 0, 0]],
    ]);
    expect(rows[0].average).toBeCloseTo(10 / 3);
    expect(rows[1].stddev).toBeCloseTo(Math.sqrt(((4 / 3) ** 2 + 2 * (2 / 3) ** 2) / 3));
  });
});
