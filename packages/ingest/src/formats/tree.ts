import { walkPreorder } from './binary.js';
import { decodeUtf8, type StackSink } from './text.js';

/**
 * The binary "tree" format, whose node names are whole frames and whose node values are self values.
 * Each top-level node is a root whose own name is not a frame (agents send an empty one).
 */
export function parseTree(body: Uint8Array, sink: StackSink): void {
  const path: string[] = []; // frames from below the root down to the current node
  walkPreorder(body, 'tree', (name, self, depth) => {
    if (depth === 0) return;
    path.length = depth - 1;
    path.push(decodeUtf8(name));
    if (self > 0) sink(path.slice(), self);
  });
}
