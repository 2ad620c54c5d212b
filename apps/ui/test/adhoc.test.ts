import { Line, Location, Function as PFunction, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import {
  AdhocError,
  type AdhocProfile,
  adhocDiffTable,
  collapsedStacks,
  diffProfiles,
  parseCollapsed,
  parsePprof,
  stacksToFlamebearer,
} from '../src/adhoc.js';
import { decodeDiffFlamebearer } from '../src/diff.js';
import { decodeFlamebearer, pathOf } from '../src/flamebearer.js';
import { EXAMPLE } from './fixtures.js';

describe('ad-hoc files', () => {
  it('parses collapsed text into the same flamebearer as the server', () => {
    expect(parseCollapsed('foo;bar 2\nfoo;baz 1\n# comment\n\nfoo 1\nqux 3\n')).toEqual({
      ...EXAMPLE,
      names: ['total', 'foo', 'bar', 'baz', 'qux'],
    });
    expect(() => parseCollapsed('no count here')).toThrow(AdhocError);
  });

  it('decodes pprof (independent encoder: pprof-format), inlined frames expanded root first', () => {
    const st = new StringTable();
    const fn = (id: number, name: string) => new PFunction({ id, name: st.dedup(name) });
    const p = new Profile({
      sampleType: [
        new ValueType({ type: st.dedup('samples'), unit: st.dedup('count') }),
        new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
      ],
      function: [fn(1, 'main'), fn(2, 'work'), fn(3, 'inlined')],
      location: [
        new Location({ id: 1, line: [new Line({ functionId: 1 })] }),
        // work with `inlined` inlined into it: innermost first.
        new Location({ id: 2, line: [new Line({ functionId: 3 }), new Line({ functionId: 2 })] }),
      ],
      sample: [
        new Sample({ locationId: [2, 1], value: [3, 30_000_000] }),
        new Sample({ locationId: [1], value: [1, 10_000_000] }),
      ],
      stringTable: st,
      // Fields the decoder must skip: varints and a nested message after the samples.
      timeNanos: 1_700_000_000_000_000_000n,
      durationNanos: 10_000_000_000,
      periodType: new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
      period: 10_000_000,
    });
    const file = parsePprof(p.encode());
    expect(file.sampleTypes).toEqual([
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
    expect(file.flamebearer(1)).toEqual(parseCollapsed('main;work;inlined 30000000\nmain 10000000\n'));
  });
});

describe('ad-hoc diff of two files', () => {
  const collapsed = (text: string): AdhocProfile => ({
    type: 'samples',
    unit: 'count',
    stacks: collapsedStacks(text),
  });
  const baseline = collapsed('main;a;x 4\nmain;a 2\nmain;b 4\n');
  const comparison = collapsed('main;a;x 1\nmain;b 5\nmain;c 4\n');

  it('aligns both files: every call path on both sides, each with its own totals', () => {
    const d = diffProfiles(baseline, comparison);
    expect(d).toMatchObject({ leftTicks: 10, rightTicks: 10, unit: 'count' });
    const diff = decodeDiffFlamebearer(d.flamebearer, d.leftTicks, d.rightTicks);
    const byPath: Record<string, [number, number]> = {};
    for (let i = 0; i < diff.tree.count; i++)
      byPath[pathOf(diff.tree, i).join(';') || 'total'] = [diff.left[i], diff.right[i]];
    expect(byPath).toEqual({
      total: [10, 10],
      main: [10, 10],
      'main;a': [6, 1],
      'main;a;x': [4, 1],
      'main;b': [4, 5],
      'main;c': [0, 4],
    });
    // A node is as wide as both sides together.
    const x = diff.tree.name.indexOf(diff.tree.names.indexOf('x'));
    expect([diff.tree.total[x], diff.tree.self[x]]).toEqual([5, 5]);
    expect(d.flamebearer.maxSelf).toBe(5);
  });

  it('computes the diff table as the server does: shares of each side, biggest change first', () => {
    const left = decodeFlamebearer(stacksToFlamebearer(baseline.stacks));
    const right = decodeFlamebearer(stacksToFlamebearer(comparison.stacks));
    const t = adhocDiffTable(left, right, false);
    expect(t).toMatchObject({ leftTicks: 10, rightTicks: 10, normalized: true, count: 5 });
    expect(t.rows.map((r) => [r.name, r.baselineTotal, r.comparisonTotal, +r.change.toFixed(6)])).toEqual([
      ['a', 6, 1, -0.5],
      ['c', 0, 4, 0.4],
      ['x', 4, 1, -0.3],
      ['b', 4, 5, 0.1],
      ['main', 10, 10, 0],
    ]);
    expect(t.rows.find((r) => r.name === 'c')?.relativeChange).toBeNull();
    expect(t.rows.find((r) => r.name === 'b')?.relativeChange).toBeCloseTo(0.25);
    expect(adhocDiffTable(left, right, true).rows[0]).toMatchObject({
      name: 'a',
      change: -5,
      baselineSelf: 2,
    });
  });

  it('compares durations in nanoseconds and refuses files in different units', () => {
    const ms: AdhocProfile = { type: 'time', unit: 'milliseconds', stacks: [[['f'], 2]] };
    const ns: AdhocProfile = { type: 'cpu', unit: 'nanoseconds', stacks: [[['f'], 3_000_000]] };
    expect(diffProfiles(ms, ns)).toMatchObject({
      leftTicks: 2_000_000,
      rightTicks: 3_000_000,
      unit: 'nanoseconds',
    });
    expect(() => diffProfiles(baseline, ns)).toThrow(AdhocError);
    expect(() => diffProfiles(baseline, ns)).toThrow(
      'cannot compare files in different units: the baseline is in count (samples), the comparison in nanoseconds (cpu)',
    );
  });
});
