import type { IngestedProfile } from '@emberscope/ingest';
import { type Profile, profileOf } from '@emberscope/pprof';

/*
 * Decoded uploads crossing from a decoder thread to the event loop. Structured cloning is slow for
 * exactly what a decoded profile is made of: ~10 µs per typed array and ~0.35 µs per string, 0.65 ms
 * for a typical Go profile, more than half the cost of decoding it. So every typed array of a batch of
 * profiles is copied into one transferred ArrayBuffer, and every string table into one joined string
 * (plus lengths); the receiving side only makes views and slices.
 */

type TypedArray = Uint8Array | Int32Array | Uint32Array | Float64Array | BigUint64Array;

const ARRAY_TYPES = {
  Uint8Array,
  Int32Array,
  Uint32Array,
  Float64Array,
  BigUint64Array,
} as const;
type ArrayTypeName = keyof typeof ARRAY_TYPES;

/** Where one typed array of a profile lives in the packed buffer. */
type View = [field: string, type: ArrayTypeName, byteOffset: number, length: number];

/**
 * A profile with what the decoder thread prepared for the event loop: its WAL record (see
 * `AppendRequest.walRecord`), which ends with its payload, and its strings' hashes (`AppendRequest.stringHashes`).
 */
export type WalFramedProfile = IngestedProfile & { walRecord?: Uint8Array; stringHashes?: Int32Array };

interface PackedProfile {
  /** The profile's other fields and the IngestedProfile's own, cloned as they are. */
  rest: Omit<WalFramedProfile, 'profile' | 'payload' | 'walRecord' | 'stringHashes'> & {
    profile: Partial<Profile>;
  };
  views: View[];
  stringCount: number;
  /** Set when the payload is not sent on its own but as the tail of the WAL record. */
  payloadLength?: number;
}

export interface PackedProfiles {
  buffer: ArrayBuffer;
  /** Every profile's strings, concatenated; `stringLengths` (in the buffer) cuts them apart. */
  text: string;
  profiles: PackedProfile[];
}

const PAYLOAD = 'payload';
const WAL_RECORD = 'walRecord';
const STRING_LENGTHS = 'stringLengths';
const STRING_HASHES = 'stringHashes';

/** Packs profiles for `postMessage(packed, [packed.buffer])`. */
export function packProfiles(profiles: readonly WalFramedProfile[]): PackedProfiles {
  const arrays: [PackedProfile, string, TypedArray][] = [];
  const texts: string[] = [];
  const packed: PackedProfile[] = profiles.map((p) => {
    const { profile, payload, walRecord, stringHashes, ...own } = p;
    const rest: Record<string, unknown> = {};
    const entry: PackedProfile = { rest: { ...own, profile: rest }, views: [], stringCount: 0 };
    for (const [field, value] of Object.entries(profile)) {
      if (ArrayBuffer.isView(value)) arrays.push([entry, field, value as TypedArray]);
      else if (field !== 'strings') rest[field] = value;
    }
    if (walRecord) {
      arrays.push([entry, WAL_RECORD, walRecord]);
      entry.payloadLength = payload.length;
    } else arrays.push([entry, PAYLOAD, payload]);
    if (stringHashes) arrays.push([entry, STRING_HASHES, stringHashes]);
    const lengths = new Uint32Array(profile.strings.length);
    for (let i = 0; i < lengths.length; i++) lengths[i] = profile.strings[i].length;
    arrays.push([entry, STRING_LENGTHS, lengths]);
    entry.stringCount = profile.strings.length;
    texts.push(profile.strings.join(''));
    return entry;
  });
  let size = 0;
  for (const [, , a] of arrays) size += align8(a.byteLength);
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  let offset = 0;
  for (const [entry, field, a] of arrays) {
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    entry.views.push([field, typeName(a), offset, a.length]);
    offset += align8(a.byteLength);
  }
  return { buffer, text: texts.join(''), profiles: packed };
}

/** The profiles `packProfiles` packed; their arrays are views of `packed.buffer`. */
export function unpackProfiles(packed: PackedProfiles): WalFramedProfile[] {
  let textAt = 0;
  return packed.profiles.map(({ rest, views, stringCount, payloadLength }) => {
    const profile: Record<string, unknown> = { ...rest.profile };
    let payload: Uint8Array = new Uint8Array(0);
    let walRecord: Uint8Array | undefined;
    let stringHashes: Int32Array | undefined;
    let lengths: Uint32Array = new Uint32Array(0);
    for (const [field, type, byteOffset, length] of views) {
      const view = new ARRAY_TYPES[type](packed.buffer, byteOffset, length);
      if (field === PAYLOAD) payload = view as Uint8Array;
      else if (field === WAL_RECORD) walRecord = view as Uint8Array;
      else if (field === STRING_LENGTHS) lengths = view as Uint32Array;
      else if (field === STRING_HASHES) stringHashes = view as Int32Array;
      else profile[field] = view;
    }
    if (walRecord && payloadLength !== undefined)
      payload = walRecord.subarray(walRecord.length - payloadLength);
    const strings = new Array<string>(stringCount);
    for (let i = 0; i < stringCount; i++) {
      strings[i] = packed.text.slice(textAt, textAt + lengths[i]);
      textAt += lengths[i];
    }
    profile.strings = strings;
    const unpacked: WalFramedProfile = {
      ...rest,
      profile: profileOf(profile as unknown as Profile),
      payload,
    };
    if (walRecord) unpacked.walRecord = walRecord;
    if (stringHashes) unpacked.stringHashes = stringHashes;
    return unpacked;
  });
}

function typeName(a: TypedArray): ArrayTypeName {
  // instanceof rather than the constructor's name: a Buffer is a Uint8Array.
  for (const name of Object.keys(ARRAY_TYPES) as ArrayTypeName[])
    if (a instanceof ARRAY_TYPES[name]) return name;
  throw new Error(`cannot pack a ${a.constructor.name}`);
}

const align8 = (n: number) => (n + 7) & ~7;
