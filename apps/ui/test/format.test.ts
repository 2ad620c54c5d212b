import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDurationNs,
  formatPercent,
  formatValue,
  humanProfileType,
  splitFrameName,
  timelineTitle,
  unitNoun,
} from '../src/format.js';

describe('unit formatting', () => {
  it('formats CPU time from nanoseconds', () => {
    expect(formatValue(54_060_000_000, 'nanoseconds')).toBe('54.06 s');
    expect(formatValue(650_000_000, 'nanoseconds')).toBe('650 ms');
    expect(formatDurationNs(1500)).toBe('1.5 µs');
    expect(formatDurationNs(90e9)).toBe('1.5 min');
    expect(formatDurationNs(7200e9)).toBe('2 h');
    expect(formatDurationNs(0)).toBe('0 s');
    expect(formatValue(2, 'seconds')).toBe('2 s');
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatValue(3 * 1024 * 1024, 'bytes')).toBe('3 MiB');
  });

  it('formats counts (objects, goroutines, samples)', () => {
    expect(formatCount(999)).toBe('999');
    expect(formatCount(70)).toBe('70');
    expect(formatCount(100)).toBe('100');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(10_000)).toBe('10 k');
    expect(formatDurationNs(500)).toBe('500 ns');
    expect(formatBytes(100)).toBe('100 B');
    expect(formatCount(12_400)).toBe('12.4 k');
    expect(formatValue(2_500_000, 'count')).toBe('2.5 M');
  });

  it('formats percentages of the whole', () => {
    expect(formatPercent(1, 3)).toBe('33.3%');
    expect(formatPercent(1, 200)).toBe('0.5%');
    expect(formatPercent(1, 1e6)).toBe('<0.01%');
    expect(formatPercent(0, 10)).toBe('0%');
    expect(formatPercent(1, 0)).toBe('0%');
  });

  it('names profile types for people', () => {
    expect(humanProfileType('process_cpu:cpu:nanoseconds:cpu:nanoseconds')).toBe('CPU');
    expect(humanProfileType('memory:alloc_space:bytes:space:bytes')).toBe('Allocated space');
    expect(humanProfileType('goroutine:goroutine:count:goroutine:count')).toBe('Goroutines');
    expect(humanProfileType('mutex:delay:nanoseconds:contentions:count')).toBe('Mutex wait');
    expect(humanProfileType('custom:some_thing:count::')).toBe('custom · some thing');
    expect(timelineTitle('process_cpu:cpu:nanoseconds:cpu:nanoseconds')).toBe('Total CPU time');
    expect(timelineTitle('memory:inuse_space:bytes:space:bytes')).toBe('Total in-use space');
    expect(unitNoun('memory:alloc_objects:count:space:bytes')).toBe('objects');
  });
});

describe('splitFrameName', () => {
  it('keeps the last path segment, or what follows the last dot, as the part that stays visible', () => {
    const cases: [string, [string, string]][] = [
      [
        'github.com/acme/shop/internal/cart.(*Cart).Add',
        ['github.com/acme/shop/internal/', 'cart.(*Cart).Add'],
      ],
      ['crypto/internal/fips140/sha256.blockGeneric', ['crypto/internal/fips140/', 'sha256.blockGeneric']],
      ['runtime.mallocgc', ['runtime.', 'mallocgc']],
      ['com.example.Foo.bar', ['com.example.Foo.', 'bar']],
      ['main', ['', 'main']],
      ['other', ['', 'other']],
      ['trailing/', ['', 'trailing/']],
      ['ends.with.', ['', 'ends.with.']],
      ['', ['', '']],
    ];
    for (const [name, parts] of cases) {
      expect(splitFrameName(name)).toEqual(parts);
      expect(parts.join('')).toBe(name);
    }
  });
});
