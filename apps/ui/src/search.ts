import type { FlameTree } from './flamebearer.js';

/** Search: substring (case-insensitive) by default, or a regular expression. */
export interface SearchSpec {
  text: string;
  regex: boolean;
}

export type NameMatcher = (name: string) => boolean;

/** A matcher, or an error message for an invalid regex; undefined for an empty search. */
export function compileSearch(spec: SearchSpec): NameMatcher | { error: string } | undefined {
  if (spec.text === '') return undefined;
  if (spec.regex) {
    try {
      const re = new RegExp(spec.text, 'i');
      return (name) => re.test(name);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  const needle = spec.text.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

/** The exact-function search a table row click sets: an anchored, escaped regex. */
export function exactSearch(name: string): SearchSpec {
  return { text: `^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, regex: true };
}

/** Match per *name* (names are fewer than nodes): 1 where the function name matches. */
export function matchNames(names: readonly string[], matcher: NameMatcher): Uint8Array {
  const out = new Uint8Array(names.length);
  for (let i = 0; i < names.length; i++) if (matcher(names[i])) out[i] = 1;
  return out;
}

/**
 * The share of the profile under matching frames: the sum of the totals of matching nodes that have no matching
 * ancestor (so recursion and nested matches are counted once), within the subtree of `root`.
 */
export function matchedTicks(tree: FlameTree, nameMatches: Uint8Array, root = 0): number {
  if (tree.count === 0) return 0;
  const covered = new Uint8Array(tree.count);
  const lo = tree.start[root];
  const hi = lo + tree.total[root];
  let sum = 0;
  for (let i = root; i < tree.count; i++) {
    if (tree.level[i] < tree.level[root] || tree.start[i] < lo || tree.start[i] >= hi) continue;
    if (i !== root && tree.total[i] === 0) continue;
    const p = tree.parent[i];
    const parentCovered = i !== root && p >= 0 && covered[p] === 1;
    if (parentCovered) covered[i] = 1;
    else if (nameMatches[tree.name[i]] === 1) {
      covered[i] = 1;
      sum += tree.total[i];
    }
  }
  return sum;
}
