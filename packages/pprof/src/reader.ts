import { Buffer } from 'node:buffer';
import { PprofError } from './errors.js';
import { type MessageSchema, WireType } from './schema.js';

/** Buffer's native UTF-8 decoder without toString's argument normalization (missing from @types/node). */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 2 ** 63;
/** The largest double below 2^63. */
const MAX_INT64_NUMBER = 2 ** 63 - 1024;

/**
 * Bounds-checked protobuf wire reader. `end` is the end of the message being read and nothing is read
 * past it, so a field overrunning its parent is reported as truncated instead of being read from the
 * next message. A varint's high 32 bits are left in `high`, so 64-bit values need no BigInt.
 */
export class WireReader {
  pos = 0;
  end: number;
  /** High 32 bits (unsigned) of the last varint read. */
  high = 0;
  /** Offset of the last tag read, for error messages. */
  private tagStart = 0;
  private readonly text: Utf8Slicer;

  constructor(readonly bytes: Uint8Array) {
    this.end = bytes.length;
    // gunzip output and request bodies are Buffers already; anything else gets a Buffer view.
    const text = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.text = text as unknown as Utf8Slicer;
  }

  /** Reads a varint; returns its low 32 bits (unsigned) and leaves the high 32 bits in `high`. */
  varint(): number {
    const b = this.shortVarint();
    if (b < 0) return this.longVarint();
    this.high = 0;
    return b;
  }

  /**
   * Reads a varint as an int64; exact within ±2^53. Values that would round up to 2^63, which the writer
   * can only write back as -2^63, saturate at the largest double below 2^63.
   */
  int64(): number {
    const b = this.shortVarint();
    return b >= 0 ? b : this.longInt64();
  }

  private longInt64(): number {
    const low = this.longVarint();
    const value = (this.high | 0) * TWO_POW_32 + low;
    return value < TWO_POW_63 ? value : MAX_INT64_NUMBER;
  }

  /** Reads a varint as a uint64; exact below 2^53. */
  uint64(): number {
    const b = this.shortVarint();
    return b >= 0 ? b : this.longUint64();
  }

  private longUint64(): number {
    const low = this.longVarint();
    return this.high * TWO_POW_32 + low;
  }

  bool(): boolean {
    return (this.varint() | this.high) !== 0;
  }

  /**
   * Most varints in a profile (tags, lengths, ids, string indexes, line numbers) take one or two bytes,
   * so that case is kept small enough to be inlined everywhere: it consumes and returns the value, or
   * returns -1 and consumes nothing.
   */
  private shortVarint(): number {
    const { bytes, pos, end } = this;
    if (pos < end) {
      const b = bytes[pos];
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
      if (pos + 1 < end && bytes[pos + 1] < 0x80) {
        this.pos = pos + 2;
        return (b & 0x7f) | (bytes[pos + 1] << 7);
      }
    }
    return -1;
  }

  private longVarint(): number {
    const { bytes, end } = this;
    const start = this.pos;
    let pos = start;
    let low = 0;
    let high = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) throw this.truncated('varint', start);
      const b = bytes[pos++];
      if (shift < 28) {
        low |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        low |= b << 28; // the top 3 of these 7 bits fall off the low half...
        high = (b & 0x7f) >>> 4; // ...and start the high half
      } else {
        high |= (b & 0x7f) << (shift - 32); // the 10th byte contributes only bit 63
      }
      if (b < 0x80) break;
      if (pos - start === 10) {
        throw new PprofError('bad_varint', `varint longer than 10 bytes at offset ${start}`);
      }
    }
    this.pos = pos;
    this.high = high >>> 0;
    return low >>> 0;
  }

  tag(): number {
    this.tagStart = this.pos;
    const b = this.shortVarint();
    // The common case: a short varint with a nonzero field number. The rest is out of line, so this
    // stays small enough for V8 to inline into every decoding loop.
    return b >= 8 ? b : this.longTag(b);
  }

  private longTag(b: number): number {
    const tag = b < 0 ? this.longVarint() : b;
    // Field numbers run from 1 to 2^29 - 1, so a tag never needs its high half.
    const high = b < 0 ? this.high : 0;
    if (high !== 0 || tag >>> 3 === 0) {
      const field = high * 2 ** 29 + (tag >>> 3);
      throw new PprofError('bad_wire_type', `invalid field number ${field} at offset ${this.tagStart}`);
    }
    return tag;
  }

  /** Reads a length prefix and returns where the field's bytes end. */
  lengthEnd(): number {
    const start = this.pos;
    const length = this.uint64();
    if (length > this.end - this.pos) throw this.overrun(length, start);
    return this.pos + length;
  }

  private overrun(length: number, start: number): PprofError {
    return new PprofError(
      'truncated',
      `length ${length} at offset ${start} runs past the end of its message (${this.end - this.pos} bytes left)`,
    );
  }

  /** Narrows `end` to the length-delimited field that follows; returns the outer end to give to `leave`. */
  enter(): number {
    const outerEnd = this.end;
    this.end = this.lengthEnd();
    return outerEnd;
  }

  leave(outerEnd: number): void {
    this.end = outerEnd;
  }

  string(): string {
    const end = this.lengthEnd();
    const text = this.text.utf8Slice(this.pos, end);
    this.pos = end;
    return text;
  }

  /**
   * Skips a field the caller does not decode. Fields numbered above the message's last field are
   * extensions, skipped whatever their wire type; a known field number here has the wrong wire type.
   */
  skipUnknown(tag: number, message: MessageSchema): void {
    if (tag >>> 3 <= message.lastField) {
      throw new PprofError(
        'bad_wire_type',
        `${message.name} field ${tag >>> 3} has wire type ${tag & 7} at offset ${this.tagStart}`,
      );
    }
    this.skip(tag);
  }

  /** Skips the value of a field of any wire type. */
  skip(tag: number): void {
    switch (tag & 7) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.skipBytes(8);
        return;
      case WireType.Len:
        this.pos = this.lengthEnd();
        return;
      case WireType.Fixed32:
        this.skipBytes(4);
        return;
      case WireType.StartGroup:
        this.skipGroup(tag >>> 3);
        return;
      default:
        throw new PprofError('bad_wire_type', `unexpected wire type ${tag & 7} at offset ${this.tagStart}`);
    }
  }

  private skipBytes(count: number): void {
    if (this.end - this.pos < count) throw this.truncated(`${count}-byte fixed field`, this.pos);
    this.pos += count;
  }

  /** Skips a (deprecated) group up to its matching end tag; iterative, so nesting cannot overflow the stack. */
  private skipGroup(field: number): void {
    const open = [field];
    while (open.length > 0) {
      const tag = this.tag();
      if ((tag & 7) === WireType.StartGroup) {
        open.push(tag >>> 3);
      } else if ((tag & 7) === WireType.EndGroup) {
        if (open.pop() !== tag >>> 3) {
          throw new PprofError(
            'bad_wire_type',
            `end of group ${tag >>> 3} does not match its start at offset ${this.tagStart}`,
          );
        }
      } else {
        this.skip(tag);
      }
    }
  }

  private truncated(what: string, start: number): PprofError {
    const limit = this.end === this.bytes.length ? 'the input' : `its message at offset ${this.end}`;
    return new PprofError('truncated', `${what} at offset ${start} runs past the end of ${limit}`);
  }
}
