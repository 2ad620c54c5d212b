import { walkPreorder } from './binary.js';
import { decodeUtf8, type StackSink } from './text.js';

/**
 * The binary "trie" of old Pyroscope agents: a byte-level prefix trie over `a;b;c` strings. A node's
 * key is the concatenation of the names on its path, and every node with a value is a stack.
 */
export function parseTrie(body: Uint8Array, sink: StackSink): void {
  // A key is at most the sum of the names on its path, each of which is a distinct slice of the body.
  const key = new Uint8Array(body.length);
  const keyLengthAtDepth: number[] = [];
  walkPreorder(body, 'trie', (name, value, depth) => {
    const start = depth > 0 ? keyLengthAtDepth[depth - 1] : 0;
    key.set(name, start);
    keyLengthAtDepth[depth] = start + name.length;
    if (value > 0) sink(decodeUtf8(key.subarray(0, start + name.length)).split(';'), value);
  });
}
