/**
 * Little binary writer/reader for WAL headers and block sections. Numbers are little-endian; typed
 * arrays are written raw after padding to their element size, so a reader can view them in place.
 */

type RawArray = Int32Array | Uint32Array | Float64Array | BigUint64Array | Uint8Array;
type RawArrayConstructor<T extends RawArray> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

const utf8 = new TextEncoder();

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    const next = new Uint8Array(Math.max(needed, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i64(v: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, v, true);
    this.length += 8;
  }

  /** Unsigned LEB128, exact for integers up to 2^53. */
  varint(v: number): void {
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
      if (this.length === this.buf.length) this.reserve(8);
    }
    this.buf[this.length++] = v;
  }

  string(s: string): void {
    // Symbol names and labels are nearly always ASCII: copying their char codes avoids a TextEncoder
    // call and an allocation per string, which dominated block and WAL encoding.
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      const bytes = utf8.encode(s);
      this.varint(bytes.length);
      this.bytes(bytes);
      return;
    }
    this.varint(n);
    this.reserve(n);
    const buf = this.buf;
    const at = this.length;
    for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
    this.length = at + n;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Element count, padding to the element size, then the raw elements. */
  array(a: RawArray): void {
    this.varint(a.length);
    const align = a.BYTES_PER_ELEMENT;
    const pad = (align - (this.length % align)) % align;
    this.reserve(pad);
    this.length += pad;
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  strings(list: readonly string[]): void {
    this.varint(list.length);
    for (const s of list) this.string(s);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  offset = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new RangeError('truncated data');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++];
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return v;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('varint too long');
    }
  }

  string(): string {
    const n = this.varint();
    this.need(n);
    const s = this.decoder.decode(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  /** Reads what `ByteWriter.array` wrote: a view when aligned in memory, else a copy. */
  array<T extends RawArray>(ctor: RawArrayConstructor<T>): T {
    const n = this.varint();
    const size = ctor.BYTES_PER_ELEMENT;
    this.offset += (size - (this.offset % size)) % size;
    const bytes = this.bytes(n * size);
    if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer, bytes.byteOffset, n);
    const copy = new ctor(n);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
  }

  strings(): string[] {
    const n = this.varint();
    const list = new Array<string>(n);
    for (let i = 0; i < n; i++) list[i] = this.string();
    return list;
  }
}
