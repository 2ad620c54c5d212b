import type { FunctionTree } from '../flamegraph.js';

/** The name of the root of every function tree. */
export const ROOT_NAME = 'total';
/** The name of the node that stands for the children cut off by truncation. */
export const OTHER_NAME = 'other';
const SLOT_STRIDE = 3;

/**
 * Grows a function tree node by node: node 0 is the root, and `child(parent, name)` finds or appends the
 * child of `parent` with that name, so that siblings never share a name. Children are found through an
 * open-addressing hash table keyed by (parent, name), with the keys stored next to the child id so that a
 * probe touches one cache line, and double hashing from a home slot near the parent's (see homeSlot).
 */
export class TreeBuilder {
  private parent: Int32Array;
  private name: Int32Array;
  private self: Float64Array;
  private size = 1;
  /**
   * SLOT_STRIDE ints per slot: parent, name id, child node. The root is nobody's child, so child 0 marks
   * an empty slot. At most half full.
   */
  private slots: Int32Array;
  private readonly names = [ROOT_NAME];
  private readonly nameIds = new Map([[ROOT_NAME, 0]]);

  constructor(expectedNodes: number) {
    const capacity = nextPowerOfTwo(Math.max(expectedNodes, 16));
    this.parent = new Int32Array(capacity);
    this.name = new Int32Array(capacity);
    this.self = new Float64Array(capacity);
    this.slots = new Int32Array(2 * capacity * SLOT_STRIDE);
    this.parent[0] = -1;
  }

  /** The id of a function name, added on first use. "total" is the root's name, id 0. */
  internName(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.nameIds.set(name, id);
    }
    return id;
  }

  /** The child of `parent` named `nameId`, created if missing. */
  child(parent: number, nameId: number): number {
    if (this.size === this.parent.length) this.grow();
    const { slots } = this;
    const mask = slots.length / SLOT_STRIDE - 1;
    const hash = hashPair(parent, nameId);
    let slot = homeSlot(parent, hash) & mask;
    for (let at = slot * SLOT_STRIDE; slots[at + 2] !== 0; at = slot * SLOT_STRIDE) {
      if (slots[at] === parent && slots[at + 1] === nameId) return slots[at + 2];
      slot = (slot + probeStep(hash)) & mask;
    }
    const node = this.size++;
    this.parent[node] = parent;
    this.name[node] = nameId;
    fillSlot(slots, slot, node, parent, nameId);
    return node;
  }

  addSelf(node: number, value: number): void {
    this.self[node] += value;
  }

  /** The tree, with totals summed from the self values. The builder must not be used afterwards. */
  finish(): FunctionTree {
    const { size } = this;
    const parent = this.parent.subarray(0, size);
    const self = this.self.subarray(0, size);
    return {
      parent,
      name: this.name.subarray(0, size),
      self,
      total: subtreeTotals(parent, self),
      names: this.names,
      size,
    };
  }

  private grow(): void {
    const capacity = this.parent.length * 2;
    this.parent = copyInto(new Int32Array(capacity), this.parent);
    this.name = copyInto(new Int32Array(capacity), this.name);
    this.self = copyInto(new Float64Array(capacity), this.self);
    const slots = new Int32Array(2 * capacity * SLOT_STRIDE);
    const mask = 2 * capacity - 1;
    for (let node = 1; node < this.size; node++) {
      const hash = hashPair(this.parent[node], this.name[node]);
      let slot = homeSlot(this.parent[node], hash) & mask;
      while (slots[slot * SLOT_STRIDE + 2] !== 0) slot = (slot + probeStep(hash)) & mask;
      fillSlot(slots, slot, node, this.parent[node], this.name[node]);
    }
    this.slots = slots;
  }
}

/**
 * Maps the name ids of `tree` to the builder's, interning each name on first use:
 * `map(id)` is the builder id of `tree.names[id]`.
 */
export function nameMapper(builder: TreeBuilder, names: readonly string[]): (nameId: number) => number {
  const ids = new Int32Array(names.length).fill(-1);
  return (nameId) => {
    let id = ids[nameId];
    if (id < 0) id = ids[nameId] = builder.internName(names[nameId]);
    return id;
  };
}

/** Self plus descendants of every node of a parent-pointer tree, in one reverse pass (parents precede children). */
export function subtreeTotals(parent: Int32Array, values: Float64Array): Float64Array {
  const totals = values.slice(0, parent.length);
  for (let i = parent.length - 1; i >= 0; i--) if (parent[i] >= 0) totals[parent[i]] += totals[i];
  return totals;
}

/**
 * The children of every node of a parent-pointer tree of `count` nodes (root 0, parentOf(k) < k), in
 * compressed rows: node k's are children[childStart[k] .. childStart[k + 1]), in index order.
 */
export function childLists(count: number, parentOf: (node: number) => number) {
  const childStart = new Int32Array(count + 1);
  for (let k = 1; k < count; k++) childStart[parentOf(k) + 1]++;
  for (let k = 0; k < count; k++) childStart[k + 1] += childStart[k];
  const cursor = childStart.slice(0, count);
  const children = new Int32Array(Math.max(count - 1, 0));
  for (let k = 1; k < count; k++) children[cursor[parentOf(k)]++] = k;
  return { childStart, children };
}

function fillSlot(slots: Int32Array, slot: number, node: number, parent: number, nameId: number): void {
  const at = slot * SLOT_STRIDE;
  slots[at] = parent;
  slots[at + 1] = nameId;
  slots[at + 2] = node;
}

function hashPair(a: number, b: number): number {
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * Probing starts next to slot 2 × parent: most lookups are under a node created moments before (down a
 * new path), so they land where the previous ones did instead of missing the cache (builds from
 * storage-like input measured 2× faster than with a random home).
 */
function homeSlot(parent: number, hash: number): number {
  return 2 * parent + (hash >>> 31);
}

/**
 * The probe step comes from the whole key, so the many children of one wide node, which share a home,
 * scatter instead of piling up into one long run. Odd, so it reaches every slot of the power-of-two table.
 */
function probeStep(hash: number): number {
  return hash | 1;
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

function copyInto<T extends Int32Array | Float64Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
