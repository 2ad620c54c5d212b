import { Line, Location, Function as PFunction, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { AdhocError, parseCollapsed, parsePprof } from '../src/adhoc.js';
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
