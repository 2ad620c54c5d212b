import fc from 'fast-check';
import type { Profile } from '../src/index.js';

/** int64 values as the codec holds them: small ones most often, anything within ±2^53 sometimes. */
const int64 = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.maxSafeInteger());
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const int64Big = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

/** Unique, non-zero ids: 1..n in order as Go and Node write them, or scattered as other writers may. */
function ids(count: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    fc.constant(Array.from({ length: count }, (_, i) => i + 1)),
    fc.uniqueArray(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), {
      minLength: count,
      maxLength: count,
    }),
  );
}

/** `count` rows of `row`, flattened, with the offsets column that delimits them. */
function ragged<T>(count: number, row: fc.Arbitrary<T[]>): fc.Arbitrary<{ items: T[]; starts: number[] }> {
  return fc.array(row, { minLength: count, maxLength: count }).map((rows) => {
    const starts = [0];
    for (const r of rows) starts.push(starts[starts.length - 1] + r.length);
    return { items: rows.flat(), starts };
  });
}

/** Random valid profiles covering every field, including 64-bit addresses and negative values. */
export const arbProfile: fc.Arbitrary<Profile> = fc
  .record({
    extraStrings: fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 12 }),
    typeCount: fc.integer({ min: 1, max: 4 }),
    functionCount: fc.nat(8),
    mappingCount: fc.nat(3),
    locationCount: fc.nat(10),
    sampleCount: fc.nat(12),
  })
  .chain(({ extraStrings, typeCount, functionCount, mappingCount, locationCount, sampleCount }) => {
    const strings = ['', ...extraStrings];
    const str = fc.nat(strings.length - 1);
    const strs = (n: number) => fc.array(str, { minLength: n, maxLength: n });
    const column = <T>(arb: fc.Arbitrary<T>, n: number) => fc.array(arb, { minLength: n, maxLength: n });
    const label = fc.oneof(
      fc.tuple(str, str, fc.constant(0), fc.constant(0)),
      fc.tuple(str, fc.constant(0), int64, str),
    );
    return fc.record({
      strings: fc.constant(strings),
      sampleTypes: strs(2 * typeCount),
      values: column(int64, sampleCount * typeCount),
      locs: ragged(
        sampleCount,
        fc.array(fc.nat(Math.max(locationCount - 1, 0)), { maxLength: locationCount ? 6 : 0 }),
      ),
      labels: ragged(sampleCount, fc.array(label, { maxLength: 3 })),
      mappingId: ids(mappingCount),
      mappingRanges: column(fc.tuple(uint64, uint64, uint64), mappingCount),
      mappingStrings: strs(2 * mappingCount),
      mappingFlags: column(fc.nat(15), mappingCount),
      locationId: ids(locationCount),
      locationMapping: column(fc.integer({ min: -1, max: mappingCount - 1 }), locationCount),
      locationAddress: column(uint64, locationCount),
      locationIsFolded: column(fc.nat(1), locationCount),
      lines: ragged(
        locationCount,
        fc.array(fc.tuple(fc.integer({ min: -1, max: functionCount - 1 }), int64, int64), { maxLength: 3 }),
      ),
      functionId: ids(functionCount),
      functionStrings: strs(3 * functionCount),
      functionStartLine: column(int64, functionCount),
      scalars: fc.record({
        dropFrames: str,
        keepFrames: str,
        timeNanos: int64Big,
        durationNanos: int64Big,
        periodType: fc.tuple(str, str),
        period: int64,
        comments: fc.array(str, { maxLength: 3 }),
        defaultSampleType: str,
      }),
    });
  })
  .map((g): Profile => {
    const every = <T>(rows: T[], stride: number, at: number) => rows.filter((_, i) => i % stride === at);
    return {
      strings: g.strings,
      sampleTypes: Uint32Array.from(g.sampleTypes),
      sampleCount: g.locs.starts.length - 1,
      values: Float64Array.from(g.values),
      sampleLocStart: Uint32Array.from(g.locs.starts),
      sampleLocs: Uint32Array.from(g.locs.items),
      sampleLabelStart: Uint32Array.from(g.labels.starts),
      labelKey: Uint32Array.from(g.labels.items, (l) => l[0]),
      labelStr: Uint32Array.from(g.labels.items, (l) => l[1]),
      labelNum: Float64Array.from(g.labels.items, (l) => l[2]),
      labelNumUnit: Uint32Array.from(g.labels.items, (l) => l[3]),
      mappingCount: g.mappingId.length,
      mappingId: Float64Array.from(g.mappingId),
      mappingStart: BigUint64Array.from(g.mappingRanges, (r) => r[0]),
      mappingLimit: BigUint64Array.from(g.mappingRanges, (r) => r[1]),
      mappingOffset: BigUint64Array.from(g.mappingRanges, (r) => r[2]),
      mappingFile: Uint32Array.from(every(g.mappingStrings, 2, 0)),
      mappingBuildId: Uint32Array.from(every(g.mappingStrings, 2, 1)),
      mappingFlags: Uint8Array.from(g.mappingFlags),
      locationCount: g.locationId.length,
      locationId: Float64Array.from(g.locationId),
      locationMapping: Int32Array.from(g.locationMapping),
      locationAddress: BigUint64Array.from(g.locationAddress),
      locationIsFolded: Uint8Array.from(g.locationIsFolded),
      locationLineStart: Uint32Array.from(g.lines.starts),
      lineFunction: Int32Array.from(g.lines.items, (l) => l[0]),
      lineNumber: Float64Array.from(g.lines.items, (l) => l[1]),
      lineColumn: Float64Array.from(g.lines.items, (l) => l[2]),
      functionCount: g.functionId.length,
      functionId: Float64Array.from(g.functionId),
      functionName: Uint32Array.from(every(g.functionStrings, 3, 0)),
      functionSystemName: Uint32Array.from(every(g.functionStrings, 3, 1)),
      functionFilename: Uint32Array.from(every(g.functionStrings, 3, 2)),
      functionStartLine: Float64Array.from(g.functionStartLine),
      ...g.scalars,
    };
  });
