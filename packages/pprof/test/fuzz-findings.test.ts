// Found by the fuzz targets in test/fuzz (inputs kept in test/fuzz/regressions/pprof-decode/ and
// ingest-legacy/).
import { describe, expect, test } from 'vitest';
import { decodeProfile, encodeProfile } from '../src/index.js';
import { ProfileTag, SampleTag, ValueTypeTag } from '../src/schema.js';
import { WireWriter } from '../src/writer.js';

/** A profile with one sample type and one sample whose single value is the varint `value`. */
function profileWithValue(value: bigint): Uint8Array {
  const w = new WireWriter();
  const type = w.beginLength(ProfileTag.SampleType);
  w.varintField(ValueTypeTag.Type, 1);
  w.endLength(type);
  const sample = w.beginLength(ProfileTag.Sample);
  w.varint64Field(SampleTag.Value, Number(value & 0xffffffffn), Number(value >> 32n));
  w.endLength(sample);
  w.string(ProfileTag.StringTable, '');
  w.string(ProfileTag.StringTable, 'samples');
  return w.finish();
}

describe('int64 values near 2^63 keep their sign through decode and encode', () => {
  // An int64 of 2^63 - 1 decoded to the double 2^63, which the encoder wrote back as the bit pattern of
  // -2^63: a re-encoded profile (deltas, exports) turned the largest value into the smallest.
  test.each([2n ** 63n - 1n, 2n ** 63n - 512n, 2n ** 63n - 1024n])('%s', (value) => {
    const decoded = decodeProfile(profileWithValue(value));
    expect(decoded.values[0]).toBe(2 ** 63 - 1024);
    expect(decodeProfile(encodeProfile(decoded)).values[0]).toBe(2 ** 63 - 1024);
  });

  test('the most negative int64 and small values are unchanged', () => {
    expect(decodeProfile(profileWithValue(2n ** 64n - 2n ** 63n)).values[0]).toBe(-(2 ** 63));
    expect(decodeProfile(profileWithValue(2n ** 64n - 5n)).values[0]).toBe(-5);
    expect(decodeProfile(profileWithValue(2n ** 53n)).values[0]).toBe(2 ** 53);
  });
});

describe('WireWriter keeps a length-delimited body when writing its prefix grows the buffer', () => {
  // endLength rewinds to write the length prefix; when that write grew the buffer, only the bytes before
  // the prefix were copied, so a one-character string ending the buffer was stored as "\0" (found by
  // the ingest-legacy target: a text upload's converted pprof did not decode to the profile stored).
  test('a one-character string whose body starts 3 bytes before the end of the buffer', () => {
    const w = new WireWriter(8);
    for (let i = 0; i < 3; i++) w.varint(1);
    w.string(ProfileTag.StringTable, 'G');
    expect([...w.finish()]).toEqual([1, 1, 1, 0x32, 1, 0x47]);
  });

  test('every string survives whatever the buffer size when it is written', () => {
    for (let capacity = 1; capacity < 64; capacity++) {
      const w = new WireWriter(capacity);
      const strings = ['', 'a', 'bc', 'é', 'd', '', 'efghijk', 'x'];
      for (const s of strings) w.string(ProfileTag.StringTable, s);
      const bytes = w.finish();
      const decoded: string[] = [];
      for (let pos = 0; pos < bytes.length; ) {
        const length = bytes[pos + 1];
        decoded.push(Buffer.from(bytes.subarray(pos + 2, pos + 2 + length)).toString('utf8'));
        pos += 2 + length;
      }
      expect(decoded, `initial capacity ${capacity}`).toEqual(strings);
    }
  });
});
