const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 2 ** 63;
const TWO_POW_64 = 2 ** 64;

const utf8 = new TextEncoder();

/**
 * Protobuf wire writer into one growable buffer. A length-delimited field is written in one pass: one
 * byte is reserved for its length, and in the rare case the body needs a longer length prefix, the
 * body is moved up once it is known (cheaper than measuring every message twice).
 */
export class WireWriter {
  private bytes: Uint8Array;
  private pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.bytes = new Uint8Array(initialCapacity);
  }

  /** The bytes written so far, in a buffer of their own. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }

  /** Writes an integral int64 or uint64 (anything in [-2^63, 2^64)); negative numbers take 10 bytes. */
  varint(value: number): void {
    if (value >>> 0 === value) {
      this.reserve(5);
      const bytes = this.bytes;
      let pos = this.pos;
      while (value > 0x7f) {
        bytes[pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      bytes[pos++] = value;
      this.pos = pos;
      return;
    }
    if (!Number.isInteger(value) || value < -TWO_POW_63 || value >= TWO_POW_64) {
      throw new RangeError(`cannot encode ${value} as a 64-bit integer`);
    }
    const high = Math.floor(value / TWO_POW_32);
    this.varint64(value - high * TWO_POW_32, high >>> 0);
  }

  /** Writes a varint from its unsigned 32-bit halves. */
  varint64(low: number, high: number): void {
    this.reserve(10);
    const bytes = this.bytes;
    let pos = this.pos;
    while (high !== 0 || low > 0x7f) {
      bytes[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    bytes[pos++] = low;
    this.pos = pos;
  }

  /** Writes a varint field, omitted when zero (its default). */
  varintField(tag: number, value: number): void {
    if (value === 0) return;
    this.varint(tag);
    this.varint(value);
  }

  varint64Field(tag: number, low: number, high: number): void {
    if ((low | high) === 0) return;
    this.varint(tag);
    this.varint64(low, high);
  }

  /** Starts a length-delimited field; pass the result to `endLength` once its body is written. */
  beginLength(tag: number): number {
    this.varint(tag);
    this.reserve(1);
    return ++this.pos;
  }

  endLength(bodyStart: number): void {
    const length = this.pos - bodyStart;
    const prefixSize = varintSize(length);
    if (prefixSize > 1) {
      this.reserve(prefixSize - 1);
      this.bytes.copyWithin(bodyStart + prefixSize - 1, bodyStart, this.pos);
      this.pos += prefixSize - 1;
    }
    const end = this.pos;
    this.pos = bodyStart - 1;
    this.varint(length);
    this.pos = end;
  }

  /** Writes a repeated scalar as one packed field; writes nothing when there are no values. */
  packed(tag: number, values: ArrayLike<number>, start = 0, end = values.length): void {
    if (start === end) return;
    const bodyStart = this.beginLength(tag);
    for (let i = start; i < end; i++) this.varint(values[i]);
    this.endLength(bodyStart);
  }

  string(tag: number, text: string): void {
    const bodyStart = this.beginLength(tag);
    this.reserve(text.length * 3);
    this.pos += utf8.encodeInto(text, this.bytes.subarray(this.pos)).written;
    this.endLength(bodyStart);
  }

  private reserve(count: number): void {
    if (this.pos + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + count));
    // All of it, not just up to `pos`: endLength rewinds `pos` to write a length prefix before a body
    // that is already written, and growing there must not drop the body.
    grown.set(this.bytes);
    this.bytes = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}
