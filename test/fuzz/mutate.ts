/**
 * Mutations of valid seeds, as fast-check arbitraries (so failures shrink to fewer, smaller edits):
 * byte edits (bit flips, interesting bytes, insertions from a dictionary, deletions, truncation),
 * repeated chunks, long runs of one byte, splices from other seeds, and for protobuf seeds edits of whole
 * fields (drop, duplicate, move, a huge length prefix, an edit inside a nested message with its length
 * fixed up, so that the edit reaches the decoder's semantic checks instead of its framing checks).
 */
import fc from 'fast-check';

export type ByteEdit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'run'; at: number; byte: number; length: number }
  | { op: 'splice'; at: number; seed: number; from: number; length: number };

export type FieldEdit =
  | { op: 'field-drop'; field: number }
  | { op: 'field-dup'; field: number; times: number }
  | { op: 'field-move'; field: number; to: number }
  | { op: 'field-length'; field: number; length: bigint }
  | { op: 'field-inner'; field: number; edit: ByteEdit };

export type Edit = ByteEdit | FieldEdit;

export interface MutationOptions {
  /** Tokens worth inserting: separators, keywords, boundary values. */
  dictionary?: readonly Uint8Array[];
  /** Enables the field edits, for protobuf seeds. */
  protobuf?: boolean;
  maxEdits?: number;
  /** Upper bound of `repeat.times`. */
  maxRepeat?: number;
  /** Upper bound of `run.length` (long lines, long names). */
  maxRun?: number;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x3b, 0x7b, 0x7d, 0x22, 0x5c];

export function byteEdit(
  seedCount: number,
  { dictionary = [], maxRepeat = 64, maxRun = 4096 }: MutationOptions,
): fc.Arbitrary<ByteEdit> {
  const at = fc.nat();
  const chunk = fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
    ...(dictionary.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...dictionary) }] : []),
  );
  return fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat(7) }),
    fc.record({
      op: fc.constant('set' as const),
      at,
      byte: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)),
    }),
    fc.record({ op: fc.constant('insert' as const), at, bytes: chunk }),
    fc.record({ op: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('truncate' as const), at }),
    fc.record({
      op: fc.constant('repeat' as const),
      at,
      length: fc.integer({ min: 1, max: 256 }),
      times: fc.integer({ min: 1, max: maxRepeat }),
    }),
    fc.record({
      op: fc.constant('run' as const),
      at,
      byte: fc.constantFrom(...INTERESTING_BYTES, 0x61, 0x30),
      length: fc.integer({ min: 1, max: maxRun }),
    }),
    fc.record({
      op: fc.constant('splice' as const),
      at,
      seed: fc.nat(Math.max(0, seedCount - 1)),
      from: fc.nat(),
      length: fc.integer({ min: 1, max: 512 }),
    }),
  );
}

function fieldEdit(seedCount: number, options: MutationOptions): fc.Arbitrary<FieldEdit> {
  const field = fc.nat();
  return fc.oneof(
    fc.record({ op: fc.constant('field-drop' as const), field }),
    fc.record({ op: fc.constant('field-dup' as const), field, times: fc.integer({ min: 1, max: 32 }) }),
    fc.record({ op: fc.constant('field-move' as const), field, to: fc.nat() }),
    fc.record({
      op: fc.constant('field-length' as const),
      field,
      length: fc.constantFrom(0n, 1n, 127n, 2n ** 31n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n),
    }),
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('field-inner' as const),
        field,
        edit: byteEdit(seedCount, options),
      }),
    },
  );
}

/** Mutants of `seeds`: each a seed with 1..maxEdits edits applied in order. */
export function mutants(
  seeds: readonly Uint8Array[],
  options: MutationOptions = {},
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('mutants needs at least one seed');
  const edit: fc.Arbitrary<Edit> = options.protobuf
    ? fc.oneof(byteEdit(seeds.length, options), fieldEdit(seeds.length, options))
    : byteEdit(seeds.length, options);
  return fc
    .record({
      seed: fc.nat(seeds.length - 1),
      edits: fc.array(edit, { minLength: 1, maxLength: options.maxEdits ?? 6 }),
    })
    .map(({ seed, edits }) => applyEdits(seeds[seed], edits, seeds));
}

export function applyEdits(
  seed: Uint8Array,
  edits: readonly Edit[],
  seeds: readonly Uint8Array[],
): Uint8Array {
  let bytes = seed;
  for (const edit of edits)
    bytes = edit.op.startsWith('field-')
      ? applyFieldEdit(bytes, edit as FieldEdit, seeds)
      : applyByteEdit(bytes, edit as ByteEdit, seeds);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

export function applyByteEdit(bytes: Uint8Array, edit: ByteEdit, seeds: readonly Uint8Array[]): Uint8Array {
  const n = bytes.length;
  const at = edit.at % (n + 1);
  switch (edit.op) {
    case 'flip': {
      if (n === 0) return bytes;
      const copy = Uint8Array.from(bytes);
      copy[edit.at % n] ^= 1 << edit.bit;
      return copy;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(edit.byte);
      const copy = Uint8Array.from(bytes);
      copy[edit.at % n] = edit.byte;
      return copy;
    }
    case 'insert':
      return concat(bytes.subarray(0, at), edit.bytes, bytes.subarray(at));
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(Math.min(n, at + edit.length)));
    case 'truncate':
      return bytes.subarray(0, at);
    case 'repeat': {
      const chunk = bytes.subarray(at, Math.min(n, at + edit.length));
      return concat(
        bytes.subarray(0, at),
        ...Array(edit.times + 1).fill(chunk),
        bytes.subarray(at + chunk.length),
      );
    }
    case 'run':
      return concat(bytes.subarray(0, at), new Uint8Array(edit.length).fill(edit.byte), bytes.subarray(at));
    case 'splice': {
      const other = seeds[edit.seed % seeds.length];
      const from = edit.from % (other.length + 1);
      return concat(bytes.subarray(0, at), other.subarray(from, from + edit.length), bytes.subarray(at));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf framing

export function uvarint(value: number | bigint): Uint8Array {
  let rest = BigInt(value);
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

export function protobufTag(field: number, wireType: number): Uint8Array {
  return uvarint(field * 8 + wireType);
}

interface FieldSpan {
  start: number;
  /** Where the payload starts (after the tag, and the length for wire type 2). */
  payload: number;
  end: number;
  field: number;
  wireType: number;
}

function readVarint(bytes: Uint8Array, pos: number): [value: number, next: number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && pos < bytes.length; i++) {
    const byte = bytes[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  return undefined;
}

/** The top-level fields of a protobuf message, or undefined when its framing is already broken. */
export function topLevelFields(bytes: Uint8Array): FieldSpan[] | undefined {
  const fields: FieldSpan[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const tag = readVarint(bytes, pos);
    if (!tag) return undefined;
    const [key, afterTag] = tag;
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    let payload = afterTag;
    let end: number;
    if (wireType === 0) {
      const value = readVarint(bytes, afterTag);
      if (!value) return undefined;
      end = value[1];
    } else if (wireType === 1) end = afterTag + 8;
    else if (wireType === 5) end = afterTag + 4;
    else if (wireType === 2) {
      const length = readVarint(bytes, afterTag);
      if (!length) return undefined;
      payload = length[1];
      end = payload + length[0];
    } else return undefined;
    if (end > bytes.length) return undefined;
    fields.push({ start, payload, end, field, wireType });
    pos = end;
  }
  return fields;
}

function applyFieldEdit(bytes: Uint8Array, edit: FieldEdit, seeds: readonly Uint8Array[]): Uint8Array {
  const fields = topLevelFields(bytes);
  if (!fields || fields.length === 0) return bytes;
  const f = fields[edit.field % fields.length];
  const before = bytes.subarray(0, f.start);
  const whole = bytes.subarray(f.start, f.end);
  const after = bytes.subarray(f.end);
  switch (edit.op) {
    case 'field-drop':
      return concat(before, after);
    case 'field-dup':
      return concat(before, ...Array(edit.times + 1).fill(whole), after);
    case 'field-move': {
      const rest = concat(before, after);
      const restFields = topLevelFields(rest) ?? [];
      const to = restFields.length === 0 ? 0 : restFields[edit.to % restFields.length].start;
      return concat(rest.subarray(0, to), whole, rest.subarray(to));
    }
    case 'field-length': {
      if (f.wireType !== 2) return bytes;
      return concat(
        before,
        protobufTag(f.field, 2),
        uvarint(edit.length),
        bytes.subarray(f.payload, f.end),
        after,
      );
    }
    case 'field-inner': {
      if (f.wireType !== 2)
        return applyByteEdit(
          bytes,
          { ...edit.edit, at: f.start + (edit.edit.at % (f.end - f.start + 1)) } as ByteEdit,
          seeds,
        );
      const inner = applyByteEdit(bytes.subarray(f.payload, f.end), edit.edit, seeds);
      return concat(before, protobufTag(f.field, 2), uvarint(inner.length), inner, after);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Dictionaries

const text = (...tokens: string[]) => tokens.map((t) => Buffer.from(t, 'utf8'));

/** Varints at the edges: 2^31, 2^53, 2^64 - 1, an 11-byte one, one that never ends, a non-minimal zero. */
export const VARINT_TOKENS: readonly Uint8Array[] = [
  uvarint(2n ** 31n),
  uvarint(2n ** 32n - 1n),
  uvarint(2n ** 53n + 1n),
  uvarint(2n ** 63n),
  uvarint(2n ** 64n - 1n),
  Uint8Array.from([...Array(10).fill(0xff), 0x01]),
  Uint8Array.from(Array(11).fill(0x80)),
  Uint8Array.from([0x80, 0x80, 0x80, 0x00]),
];

/** Protobuf field headers: every wire type of fields 1-15, and huge lengths of length-delimited fields. */
export const PROTOBUF_TOKENS: readonly Uint8Array[] = [
  ...VARINT_TOKENS,
  ...Array.from({ length: 15 }, (_, i) => protobufTag(i + 1, 2)),
  ...Array.from({ length: 8 }, (_, wireType) => protobufTag(2, wireType)),
  concat(protobufTag(2, 2), uvarint(2n ** 31n - 1n)),
  concat(protobufTag(6, 2), uvarint(2n ** 64n - 1n)),
  concat(protobufTag(4, 2), Uint8Array.of(0x08, 0x00)),
  Uint8Array.of(0x00),
  Uint8Array.of(0x0b, 0x0c),
];

export const TEXT_TOKENS: readonly Uint8Array[] = [
  ...text(';', ' ', '\n', '\r\n', '\r', '\t', ';;', ' 0', ' 1', ' -1', ' 9007199254740993', ' 1e3', ' 0x10'),
  ...text('\u00e9', '\u{1f525}', '\uFEFF', '\u0000', '\u2028', '{', '}', '=', ',', '"', '\\', '%'),
  Uint8Array.of(0xff),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
];

export { text as textTokens };
