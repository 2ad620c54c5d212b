import { ByteReader, closeFinished } from './binary.js';
import { decodeUtf8, type StackSink } from './text.js';

/**
 * The binary "tree" format: nodes in pre-order, each `uvarint nameLength, name, uvarint self,
 * uvarint childCount`, whose names are whole frames. Each top-level node is a root whose own name is not
 * a frame (agents send an empty one); every node with a self value is a stack.
 */
export function parseTree(body: Uint8Array, sink: StackSink): void {
  const reader = new ByteReader(body, 'tree');
  const path: string[] = []; // frames from below the root to the current node
  // Per open ancestor: its depth (0 for a root) and how many of its children are still to be read.
  const openDepth: number[] = [];
  const openChildren: number[] = [];
  while (!reader.done) {
    const depth = openDepth.length > 0 ? openDepth[openDepth.length - 1] + 1 : 0;
    const name = decodeUtf8(reader.take(reader.uvarint()));
    path.length = Math.max(depth - 1, 0);
    if (depth > 0) path.push(name);
    const self = reader.uvarint();
    const childCount = reader.uvarint();
    if (self > 0 && path.length > 0) sink(path.slice(), self);
    if (childCount > 0) {
      openDepth.push(depth);
      openChildren.push(childCount);
    }
    closeFinished(openDepth, openChildren);
  }
}
