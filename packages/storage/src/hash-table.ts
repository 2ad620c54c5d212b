/**
 * Open-addressing hash index over rows stored elsewhere (column arrays of the caller), used to
 * deduplicate symbols. It keeps each
 * row's 32-bit hash, so growing never calls back into the caller and most mismatches are rejected
 * without comparing keys. Callers compute the hash and supply a `matches(row)` predicate, usually a
 * bound method comparing the row with a key held in scratch fields, so lookups allocate nothing.
 */
export class RowHashTable {
  /** Row + 1 per slot; 0 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private rowHashes: Int32Array;
  private size = 0;

  constructor(initialCapacity = 1024) {
    const slotCount = nextPowerOfTwo(initialCapacity * 2);
    this.slots = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    this.rowHashes = new Int32Array(initialCapacity);
  }

  /** The row with this hash for which `matches` holds, or -1. */
  find(hash: number, matches: (row: number) => boolean): number {
    const slots = this.slots;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const entry = slots[i];
      if (entry === 0) return -1;
      const row = entry - 1;
      if (this.rowHashes[row] === hash && matches(row)) return row;
    }
  }

  /** Indexes `row` (rows are added in order 0, 1, 2, … and never removed). */
  add(hash: number, row: number): void {
    if (row >= this.rowHashes.length) {
      const grown = new Int32Array(Math.max(row + 1, this.rowHashes.length * 2));
      grown.set(this.rowHashes);
      this.rowHashes = grown;
    }
    this.rowHashes[row] = hash;
    if (++this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(hash, row);
  }

  get byteCapacity(): number {
    return this.slots.byteLength + this.rowHashes.byteLength;
  }

  private place(hash: number, row: number): void {
    let i = hash & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = row + 1;
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    for (let row = 0; row < this.size; row++) this.place(this.rowHashes[row], row);
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/**
 * A 32-bit hash of a string's UTF-16 code units (FNV-1a, then finished), as symbol tables index strings.
 * Exported so that a decoder thread can hash a profile's strings and spare the event loop (see
 * `AppendRequest.stringHashes`); every caller must use this same function.
 */
export function stringHash(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return hashFinish(h);
}

/** `stringHash` of each string. */
export function stringHashes(strings: readonly string[]): Int32Array {
  const out = new Int32Array(strings.length);
  for (let i = 0; i < strings.length; i++) out[i] = stringHash(strings[i]);
  return out;
}

/** Murmur3-style mixing of 32-bit words into a running hash; finish with `hashFinish`. */
export function hashMix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function hashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
