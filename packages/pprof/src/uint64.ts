/**
 * 64-bit values travel as two unsigned 32-bit halves so the codec never creates a BigInt per address:
 * BigUint64Array columns are read and written through a Uint32Array view of the same memory.
 */

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Position of the low half of element i in a `halves` view is 2i + LOW, of the high half 2i + HIGH. */
export const LOW = littleEndian ? 0 : 1;
export const HIGH = 1 - LOW;

export function halves(column: BigUint64Array): Uint32Array {
  return new Uint32Array(column.buffer, column.byteOffset, column.length * 2);
}

export function int64FromHalves(low: number, high: number): bigint {
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
}

export function lowHalf(value: bigint): number {
  return Number(BigInt.asUintN(32, value));
}

export function highHalf(value: bigint): number {
  return Number(BigInt.asUintN(32, value >> 32n));
}
