import type { ByteReader, ByteWriter } from './bytes.js';
import { growableInt32 } from './growable.js';
import { hashFinish, hashMix, RowHashTable } from './hash-table.js';

/** A stack tree as stored and queried: node n has `parent[n]` (< n, or -1 at the top) and `location[n]`. */
export interface StackTreeArrays {
  parent: Int32Array;
  location: Int32Array;
}

/**
 * Parent-pointer tree of the stacks of one partition. A stack is identified by its leaf node, so
 * stack ids are dense integers that index the accumulators of a merge. Child lookup is an open-addressing
 * hash on (parent, location); nodes are only ever appended, which keeps parent < child.
 */
export class StackTree {
  private readonly parent = growableInt32(4096);
  private readonly location = growableInt32(4096);
  private readonly children = new RowHashTable(4096);
  private keyParent = 0;
  private keyLocation = 0;

  get size(): number {
    return this.parent.length;
  }

  get byteSize(): number {
    return this.parent.byteCapacity + this.location.byteCapacity + this.children.byteCapacity;
  }

  /**
   * Inserts the stack `locs[start..end)` (leaf first, as in pprof), mapped through `remap`, walking
   * root → leaf. Stacks deeper than `maxDepth` keep their `maxDepth` leaf-side frames. Returns the
   * leaf node, or -1 for an empty stack.
   */
  insert(locs: Uint32Array, start: number, end: number, remap: Int32Array, maxDepth: number): number {
    if (end - start > maxDepth) end = start + maxDepth;
    let node = -1;
    for (let i = end - 1; i >= start; i--) node = this.child(node, remap[locs[i]]);
    return node;
  }

  private child(parent: number, location: number): number {
    const hash = hashFinish(hashMix(hashMix(0, parent), location));
    this.keyParent = parent;
    this.keyLocation = location;
    let node = this.children.find(hash, this.matchesKey);
    if (node < 0) {
      node = this.parent.length;
      this.parent.push(parent);
      this.location.push(location);
      this.children.add(hash, node);
    }
    return node;
  }

  private readonly matchesKey = (node: number): boolean =>
    this.parent.array[node] === this.keyParent && this.location.array[node] === this.keyLocation;

  /** Views of the nodes inserted so far; later inserts do not change them. */
  arrays(): StackTreeArrays {
    return { parent: this.parent.view(), location: this.location.view() };
  }
}

export function encodeStackTree(t: StackTreeArrays, w: ByteWriter): void {
  w.array(t.parent);
  w.array(t.location);
}

export function decodeStackTree(r: ByteReader): StackTreeArrays {
  return { parent: r.array(Int32Array), location: r.array(Int32Array) };
}
