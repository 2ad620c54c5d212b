import { once } from 'node:events';
import { createGzip, gzipSync, constants as zlibConstants } from 'node:zlib';
import fc from 'fast-check';
import { Profile as PprofFormatProfile } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { decodeProfile, PprofError, type PprofErrorReason, type Profile } from '../src/index.js';
import { WireReader } from '../src/reader.js';
import { ProfileTag } from '../src/schema.js';
import { WireWriter } from '../src/writer.js';
import { invariantViolations, readFixtureRaw } from './helpers.js';

/** Decodes and returns the PprofError thrown; fails the test if decoding succeeds or throws anything else. */
function refusal(bytes: Uint8Array, opts?: Parameters<typeof decodeProfile>[1]): PprofError {
  try {
    decodeProfile(bytes, opts);
  } catch (error) {
    if (error instanceof PprofError) return error;
    throw error;
  }
  throw new Error('decodeProfile accepted bad input');
}

function expectRefused(bytes: Uint8Array, reason: PprofErrorReason, message: string | RegExp): void {
  const error = refusal(bytes);
  expect(error.reason).toBe(reason);
  expect(error.message).toMatch(message);
}

/** Either a sound profile or a PprofError: the only outcomes allowed for arbitrary input. */
function decodeOrRefuse(bytes: Uint8Array): Profile | PprofError {
  try {
    const profile = decodeProfile(bytes);
    expect(invariantViolations(profile)).toEqual([]);
    return profile;
  } catch (error) {
    if (error instanceof PprofError) return error;
    throw error;
  }
}

/** A small valid profile built with pprof-format, which writes whatever ids and indexes it is given. */
function pprofFormatProfile(edit: (p: PprofFormatProfile) => void = () => {}): Uint8Array {
  const p = new PprofFormatProfile({
    sampleType: [
      { type: 1, unit: 2 },
      { type: 3, unit: 4 },
    ],
    sample: [
      { locationId: [1, 2], value: [1, 10] },
      { locationId: [2], value: [2, 20], label: [{ key: 5, str: 6 }] },
    ],
    mapping: [{ id: 1, memoryStart: 0x400000, memoryLimit: 0x500000, filename: 7 }],
    location: [
      { id: 1, mappingId: 1, address: 0x401000, line: [{ functionId: 1, line: 12 }] },
      { id: 2, mappingId: 1, address: 0x402000, line: [{ functionId: 2, line: 34 }] },
    ],
    function: [
      { id: 1, name: 8, systemName: 8 },
      { id: 2, name: 9, systemName: 9 },
    ],
  });
  for (const s of ['samples', 'count', 'cpu', 'nanoseconds', 'handler', 'api', '/bin/app', 'main', 'work']) {
    p.stringTable.dedup(s);
  }
  edit(p);
  return p.encode();
}

/** Offsets at which a top-level field ends: a prefix cut there is a shorter but well-formed message. */
function fieldBoundaries(bytes: Uint8Array): Set<number> {
  const r = new WireReader(bytes);
  const boundaries = new Set([0]);
  while (r.pos < r.end) {
    r.skip(r.tag());
    boundaries.add(r.pos);
  }
  return boundaries;
}

describe('decodeProfile refuses bad input with a PprofError', () => {
  it('accepts the unedited test profile', () => {
    expect(decodeProfile(pprofFormatProfile()).sampleCount).toBe(2);
  });

  it.each(['go-goroutine.pb.gz', 'nodejs-0.6.4-heap.pb.gz', 'nodejs-0.6.4-wall-cpu.pb.gz'])(
    '%s truncated at every byte offset',
    (name) => {
      const raw = readFixtureRaw(name);
      const boundaries = fieldBoundaries(raw);
      for (let length = 0; length < raw.length; length++) {
        const outcome = decodeOrRefuse(raw.subarray(0, length));
        // A cut inside a field must be reported as such; a cut between fields leaves a shorter message,
        // which may be valid (Node writes time and period after the string table) or refused for what it lacks.
        if (!boundaries.has(length)) {
          expect(outcome, `prefix of ${length} bytes`).toBeInstanceOf(PprofError);
          expect((outcome as PprofError).reason, `prefix of ${length} bytes`).toBe('truncated');
        }
      }
    },
  );

  it('refuses empty input and a truncated gzip stream', () => {
    expectRefused(new Uint8Array(0), 'truncated', 'input is empty');
    const gzipped = gzipSync(pprofFormatProfile());
    expectRefused(gzipped.subarray(0, gzipped.length - 10), 'bad_gzip', /^gzip: /);
  });

  it('refuses varints longer than 10 bytes, with their offset', () => {
    const valid = pprofFormatProfile();
    const bytes = new Uint8Array([...valid, 0x48 /* time_nanos, varint */, ...Array(10).fill(0xff), 0x01]);
    expectRefused(bytes, 'bad_varint', `varint longer than 10 bytes at offset ${valid.length + 1}`);
  });

  it('refuses a length that runs past the end of its message', () => {
    const valid = pprofFormatProfile();
    const bytes = new Uint8Array([...valid, 0x32 /* string_table */, 0x05, 0x61]);
    expectRefused(
      bytes,
      'truncated',
      `length 5 at offset ${valid.length + 1} runs past the end of its message (1 bytes left)`,
    );
  });

  it('refuses wire types 6 and 7, stray end-groups, field 0 and known fields with the wrong wire type', () => {
    const valid = pprofFormatProfile();
    const withTrailer = (...trailer: number[]) => new Uint8Array([...valid, ...trailer]);
    // Field 15 is not part of the schema this decoder knows, so only its wire type can be wrong.
    expectRefused(
      withTrailer((15 << 3) | 6),
      'bad_wire_type',
      `unexpected wire type 6 at offset ${valid.length}`,
    );
    expectRefused(withTrailer((15 << 3) | 7), 'bad_wire_type', /wire type 7/);
    expectRefused(withTrailer((15 << 3) | 4), 'bad_wire_type', /wire type 4/);
    expectRefused(
      withTrailer(0x00, 0x00),
      'bad_wire_type',
      `invalid field number 0 at offset ${valid.length}`,
    );
    expectRefused(
      withTrailer((9 << 3) | 5, 1, 2, 3, 4),
      'bad_wire_type',
      `Profile field 9 has wire type 5 at offset ${valid.length}`,
    );
    expectRefused(
      withTrailer((15 << 3) | 3, (13 << 3) | 4),
      'bad_wire_type',
      `end of group 13 does not match its start at offset ${valid.length + 1}`,
    );
  });

  it('refuses a string table without "" first', () => {
    const w = new WireWriter();
    const sampleType = w.beginLength(ProfileTag.SampleType);
    w.endLength(sampleType);
    w.string(ProfileTag.StringTable, 'x');
    expectRefused(w.finish(), 'string_table', 'string_table[0] must be empty, found "x"');
    const noStrings = new WireWriter();
    noStrings.endLength(noStrings.beginLength(ProfileTag.SampleType));
    expectRefused(noStrings.finish(), 'string_table', /string_table is empty/);
  });

  it('refuses a profile without sample types', () => {
    expectRefused(
      pprofFormatProfile((p) => {
        p.sampleType = [];
        p.sample = [];
      }),
      'empty_sample_types',
      'profile has no sample_type',
    );
  });

  it('refuses string indexes out of range, naming the field', () => {
    expectRefused(
      pprofFormatProfile((p) => {
        p.function[1].name = 900;
      }),
      'string_index',
      'function 1: name string index 900 out of range (10 strings)',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.sample[1].label[0].str = 10;
      }),
      'string_index',
      'sample 1: label str string index 10 out of range (10 strings)',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.sampleType[0].unit = -1;
      }),
      'string_index',
      'sample_type 0: unit string index -1 out of range (10 strings)',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.defaultSampleType = 2 ** 40;
      }),
      'string_index',
      `profile: default_sample_type string index ${2 ** 40} out of range (10 strings)`,
    );
  });

  it('refuses undefined, zero and duplicate ids', () => {
    expectRefused(
      pprofFormatProfile((p) => {
        p.sample[1].locationId = [2, 99];
      }),
      'unknown_location',
      'sample 1: location id 99 is not defined',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.sample[0].locationId = [2n ** 64n - 1n];
      }),
      'unknown_location',
      `sample 0: location id ${2 ** 64} is not defined`,
    );
    // Found by the fuzzer: ids near 2^64 all decoded to 2^64, so the profile passed and re-encoding it threw.
    expectRefused(
      pprofFormatProfile((p) => {
        p.function[1].id = 2n ** 64n - 1n;
        p.location[1].line[0].functionId = 2n ** 64n - 1n;
      }),
      'large_id',
      `function 1 has id ${2 ** 64}, above 2^53 - 1: ids that large cannot be told apart`,
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.location[1].line[0].functionId = 7;
      }),
      'unknown_function',
      'location 1 line 0: function id 7 is not defined',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.location[0].mappingId = 3;
      }),
      'unknown_mapping',
      'location 0: mapping id 3 is not defined',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.function[0].id = 0;
      }),
      'zero_id',
      'function 0 has id 0, which is reserved for "none"',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.location[1].id = 1;
      }),
      'duplicate_id',
      'location 1 has id 1, already used by location 0',
    );
  });

  it('refuses samples without one value per sample type', () => {
    expectRefused(
      pprofFormatProfile((p) => {
        p.sample[1].value = [5];
      }),
      'value_count',
      'sample 1 has 1 values, expected 2 (one per sample type)',
    );
    expectRefused(
      pprofFormatProfile((p) => {
        p.sample[0].value = [1, 2, 3];
      }),
      'value_count',
      'sample 0 has 3 values, expected 2 (one per sample type)',
    );
  });

  it('refuses counts that would need an absurd allocation without allocating', () => {
    // 100k empty sample types and 100k empty samples: 400 KB claiming 10^10 values.
    const w = new WireWriter();
    for (let i = 0; i < 100_000; i++) w.endLength(w.beginLength(ProfileTag.SampleType));
    for (let i = 0; i < 100_000; i++) w.endLength(w.beginLength(ProfileTag.Sample));
    w.string(ProfileTag.StringTable, '');
    expectRefused(w.finish(), 'value_count', 'sample 0 has 0 values, expected 100000 (one per sample type)');
  });

  it('refuses a gzip bomb while inflating it (1 GiB of zeros, default limit)', async () => {
    // 64 gzip members of 16 MiB of zeros each: a valid 1 GiB stream, built without holding 1 GiB.
    const gzip = createGzip({ level: zlibConstants.Z_BEST_COMPRESSION });
    const chunks: Buffer[] = [];
    gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
    const zeros = Buffer.alloc(16 * 1024 * 1024);
    gzip.end(zeros);
    await once(gzip, 'end');
    const member = Buffer.concat(chunks);
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const error = refusal(bomb);
    expect(error.reason).toBe('too_large');
    expect(error.message).toBe(`gzipped profile decompresses to more than ${256 * 1024 * 1024} bytes`);
    expect(refusal(member, { maxDecompressedBytes: 1024 * 1024 }).reason).toBe('too_large');
  });

  it('only ever returns a sound profile or throws PprofError for random mutations of real profiles', () => {
    const raw = ['go-goroutine.pb.gz', 'nodejs-0.6.4-heap.pb.gz'].map(readFixtureRaw);
    // Mutating the gzipped form exercises the gzip checks; mutating the raw form, the decoder's.
    const seeds = [...raw, gzipSync(raw[0])];
    const mutation = fc.record({
      kind: fc.constantFrom('set', 'insert', 'delete'),
      at: fc.nat(),
      byte: fc.nat(255),
    });
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (seed, mutations) => {
          const bytes = [...seeds[seed]];
          for (const { kind, at, byte } of mutations) {
            const i = at % (bytes.length + 1);
            if (kind === 'set') bytes[i] = byte;
            else if (kind === 'insert') bytes.splice(i, 0, byte);
            else bytes.splice(i, 1);
          }
          decodeOrRefuse(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });
});
