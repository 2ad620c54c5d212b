import { describe, expect, it } from 'vitest';
import {
  formatProfileTypeId,
  humanProfileTypeName,
  ProfileTypeError,
  parseProfileType,
  profileTypeLabels,
} from '../src/profile-type.js';

describe('parseProfileType', () => {
  it('splits the five parts', () => {
    expect(parseProfileType('memory:alloc_space:bytes:space:bytes')).toEqual({
      id: 'memory:alloc_space:bytes:space:bytes',
      name: 'memory',
      sampleType: 'alloc_space',
      sampleUnit: 'bytes',
      periodType: 'space',
      periodUnit: 'bytes',
    });
  });

  it('accepts empty period parts', () => {
    expect(parseProfileType('memory:malloc_bytes:bytes::')).toMatchObject({ periodType: '', periodUnit: '' });
  });

  it('tolerates a sixth part and drops it from the ID', () => {
    const type = parseProfileType('process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta');
    expect(type.id).toBe('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
    expect(type.periodUnit).toBe('nanoseconds');
  });

  it('rejects other shapes with a clear message', () => {
    expect(() => parseProfileType('process_cpu:cpu')).toThrow(
      'invalid profile type ID "process_cpu:cpu": expected <name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>, got 2 part(s)',
    );
    expect(() => parseProfileType('a:b:c:d:e:f:g')).toThrow(ProfileTypeError);
    expect(() => parseProfileType(':cpu:nanoseconds:cpu:nanoseconds')).toThrow(/empty name or sample type/);
  });

  it('formats back', () => {
    const id = 'goroutines:goroutine:count:goroutine:count';
    expect(formatProfileTypeId(parseProfileType(id))).toBe(id);
    expect(() =>
      formatProfileTypeId({ name: 'a:b', sampleType: 'c', sampleUnit: '', periodType: '', periodUnit: '' }),
    ).toThrow(ProfileTypeError);
  });
});

describe('profileTypeLabels', () => {
  it('gives the private labels sorted by name', () => {
    expect(profileTypeLabels(parseProfileType('process_cpu:cpu:nanoseconds:cpu:nanoseconds'))).toEqual([
      { name: '__period_type__', value: 'cpu' },
      { name: '__period_unit__', value: 'nanoseconds' },
      { name: '__profile_type__', value: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds' },
      { name: '__type__', value: 'cpu' },
      { name: '__unit__', value: 'nanoseconds' },
    ]);
  });

  it('leaves out empty values', () => {
    expect(profileTypeLabels(parseProfileType('memory:malloc_bytes:bytes::')).map((l) => l.name)).toEqual([
      '__profile_type__',
      '__type__',
      '__unit__',
    ]);
  });
});

describe('humanProfileTypeName', () => {
  const human = (id: string) => humanProfileTypeName(parseProfileType(id));

  it('names the Go profile types', () => {
    expect(human('process_cpu:cpu:nanoseconds:cpu:nanoseconds')).toBe('CPU');
    expect(human('memory:alloc_space:bytes:space:bytes')).toBe('Allocated space');
    expect(human('memory:inuse_objects:count:space:bytes')).toBe('In-use objects');
    expect(human('goroutines:goroutine:count:goroutine:count')).toBe('Goroutines');
    expect(human('mutex:delay:nanoseconds:contentions:count')).toBe('Mutex wait');
    expect(human('block:contentions:count:contentions:count')).toBe('Block contentions');
  });

  it('falls back to name and sample type', () => {
    expect(human('thread_lifetime:thread_lifetime_timeline:nanoseconds:cpu:nanoseconds')).toBe(
      'thread_lifetime - thread_lifetime_timeline',
    );
    expect(humanProfileTypeName({ name: 'x', sampleType: 'constructor' })).toBe('x - constructor');
  });
});
