import { Line, Location, Function as PFunction, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** A CPU profile built with pprof-format (independent of our codec) from folded-style stacks (root first). */
export function cpuProfile(
  stacks: Record<string, number>,
  timeNanos = BigInt(Date.now()) * 1_000_000n,
): Buffer {
  const st = new StringTable();
  const fns: PFunction[] = [];
  const locs: Location[] = [];
  const ids = new Map<string, number>();
  const loc = (name: string) => {
    let id = ids.get(name);
    if (id === undefined) {
      id = locs.length + 1;
      ids.set(name, id);
      fns.push(new PFunction({ id, name: st.dedup(name), filename: st.dedup(`${name}.go`) }));
      locs.push(new Location({ id, line: [new Line({ functionId: id, line: 1 })] }));
    }
    return id;
  };
  const samples = Object.entries(stacks).map(
    ([stack, n]) =>
      new Sample({ locationId: stack.split(';').reverse().map(loc), value: [n, n * 10_000_000] }),
  );
  const p = new Profile({
    sampleType: [
      new ValueType({ type: st.dedup('samples'), unit: st.dedup('count') }),
      new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locs,
    function: fns,
    stringTable: st,
    timeNanos,
    durationNanos: 10_000_000_000,
    periodType: new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
    period: 10_000_000,
  });
  return Buffer.from(p.encode());
}
