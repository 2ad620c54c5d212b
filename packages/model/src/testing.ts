import type { StackValues } from './stacks.js';

/**
 * Builds the stack tree of folded lines (`main;handler;encode 42`, root first, value after the last
 * space), with one single-frame location per function name. Equal stacks add up. Meant for tests and
 * benchmarks.
 */
export function stackValuesFromFolded(lines: readonly string[]): StackValues {
  const names: string[] = [];
  const locationOf = new Map<string, number>();
  const parent: number[] = [];
  const location: number[] = [];
  const values: number[] = [];
  const nodeOf = new Map<string, number>();
  for (const line of lines) {
    const folded = line.trim();
    if (folded === '') continue;
    const separator = folded.lastIndexOf(' ');
    const value = Number(folded.slice(separator + 1));
    if (separator < 0 || !Number.isFinite(value)) throw new Error(`folded line without a value: ${line}`);
    let node = -1;
    for (const frame of folded.slice(0, separator).split(';')) {
      let loc = locationOf.get(frame);
      if (loc === undefined) {
        loc = names.push(frame) - 1;
        locationOf.set(frame, loc);
      }
      const key = `${node}:${loc}`;
      let child = nodeOf.get(key);
      if (child === undefined) {
        child = parent.push(node) - 1;
        location.push(loc);
        values.push(0);
        nodeOf.set(key, child);
      }
      node = child;
    }
    values[node] += value;
  }
  return {
    parent: Int32Array.from(parent),
    location: Int32Array.from(location),
    values: Float64Array.from(values),
    locFrameStart: Uint32Array.from({ length: names.length + 1 }, (_, i) => i),
    locFrameName: Uint32Array.from(names.keys()),
    names,
  };
}
