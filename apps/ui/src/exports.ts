import type { FlameTree } from './flamebearer.js';
import { isOtherNode } from './flamebearer.js';

/**
 * Exports computed on the client or requested over the v1 API (so they use the same query as the view, never a
 * third party): the merged pprof from `SelectMergeProfile` over binary Connect, and collapsed ("folded") text from
 * the flame graph on screen.
 */

function varint(out: number[], value: number): void {
  // Non-negative integers up to 2^53: split with division, since bitwise operators truncate to 32 bits.
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function stringField(out: number[], field: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  varint(out, (field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/**
 * `querier.v1.SelectMergeProfileRequest` in protobuf wire format: profile_typeID = 1, label_selector = 2,
 * start = 3 and end = 4 (int64 milliseconds).
 */
export function encodeSelectMergeProfileRequest(
  profileTypeId: string,
  labelSelector: string,
  startMs: number,
  endMs: number,
): Uint8Array {
  const out: number[] = [];
  stringField(out, 1, profileTypeId);
  stringField(out, 2, labelSelector);
  varint(out, 3 << 3);
  varint(out, startMs);
  varint(out, 4 << 3);
  varint(out, endMs);
  return Uint8Array.from(out);
}

/**
 * Collapsed stacks (`a;b;c 42` per line, root first) of the tree on screen; the server's "other" buckets are
 * written as `…;other` so the totals still add up.
 */
export function toCollapsed(tree: FlameTree): string {
  const lines: string[] = [];
  const path: string[] = [];
  if (tree.count === 0) return '';
  const stack: number[] = [0];
  while (stack.length > 0) {
    const entry = stack.pop() as number;
    if (entry < 0) {
      path.pop();
      continue;
    }
    const i = entry;
    if (tree.level[i] > 0) {
      path.push(isOtherNode(tree, i) ? 'other' : tree.names[tree.name[i]]);
      stack.push(~i);
      if (tree.self[i] > 0) lines.push(`${path.join(';')} ${tree.self[i]}`);
    }
    for (let c = tree.childEnd[i] - 1; c >= tree.firstChild[i] && c >= 0; c--) stack.push(c);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
