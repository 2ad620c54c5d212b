import type { ByteReader, ByteWriter } from './bytes.js';
import { growableInt32 } from './growable.js';

/** A stack tree as stored and queried: node n has `parent[n]` (< n, or -1 at the top) and `location[n]`. */
export interface StackTreeArrays {
  parent: Int32Array;
  location: Int32Array;
}

/**
 * Parent-pointer tree of the stacks of one partition. A stack is identified by its leaf node, so
 * stack ids are dense integers that index the accumulators of a merge. Nodes are only ever appended,
 * which keeps parent < child.
 *
 * Child lookup (once per frame of a stack the whole-stack cache has not seen) is an open-addressing
 * hash whose slots hold only the node: its (parent, location) key is read from the node arrays. Keys in
 * the slots would save that indirection but triple the table, the largest part of a partition's memory.
 */
export class StackTree {
  private readonly parent = growableInt32(4096);
  private readonly location = growableInt32(4096);
  /** Node + 1 per slot; 0 marks an empty slot. */
  private slotNode = new Int32Array(8192);
  private mask = 8191;
  /**
   * Whole-stack cache: the leaf node of stacks inserted through `insert`, keyed by a hash of their
   * (remapped, depth-limited) location sequence. A hit is only trusted after walking the tree from the
   * leaf and comparing every location, so collisions cost time, never correctness.
   */
  private stackHash = new Int32Array(4096);
  /** Leaf node + 1 per slot; 0 marks an empty slot. */
  private stackLeaf = new Int32Array(4096);
  private stackMask = 4095;
  private stackCount = 0;

  get size(): number {
    return this.parent.length;
  }

  get byteSize(): number {
    return (
      this.parent.byteCapacity +
      this.location.byteCapacity +
      this.slotNode.byteLength +
      this.stackLeaf.byteLength * 2
    );
  }

  /**
   * Inserts the stack `locs[start..end)` (leaf first, as in pprof), mapped through `remap`, walking
   * root → leaf. Stacks deeper than `maxDepth` keep their `maxDepth` leaf-side frames. Returns the
   * leaf node, or -1 for an empty stack.
   */
  insert(locs: Uint32Array, start: number, end: number, remap: Int32Array, maxDepth: number): number {
    if (end - start > maxDepth) end = start + maxDepth;
    if (end <= start) return -1;
    let h = end - start;
    for (let i = start; i < end; i++) {
      h = Math.imul(h ^ remap[locs[i]], 0x9e3779b1);
      h ^= h >>> 16;
    }
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    const stackHash = this.stackHash;
    const stackLeaf = this.stackLeaf;
    const mask = this.stackMask;
    let slot = h & mask;
    for (;;) {
      const entry = stackLeaf[slot];
      if (entry === 0) break;
      if (stackHash[slot] === h && this.matches(entry - 1, locs, start, end, remap)) return entry - 1;
      slot = (slot + 1) & mask;
    }
    let node = -1;
    for (let i = end - 1; i >= start; i--) node = this.child(node, remap[locs[i]]);
    stackHash[slot] = h;
    stackLeaf[slot] = node + 1;
    if (2 * ++this.stackCount > stackLeaf.length) this.rehashStacks(stackLeaf.length * 2);
    return node;
  }

  /** Whether the path leaf → top of `leaf` is exactly `remap[locs[start..end)]`. */
  private matches(leaf: number, locs: Uint32Array, start: number, end: number, remap: Int32Array): boolean {
    const parent = this.parent.array;
    const location = this.location.array;
    let node = leaf;
    for (let i = start; i < end; i++) {
      if (node < 0 || location[node] !== remap[locs[i]]) return false;
      node = parent[node];
    }
    return node === -1;
  }

  private rehashStacks(slotCount: number): void {
    const oldHash = this.stackHash;
    const oldLeaf = this.stackLeaf;
    this.stackHash = new Int32Array(slotCount);
    this.stackLeaf = new Int32Array(slotCount);
    this.stackMask = slotCount - 1;
    for (let s = 0; s < oldLeaf.length; s++) {
      if (oldLeaf[s] === 0) continue;
      let slot = oldHash[s] & this.stackMask;
      while (this.stackLeaf[slot] !== 0) slot = (slot + 1) & this.stackMask;
      this.stackHash[slot] = oldHash[s];
      this.stackLeaf[slot] = oldLeaf[s];
    }
  }

  /** The node for `location` under `parent` (-1 = top level), added when missing. */
  child(parent: number, location: number): number {
    let slot = this.slotOf(parent, location);
    const parents = this.parent.array;
    const locations = this.location.array;
    for (;;) {
      const entry = this.slotNode[slot];
      if (entry === 0) break;
      if (parents[entry - 1] === parent && locations[entry - 1] === location) return entry - 1;
      slot = (slot + 1) & this.mask;
    }
    const node = this.parent.length;
    this.parent.push(parent);
    this.location.push(location);
    if (2 * (node + 1) > this.slotNode.length) this.rehash(this.slotNode.length * 2);
    else this.slotNode[slot] = node + 1;
    return node;
  }

  private slotOf(parent: number, location: number): number {
    const h = Math.imul(parent ^ Math.imul(location, 0x9e3779b1), 0x85ebca6b);
    return (h ^ (h >>> 15)) & this.mask;
  }

  private rehash(slotCount: number): void {
    this.slotNode = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    const parent = this.parent.array;
    const location = this.location.array;
    for (let node = 0; node < this.parent.length; node++) {
      let slot = this.slotOf(parent[node], location[node]);
      while (this.slotNode[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slotNode[slot] = node + 1;
    }
  }

  /** Views of the nodes inserted so far; later inserts do not change them. */
  arrays(): StackTreeArrays {
    return { parent: this.parent.view(), location: this.location.view() };
  }
}

/**
 * Re-inserts every node of `source` into `target`, its locations mapped through `locationRemap`;
 * returns source node → target node. Parents come before children, so one pass suffices.
 */
export function importStackTree(
  target: StackTree,
  source: StackTreeArrays,
  locationRemap: Int32Array,
): Int32Array {
  const { parent, location } = source;
  const remap = new Int32Array(parent.length);
  for (let n = 0; n < parent.length; n++) {
    const p = parent[n];
    remap[n] = target.child(p < 0 ? -1 : remap[p], locationRemap[location[n]]);
  }
  return remap;
}

export function encodeStackTree(t: StackTreeArrays, w: ByteWriter): void {
  w.array(t.parent);
  w.array(t.location);
}

export function decodeStackTree(r: ByteReader): StackTreeArrays {
  return { parent: r.array(Int32Array), location: r.array(Int32Array) };
}
