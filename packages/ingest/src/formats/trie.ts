import { ByteReader, closeFinished } from './binary.js';
import { decodeUtf8, type StackSink } from './text.js';

/**
 * The binary "trie" of old Pyroscope agents: nodes in pre-order, each `uvarint nameLength, name,
 * uvarint value, uvarint childCount`. It is a byte-level prefix trie over `a;b;c` strings: a node's key
 * is the concatenation of the names on its path, and every node with a value is a stack. Consecutive
 * top-level nodes are all read. Iterative, so deep tries cannot overflow the call stack.
 */
export function parseTrie(body: Uint8Array, sink: StackSink): void {
  const reader = new ByteReader(body, 'trie');
  // A key is at most the sum of the names on its path, each of which is a distinct slice of the body.
  const key = new Uint8Array(body.length);
  // Per open ancestor: the length of its key and how many of its children are still to be read.
  const openKeyLength: number[] = [];
  const openChildren: number[] = [];
  while (!reader.done) {
    const parentKeyLength = openKeyLength.length > 0 ? openKeyLength[openKeyLength.length - 1] : 0;
    const name = reader.take(reader.uvarint());
    key.set(name, parentKeyLength);
    const keyLength = parentKeyLength + name.length;
    const value = reader.uvarint();
    const childCount = reader.uvarint();
    if (value > 0) sink(decodeUtf8(key.subarray(0, keyLength)).split(';'), value);
    if (childCount > 0) {
      openKeyLength.push(keyLength);
      openChildren.push(childCount);
    }
    closeFinished(openKeyLength, openChildren);
  }
}
