import { Profile as PprofFormatProfile } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { decodeProfile, isGzip, type Profile } from '../src/index.js';
import { LocationTag, ProfileTag, SampleTag, ValueTypeTag, WireType } from '../src/schema.js';
import { WireWriter } from '../src/writer.js';
import {
  expectSameProfile,
  fixtureNames,
  invariantViolations,
  readFixture,
  readFixtureRaw,
  viewOfPprofFormat,
  viewOfProfile,
} from './helpers.js';

describe('decodeProfile on real profiles, against pprof-format', () => {
  it('has the Go and Node fixtures', () => {
    expect(fixtureNames).toEqual(
      expect.arrayContaining([
        'go-allocs.pb.gz',
        'go-block.pb.gz',
        'go-cpu.pb.gz',
        'go-goroutine.pb.gz',
        'go-mutex.pb.gz',
        'nodejs-0.6.4-heap.pb.gz',
        'nodejs-0.6.4-wall-cpu.pb.gz',
      ]),
    );
  });

  it.each(fixtureNames)('%s: every field agrees', (name) => {
    const ours = decodeProfile(readFixture(name));
    const theirs = PprofFormatProfile.decode(readFixtureRaw(name));
    expect(invariantViolations(ours)).toEqual([]);
    const view = viewOfProfile(ours);
    const expected = viewOfPprofFormat(theirs);
    // Compared part by part so a mismatch names the table it is in.
    expect(view.strings).toEqual(expected.strings);
    expect(view.header).toEqual(expected.header);
    expect(view.sampleTypes).toEqual(expected.sampleTypes);
    expect(view.functions).toEqual(expected.functions);
    expect(view.mappings).toEqual(expected.mappings);
    expect(view.locations).toEqual(expected.locations);
    expect(view.samples).toEqual(expected.samples);
  });

  it('decodes gzipped and raw bytes alike', () => {
    const gzipped = readFixture('go-cpu.pb.gz');
    expect(isGzip(gzipped)).toBe(true);
    expectSameProfile(decodeProfile(gzipped), decodeProfile(readFixtureRaw('go-cpu.pb.gz')));
  });

  it('decodes a view into a larger buffer (non-zero byteOffset)', () => {
    const raw = readFixtureRaw('nodejs-0.6.4-wall-cpu.pb.gz');
    const padded = new Uint8Array(raw.length + 16);
    padded.set(raw, 7);
    expectSameProfile(decodeProfile(padded.subarray(7, 7 + raw.length)), decodeProfile(raw));
  });

  it('keeps labels, numeric labels and mapping fields of the Go CPU profile', () => {
    const p = decodeProfile(readFixture('go-cpu.pb.gz'));
    const labelKeys = new Set(Array.from(p.labelKey, (k) => p.strings[k]));
    expect(labelKeys).toEqual(new Set(['worker', 'kind']));
    expect(p.mappingCount).toBeGreaterThan(0);
    expect(p.strings[p.periodType[0]]).toBe('cpu');
    expect(p.durationNanos).toBeGreaterThan(0n);
  });
});

/** A minimal valid profile written field by field, so tests can vary the wire form. */
function handWritten(writeSample: (w: WireWriter) => void, extra?: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  const sampleType = w.beginLength(ProfileTag.SampleType);
  w.varintField(ValueTypeTag.Type, 1);
  w.varintField(ValueTypeTag.Unit, 2);
  w.endLength(sampleType);
  const sample = w.beginLength(ProfileTag.Sample);
  writeSample(w);
  w.endLength(sample);
  for (const id of [1, 2]) {
    const location = w.beginLength(ProfileTag.Location);
    w.varintField(LocationTag.Id, id);
    w.endLength(location);
  }
  extra?.(w);
  for (const s of ['', 'samples', 'count']) w.string(ProfileTag.StringTable, s);
  return w.finish();
}

describe('decodeProfile wire forms', () => {
  const sampleOf = (p: Profile) => viewOfProfile(p).samples[0];

  it('reads packed and unpacked repeated scalars alike', () => {
    const packed = handWritten((w) => {
      w.packed(SampleTag.LocationIdPacked, [1, 2]);
      w.packed(SampleTag.ValuePacked, [-5]);
    });
    const unpacked = handWritten((w) => {
      w.varintField(SampleTag.LocationId, 1);
      w.varintField(SampleTag.LocationId, 2);
      w.varint(SampleTag.Value);
      w.varint(-5);
    });
    const mixed = handWritten((w) => {
      w.varintField(SampleTag.LocationId, 1);
      w.packed(SampleTag.LocationIdPacked, [2]);
      w.varint(SampleTag.Value);
      w.varint(-5);
    });
    expect(sampleOf(decodeProfile(packed))).toBe('1,2|-5|');
    expect(decodeProfile(unpacked)).toEqual(decodeProfile(packed));
    expect(decodeProfile(mixed)).toEqual(decodeProfile(packed));
  });

  it('skips unknown fields of every wire type, at the top level and inside messages', () => {
    const unknownFields = (w: WireWriter, field: number) => {
      w.varintField((field << 3) | WireType.Varint, 300);
      w.varint((field << 3) | WireType.Fixed64);
      for (let i = 0; i < 8; i++) w.varint(0x7f);
      w.string((field << 3) | WireType.Len, 'ignored');
      w.varint((field << 3) | WireType.Fixed32);
      for (let i = 0; i < 4; i++) w.varint(0x7f);
      // A group holding a nested group and a varint.
      w.varint(((field + 1) << 3) | WireType.StartGroup);
      w.varint(((field + 2) << 3) | WireType.StartGroup);
      w.varintField(((field + 3) << 3) | WireType.Varint, 1);
      w.varint(((field + 2) << 3) | WireType.EndGroup);
      w.varint(((field + 1) << 3) | WireType.EndGroup);
    };
    const plain = handWritten((w) => {
      w.packed(SampleTag.LocationIdPacked, [1, 2]);
      w.packed(SampleTag.ValuePacked, [7]);
    });
    const extended = handWritten(
      (w) => {
        unknownFields(w, 4);
        w.packed(SampleTag.LocationIdPacked, [1, 2]);
        unknownFields(w, 100);
        w.packed(SampleTag.ValuePacked, [7]);
      },
      (w) => unknownFields(w, 15), // 15 is doc_url in newer profile.proto, unknown here
    );
    expect(decodeProfile(extended)).toEqual(decodeProfile(plain));
  });
});
