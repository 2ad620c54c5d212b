import { describe, expect, it } from 'vitest';
import { buildTimeline, calcPointIntervalSec, flamebearerMetadata } from '../src/timeline.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('calcPointIntervalSec', () => {
  it('gives 15 s for 1 h and 60 s for 24 h, as the spec says', () => {
    const from = 1_700_000_000_000;
    expect(calcPointIntervalSec(from, from + HOUR)).toBe(15);
    expect(calcPointIntervalSec(from, from + DAY)).toBe(60);
  });

  it('never goes below 15 s', () => {
    expect(calcPointIntervalSec(0, 0)).toBe(15);
    expect(calcPointIntervalSec(0, 60_000)).toBe(15);
    // 6 h / 1500 = 14.4 s
    expect(calcPointIntervalSec(0, 6 * HOUR)).toBe(15);
  });

  it("rounds to the nearest nice interval by Grafana's table", () => {
    const rangeFor = (intervalMs: number) => intervalMs * 1500;
    expect(calcPointIntervalSec(0, rangeFor(17_500))).toBe(15);
    expect(calcPointIntervalSec(0, rangeFor(17_501))).toBe(20);
    expect(calcPointIntervalSec(0, rangeFor(25_000))).toBe(20);
    expect(calcPointIntervalSec(0, rangeFor(25_001))).toBe(30);
    expect(calcPointIntervalSec(0, rangeFor(45_001))).toBe(60);
    expect(calcPointIntervalSec(0, rangeFor(90_000))).toBe(60);
    expect(calcPointIntervalSec(0, rangeFor(90_001))).toBe(120);
    expect(calcPointIntervalSec(0, 7 * DAY)).toBe(300); // 403.2 s
    expect(calcPointIntervalSec(0, 30 * DAY)).toBe(1800); // 1728 s
    expect(calcPointIntervalSec(0, 365 * DAY)).toBe(21_600); // 5.84 h
    expect(calcPointIntervalSec(0, rangeFor(86_400_001))).toBe(86_400);
    expect(calcPointIntervalSec(0, rangeFor(604_800_001))).toBe(604_800);
    expect(calcPointIntervalSec(0, rangeFor(1_814_400_001))).toBe(2_592_000);
    expect(calcPointIntervalSec(0, rangeFor(3_628_800_000))).toBe(31_536_000);
  });
});

describe('buildTimeline', () => {
  const points = (entries: [number, number][]) => ({
    timestampsMs: Float64Array.from(entries.map(([t]) => t)),
    values: Float64Array.from(entries.map(([, v]) => v)),
  });

  it('snaps the range to the step and zero-fills the steps without points', () => {
    // from 1000 s + 7 s, until 1000 s + 67 s, step 15 s: snapped to 1005 s .. 1065 s, 4 steps.
    const timeline = buildTimeline(
      points([
        [1_020_000, 5],
        [1_050_000, 7],
      ]),
      1_007_000,
      1_067_000,
      15,
    );
    expect(timeline).toEqual({ startTime: 1005, samples: [0, 5, 0, 7], durationDelta: 15, watermarks: null });
  });

  it('drops points outside the range and adds up points of one step', () => {
    const timeline = buildTimeline(
      points([
        [995_000, 100],
        [1_000_000, 1],
        [1_009_999, 2],
        [1_020_000, 3.9],
        [1_030_000, 100],
      ]),
      1_000_000,
      1_030_000,
      10,
    );
    expect(timeline.samples).toEqual([3, 0, 3]);
  });

  it('is empty when the range is shorter than a step', () => {
    expect(buildTimeline(points([[1_000_000, 1]]), 1_000_000, 1_004_000, 15)).toEqual({
      startTime: 990,
      samples: [],
      durationDelta: 15,
      watermarks: null,
    });
    expect(() => buildTimeline(points([]), 0, 1, 0)).toThrow(RangeError);
  });

  it('has one sample per step of a 1 h query', () => {
    const from = 1_700_000_003_000;
    const step = calcPointIntervalSec(from, from + HOUR);
    const timeline = buildTimeline(points([]), from, from + HOUR, step);
    expect(timeline.startTime).toBe(1_699_999_995);
    expect(timeline.samples).toHaveLength(240);
  });
});

describe('flamebearerMetadata', () => {
  it("maps units and sample rates the way Pyroscope v1's ExportToFlamebearer does", () => {
    const cases: [string, number, string, string][] = [
      ['process_cpu:cpu:nanoseconds:cpu:nanoseconds', 1e9, 'samples', 'cpu'],
      ['process_cpu:samples:count:cpu:nanoseconds', 100, 'objects', 'samples'],
      ['memory:inuse_objects:count:space:bytes', 100, 'objects', 'inuse_objects'],
      ['memory:alloc_objects:count:space:bytes', 100, 'objects', 'alloc_objects'],
      ['memory:inuse_space:bytes:space:bytes', 100, 'bytes', 'inuse_space'],
      ['goroutines:goroutine:count:goroutine:count', 100, 'objects', 'goroutine'],
      ['mutex:delay:nanoseconds:contentions:count', 100, 'nanoseconds', 'delay'],
      ['wall:wall:nanoseconds:wall:nanoseconds', 100, 'nanoseconds', 'wall'],
    ];
    for (const [id, sampleRate, units, name] of cases) {
      expect(flamebearerMetadata(id), id).toEqual({ format: 'single', spyName: '', sampleRate, units, name });
    }
    expect(flamebearerMetadata('process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'double').format).toBe(
      'double',
    );
    expect(() => flamebearerMetadata('cpu')).toThrow(/invalid profile type/);
  });
});
