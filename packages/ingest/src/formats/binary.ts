import { unprocessable } from '../errors.js';

// Shared by the binary `trie` and `tree` bodies: both are pre-order node lists of varints and names.

/** Sequential reader; every overrun is a 422 that names the format. */
export class ByteReader {
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
 * Pre-order bookkeeping after a node was read (and pushed if it has children): pops the ancestors
 * whose children were all read, then counts the next node against the innermost open one.
 */
export function closeFinished(openLevel: number[], openChildren: number[]): void {
  while (openChildren.length > 0 && openChildren[openChildren.length - 1] === 0) {
    openChildren.pop();
    openLevel.pop();
  }
  if (openChildren.length > 0) openChildren[openChildren.length - 1]--;
}
