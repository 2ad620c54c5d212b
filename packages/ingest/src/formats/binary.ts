import { unprocessable } from '../errors.js';

// Shared by the binary `trie` and `tree` bodies: both are pre-order node lists of varints and names.

/** Sequential reader; every overrun is a 422 that names the format. */
class ByteReader {
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly format: string,
  ) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** An unsigned LEB128 varint that fits a JavaScript number exactly. */
  uvarint(): number {
    const start = this.offset;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.bytes.length) throw this.truncated(start);
      const byte = this.bytes[this.offset++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) {
          throw unprocessable('bad_format', `${this.format} body: varint at byte ${start} exceeds 2^53`);
        }
        return value;
      }
      scale *= 128;
    }
    throw unprocessable('bad_format', `${this.format} body: varint at byte ${start} is longer than 10 bytes`);
  }

  /** The next `length` bytes, without copying. */
  take(length: number): Uint8Array {
    if (length > this.bytes.length - this.offset) throw this.truncated(this.offset);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  private truncated(at: number) {
    return unprocessable(
      'bad_format',
      `${this.format} body is truncated: data at byte ${at} runs past the end (${this.bytes.length} bytes)`,
    );
  }
}

/**
 * Walks the pre-order node list of a `trie` or `tree` body: each node is `uvarint nameLength, name,
 * uvarint value, uvarint childCount`, and `depth` is 0 for a top-level node. Consecutive top-level nodes
 * are all read. Iterative, so deep bodies cannot overflow the call stack.
 */
export function walkPreorder(
  body: Uint8Array,
  format: string,
  visit: (name: Uint8Array, value: number, depth: number) => void,
): void {
  const reader = new ByteReader(body, format);
  // Per open ancestor, outermost first: how many of its children are still to be read.
  const unreadChildren: number[] = [];
  while (!reader.done) {
    const depth = unreadChildren.length;
    const name = reader.take(reader.uvarint());
    const value = reader.uvarint();
    const childCount = reader.uvarint();
    if (depth > 0) unreadChildren[depth - 1]--;
    visit(name, value, depth);
    if (childCount > 0) unreadChildren.push(childCount);
    while (unreadChildren.length > 0 && unreadChildren[unreadChildren.length - 1] === 0) unreadChildren.pop();
  }
  if (unreadChildren.length > 0) {
    throw unprocessable(
      'bad_format',
      `${format} body is truncated: it ends before ${unreadChildren[unreadChildren.length - 1]} more child node(s)`,
    );
  }
}
