import { describe, expect, test } from 'vitest';
import { parseTime } from '../src/index.js';

const NOW_MS = 1_577_836_800_000; // 2020-01-01T00:00:00Z
const NOW = BigInt(NOW_MS) * 1_000_000n;
const S = 1_000_000_000n;
const MIN = 60n * S;
const H = 60n * MIN;
const D = 24n * H;

describe('parseTime', () => {
  test.each<[string | null, bigint]>([
    [null, NOW],
    ['', NOW],
    ['now', NOW],
    // Unix timestamps, unit by digit count
    ['1577836800', 1_577_836_800n * S],
    ['1577836800001', 1_577_836_800_001_000_000n],
    ['1577836800000001', 1_577_836_800_000_001_000n],
    ['1577836800000000001', 1_577_836_800_000_000_001n],
    ['1795702079', 1_795_702_079n * S],
    ['  1_577_836_800 ', 1_577_836_800n * S],
    ['1,577,836,800', 1_577_836_800n * S],
    ['1 577 836 800', 1_577_836_800n * S],
    ['0', 0n],
    ['123', 123n * S],
    ['157783680', 157_783_680n * S], // 9 digits: seconds
    // 11 or more digits other than 13, 16 and 19 are seconds too, beyond int64 nanoseconds: now
    ['15778368000', NOW],
    ['157783680000000', NOW],
    // YYYYMMDD, and 8 digits that are not a valid date after 1900 fall back to seconds
    ['20200101', 1_577_836_800n * S],
    ['20240229', BigInt(Date.UTC(2024, 1, 29)) * 1_000_000n],
    ['20230229', 20_230_229n * S],
    ['20201301', 20_201_301n * S],
    ['18991231', 18_991_231n * S],
    ['12345678', 12_345_678n * S],
    // relative to now, one unit matched by prefix
    ['now-1s', NOW - S],
    ['now+1s', NOW + S],
    ['now-30sec', NOW - 30n * S],
    ['now-5m', NOW - 5n * MIN],
    ['now-1min', NOW - MIN],
    ['now+30m', NOW + 30n * MIN],
    ['now-1h', NOW - H],
    ['now-1hour', NOW - H],
    ['now-1d', NOW - D],
    ['now-7d', NOW - 7n * D],
    ['now-1w', NOW - 7n * D],
    ['now-1M', NOW - 30n * D],
    ['now-1mon', NOW - 30n * D],
    ['now-2y', NOW - 730n * D],
    ['now-3h30m', NOW - 3n * H], // compound offsets are not supported
    ['now-1', NOW], // no unit: 0
    ['now-1x', NOW], // unknown unit: 0
    ['now-h', NOW],
    ['yesterday-1h', NOW - H], // the reference word is ignored
    ['-1h', NOW - H],
    ['now-1d+1h', NOW + H], // '+' is looked for first
    ['now - 1 h', NOW - H], // spaces are deleted
    // unparseable input means now
    ['garbage', NOW],
    ['2020-01-01T00:00:00Z', NOW - 0n], // splits at the first '-': offset "01" without a unit
    ['1e9', NOW],
    ['123456789012345678901234567890', NOW], // beyond int64 nanoseconds
  ])('%j', (input, expected) => {
    expect(parseTime(input, NOW_MS)).toBe(expected);
  });
});
