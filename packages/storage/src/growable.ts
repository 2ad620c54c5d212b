type NumericArray = Int32Array | Uint32Array | Float64Array | Uint8Array;
type NumericArrayConstructor<T extends NumericArray> = new (length: number) => T;

/**
 * An append-only typed array that doubles its capacity when full. Hot loops may read `array` directly
 * (valid up to `length`); views handed out by `view()` stay valid after growth because growth copies
 * into a new buffer instead of mutating the old one.
 */
export class Growable<T extends NumericArray> {
  array: T;
  length = 0;

  constructor(
    private readonly ctor: NumericArrayConstructor<T>,
    initialCapacity = 256,
  ) {
    this.array = new ctor(initialCapacity);
  }

  push(value: number): void {
    if (this.length === this.array.length) this.reserve(this.length + 1);
    this.array[this.length++] = value;
  }

  /** Makes room for `capacity` elements in total. */
  reserve(capacity: number): void {
    if (capacity <= this.array.length) return;
    const next = new this.ctor(Math.max(capacity, this.array.length * 2));
    next.set(this.array.subarray(0, this.length) as never);
    this.array = next;
  }

  view(): T {
    return this.array.subarray(0, this.length) as T;
  }

  get byteCapacity(): number {
    return this.array.byteLength;
  }
}

export const growableInt32 = (capacity?: number) => new Growable(Int32Array, capacity);
export const growableUint32 = (capacity?: number) => new Growable(Uint32Array, capacity);
export const growableFloat64 = (capacity?: number) => new Growable(Float64Array, capacity);
export const growableUint8 = (capacity?: number) => new Growable(Uint8Array, capacity);

/**
 * A growable column of unsigned 64-bit values (addresses), kept as little-endian (lo, hi) word pairs
 * so that hashing and comparing never creates a BigInt, while `view()` still yields a BigUint64Array.
 */
export class U64Column {
  private readonly words = growableUint32();

  get length(): number {
    return this.words.length >>> 1;
  }

  push(lo: number, hi: number): void {
    this.words.push(lo);
    this.words.push(hi);
  }

  equals(row: number, lo: number, hi: number): boolean {
    const w = this.words.array;
    return w[2 * row] === lo && w[2 * row + 1] === hi;
  }

  view(): BigUint64Array {
    return new BigUint64Array(this.words.array.buffer, 0, this.length);
  }

  get byteCapacity(): number {
    return this.words.byteCapacity;
  }
}

/** The (lo, hi) words of a BigUint64Array, without BigInt conversions (the engine assumes little-endian). */
export function u64Words(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}
