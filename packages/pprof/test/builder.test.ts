import { describe, expect, it } from 'vitest';
import { decodeProfile, encodeProfile, ProfileBuilder } from '../src/index.js';
import { invariantViolations, viewOfProfile } from './helpers.js';

describe('ProfileBuilder', () => {
  const build = () =>
    new ProfileBuilder({
      sampleTypes: [
        ['samples', 'count'],
        ['cpu', 'nanoseconds'],
      ],
      periodType: ['cpu', 'nanoseconds'],
      period: 10_000_000,
      timeNanos: 1_700_000_000_000_000_000n,
      durationNanos: 10_000_000_000n,
    })
      .addSample(['main', 'serve', 'encode'], [3, 30], { handler: 'api', region: 'eu' })
      .addSample(['main', 'gc'], [1, 10])
      .addSample([], [0, 0])
      .build();

  it('stores stacks leaf first, one location per distinct function', () => {
    const p = build();
    expect(invariantViolations(p)).toEqual([]);
    const frames = (s: number) =>
      Array.from(p.sampleLocs.subarray(p.sampleLocStart[s], p.sampleLocStart[s + 1]), (loc) => {
        const fn = p.lineFunction[p.locationLineStart[loc]];
        return p.strings[p.functionName[fn]];
      });
    expect(frames(0)).toEqual(['encode', 'serve', 'main']);
    expect(frames(1)).toEqual(['gc', 'main']);
    expect(frames(2)).toEqual([]);
    expect(p.functionCount).toBe(4);
    expect(p.locationCount).toBe(4);
    expect(Array.from(p.values)).toEqual([3, 30, 1, 10, 0, 0]);
  });

  it('interns strings and keeps labels, period and times', () => {
    const p = build();
    expect(p.strings.filter((s) => s === 'cpu')).toHaveLength(1);
    const labels = Array.from(p.labelKey, (key, i) => `${p.strings[key]}=${p.strings[p.labelStr[i]]}`);
    expect(labels).toEqual(['handler=api', 'region=eu']);
    expect(Array.from(p.sampleLabelStart)).toEqual([0, 2, 2, 2]);
    expect(p.periodType.map((i) => p.strings[i])).toEqual(['cpu', 'nanoseconds']);
    expect(p.period).toBe(10_000_000);
    expect(p.timeNanos).toBe(1_700_000_000_000_000_000n);
  });

  it('builds profiles that survive encoding', () => {
    const p = build();
    expect(viewOfProfile(decodeProfile(encodeProfile(p)))).toEqual(viewOfProfile(p));
  });

  it('refuses a wrong number of values or non-integer values', () => {
    const builder = new ProfileBuilder({ sampleTypes: [['samples', 'count']] });
    expect(() => builder.addSample(['main'], [1, 2])).toThrow('got 2 values, expected 1');
    expect(() => builder.addSample(['main'], [1.5])).toThrow('sample values must be integers');
    expect(() => new ProfileBuilder({ sampleTypes: [] })).toThrow(RangeError);
  });
});
