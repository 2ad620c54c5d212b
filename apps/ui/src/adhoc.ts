import { diffRows } from '@emberscope/model';
import type { DiffTableData } from './diff-table.js';
import type { Flamebearer, FlameTree } from './flamebearer.js';
import { functionTable } from './table-data.js';

/**
 * Ad-hoc mode: files dropped on the page are turned into a flamebearer in the browser and never sent anywhere.
 * Supported: pprof (`.pb` or `.pb.gz`, the gzip is undone by the caller), collapsed/folded text
 * (`a;b;c 42` per line, root first) and speedscope JSON (speedscope.ts); adhoc-files.ts tells them apart.
 */

/** One stack, root first, and its value. */
export type Stack = readonly [readonly string[], number];

/** A decoded file: its stacks, what they measure and in which unit (as format.ts understands it). */
export interface AdhocProfile {
  type: string;
  unit: string;
  stacks: Stack[];
}

const NS_PER: Record<string, number> = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 };

/** The profile in nanoseconds when it is in another duration unit; undefined when its unit is not a duration. */
export function inNanoseconds(p: AdhocProfile): AdhocProfile | undefined {
  const scale = NS_PER[p.unit];
  if (scale === undefined) return undefined;
  if (scale === 1) return p;
  return { ...p, unit: 'nanoseconds', stacks: p.stacks.map(([s, v]) => [s, v * scale] as const) };
}

/** Merges stacks (root first) into a tree and encodes it as flamebearer levels, children sorted by name. */
export function stacksToFlamebearer(stacks: Iterable<Stack>): Flamebearer {
  interface Node {
    name: number;
    total: number;
    self: number;
    children: Map<number, Node>;
  }
  const names = ['total'];
  const index = new Map<string, number>([['total', 0]]);
  const nameIndex = (s: string) => {
    let i = index.get(s);
    if (i === undefined) {
      i = names.length;
      names.push(s);
      index.set(s, i);
    }
    return i;
  };
  const root: Node = { name: 0, total: 0, self: 0, children: new Map() };
  for (const [stack, value] of stacks) {
    if (!(value > 0)) continue;
    let node = root;
    root.total += value;
    for (const frame of stack) {
      const n = nameIndex(frame);
      let child = node.children.get(n);
      if (!child) {
        child = { name: n, total: 0, self: 0, children: new Map() };
        node.children.set(n, child);
      }
      child.total += value;
      node = child;
    }
    if (node !== root) node.self += value;
  }
  const levels: number[][] = [];
  let maxSelf = 0;
  let frontier: Array<{ node: Node; x: number }> = root.total > 0 ? [{ node: root, x: 0 }] : [];
  while (frontier.length > 0) {
    const row: number[] = [];
    const next: Array<{ node: Node; x: number }> = [];
    let prevEnd = 0;
    for (const { node, x } of frontier) {
      row.push(x - prevEnd, node.total, node.self, node.name);
      prevEnd = x + node.total;
      if (node.self > maxSelf) maxSelf = node.self;
      let cx = x + node.self;
      const kids = [...node.children.values()].sort((a, b) =>
        names[a.name] < names[b.name] ? -1 : names[a.name] > names[b.name] ? 1 : 0,
      );
      for (const k of kids) {
        next.push({ node: k, x: cx });
        cx += k.total;
      }
    }
    levels.push(row);
    frontier = next;
  }
  return { names, levels, numTicks: root.total, maxSelf };
}

export class AdhocError extends Error {}

/** Collapsed ("folded") stacks: `frame;frame;frame <count>` per line; blank lines and `#` comments ignored. */
export function parseCollapsed(text: string): Flamebearer {
  return stacksToFlamebearer(collapsedStacks(text));
}

export function collapsedStacks(text: string): Stack[] {
  const stacks: Stack[] = [];
  for (const [k, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(.*\S)\s+(\d+(?:\.\d+)?)$/.exec(line);
    if (!m) throw new AdhocError(`line ${k + 1} is not "stack count": ${line.slice(0, 80)}`);
    stacks.push([m[1].split(';'), Number(m[2])]);
  }
  return stacks;
}

/** A protobuf reader just large enough for pprof's Profile message. */
class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new AdhocError('truncated protobuf varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  }
  /** Field number and wire type, or undefined at the end. */
  tag(): [number, number] | undefined {
    if (this.pos >= this.end) return undefined;
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }
  sub(): Reader {
    const len = this.varint();
    const r = new Reader(this.buf, this.pos + len);
    r.pos = this.pos;
    if (r.end > this.end) throw new AdhocError('truncated protobuf message');
    this.pos += len;
    return r;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      // Not `this.pos += this.varint()`: that reads pos before varint() advances it.
      const len = this.varint();
      this.pos += len;
    } else if (wire === 5) this.pos += 4;
    else throw new AdhocError(`unsupported protobuf wire type ${wire}`);
  }
  /** A repeated varint field, packed or not. */
  repeated(wire: number, out: number[]): void {
    if (wire === 2) {
      const r = this.sub();
      while (r.pos < r.end) out.push(r.varint());
    } else out.push(this.varint());
  }
}

export interface PprofFile {
  /** One flamebearer per sample type (`cpu/nanoseconds`, `alloc_space/bytes`, …). */
  sampleTypes: Array<{ type: string; unit: string }>;
  stacks(sampleIndex: number): Stack[];
  flamebearer(sampleIndex: number): Flamebearer;
}

/** Decodes an uncompressed pprof Profile. */
export function parsePprof(bytes: Uint8Array): PprofFile {
  const r = new Reader(bytes);
  const strings: string[] = [];
  const sampleTypes: Array<[number, number]> = [];
  const samples: Array<{ locations: number[]; values: number[] }> = [];
  const locations = new Map<number, number[]>(); // id → function ids, innermost first
  const functions = new Map<number, number>(); // id → name string index
  const decoder = new TextDecoder();
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t;
    if (field === 1 && wire === 2) {
      const m = r.sub();
      let type = 0;
      let unit = 0;
      for (let u = m.tag(); u; u = m.tag()) {
        if (u[0] === 1) type = m.varint();
        else if (u[0] === 2) unit = m.varint();
        else m.skip(u[1]);
      }
      sampleTypes.push([type, unit]);
    } else if (field === 2 && wire === 2) {
      const m = r.sub();
      const s = { locations: [] as number[], values: [] as number[] };
      for (let u = m.tag(); u; u = m.tag()) {
        if (u[0] === 1) m.repeated(u[1], s.locations);
        else if (u[0] === 2) m.repeated(u[1], s.values);
        else m.skip(u[1]);
      }
      samples.push(s);
    } else if (field === 4 && wire === 2) {
      const m = r.sub();
      let id = 0;
      const fns: number[] = [];
      for (let u = m.tag(); u; u = m.tag()) {
        if (u[0] === 1) id = m.varint();
        else if (u[0] === 4 && u[1] === 2) {
          const line = m.sub();
          for (let v = line.tag(); v; v = line.tag()) {
            if (v[0] === 1) fns.push(line.varint());
            else line.skip(v[1]);
          }
        } else m.skip(u[1]);
      }
      locations.set(id, fns);
    } else if (field === 5 && wire === 2) {
      const m = r.sub();
      let id = 0;
      let name = 0;
      for (let u = m.tag(); u; u = m.tag()) {
        if (u[0] === 1) id = m.varint();
        else if (u[0] === 2) name = m.varint();
        else m.skip(u[1]);
      }
      functions.set(id, name);
    } else if (field === 6 && wire === 2) {
      const len = r.varint();
      strings.push(decoder.decode(bytes.subarray(r.pos, r.pos + len)));
      r.pos += len;
    } else r.skip(wire);
  }
  if (sampleTypes.length === 0) throw new AdhocError('not a pprof profile: no sample types');
  const nameOf = (fnId: number) => strings[functions.get(fnId) ?? 0] || `0x${fnId.toString(16)}`;
  // Root-first frames per sample: locations are leaf first, and a location's lines innermost first.
  const stacks = samples.map((s) => {
    const frames: string[] = [];
    for (let k = s.locations.length - 1; k >= 0; k--) {
      const fns = locations.get(s.locations[k]) ?? [];
      for (let j = fns.length - 1; j >= 0; j--) frames.push(nameOf(fns[j]));
    }
    return { frames, values: s.values };
  });
  const stacksOf = (i: number) => stacks.map((s) => [s.frames, s.values[i] ?? 0] as const);
  return {
    sampleTypes: sampleTypes.map(([t, u]) => ({ type: strings[t] ?? '', unit: strings[u] ?? '' })),
    stacks: stacksOf,
    flamebearer: (i) => stacksToFlamebearer(stacksOf(i)),
  };
}

/** Two files' stacks as one diff flamebearer (diff.ts's 7-number encoding), computed in the browser. */
export interface AdhocDiff {
  flamebearer: Flamebearer;
  leftTicks: number;
  rightTicks: number;
  /** The unit both sides are in (durations in different units are compared in nanoseconds). */
  unit: string;
}

/** Both profiles in one unit, or an AdhocError saying why they cannot be compared. */
export function commonUnit(left: AdhocProfile, right: AdhocProfile): [AdhocProfile, AdhocProfile] {
  if (left.unit === right.unit) return [left, right];
  const l = inNanoseconds(left);
  const r = inNanoseconds(right);
  if (l && r) return [l, r];
  throw new AdhocError(
    `cannot compare files in different units: the baseline is in ${left.unit} (${left.type}), the comparison in ${right.unit} (${right.type})`,
  );
}

/**
 * The diff of baseline (left) and comparison (right): one node per call path present on either side, children
 * sorted by name, each side laid out on its own axis as the server's `/pyroscope/render-diff` does.
 */
export function diffProfiles(baseline: AdhocProfile, comparison: AdhocProfile): AdhocDiff {
  const [left, right] = commonUnit(baseline, comparison);
  interface Node {
    name: number;
    total: [number, number];
    self: [number, number];
    children: Map<number, Node>;
  }
  const names = ['total'];
  const index = new Map<string, number>([['total', 0]]);
  const newNode = (name: number): Node => ({ name, total: [0, 0], self: [0, 0], children: new Map() });
  const root = newNode(0);
  for (const [side, p] of [left, right].entries())
    for (const [stack, value] of p.stacks) {
      if (!(value > 0)) continue;
      let node = root;
      root.total[side] += value;
      for (const frame of stack) {
        let n = index.get(frame);
        if (n === undefined) {
          n = names.length;
          names.push(frame);
          index.set(frame, n);
        }
        let child = node.children.get(n);
        if (!child) {
          child = newNode(n);
          node.children.set(n, child);
        }
        child.total[side] += value;
        node = child;
      }
      if (node !== root) node.self[side] += value;
    }
  const levels: number[][] = [];
  let maxSelf = 0;
  type At = { node: Node; lx: number; rx: number };
  let frontier: At[] = root.total[0] + root.total[1] > 0 ? [{ node: root, lx: 0, rx: 0 }] : [];
  while (frontier.length > 0) {
    const row: number[] = [];
    const next: At[] = [];
    let lEnd = 0;
    let rEnd = 0;
    for (const { node, lx, rx } of frontier) {
      const [lt, rt] = node.total;
      const [ls, rs] = node.self;
      row.push(lx - lEnd, lt, ls, rx - rEnd, rt, rs, node.name);
      lEnd = lx + lt;
      rEnd = rx + rt;
      maxSelf = Math.max(maxSelf, ls, rs);
      let clx = lx + ls;
      let crx = rx + rs;
      const kids = [...node.children.values()].sort((a, b) =>
        names[a.name] < names[b.name] ? -1 : names[a.name] > names[b.name] ? 1 : 0,
      );
      for (const k of kids) {
        next.push({ node: k, lx: clx, rx: crx });
        clx += k.total[0];
        crx += k.total[1];
      }
    }
    levels.push(row);
    frontier = next;
  }
  const [leftTicks, rightTicks] = root.total;
  return {
    flamebearer: { names, levels, numTicks: leftTicks + rightTicks, maxSelf },
    leftTicks,
    rightTicks,
    unit: left.unit,
  };
}

/**
 * The diff table of two files, computed as the server's `/api/v1/diff-table` does (packages/model `diffTable`):
 * per function, its total on each side with recursion counted once, as a share of each side's total unless
 * `absolute`; biggest change first.
 */
export function adhocDiffTable(left: FlameTree, right: FlameTree, absolute: boolean): DiffTableData {
  const totals = (tree: FlameTree) =>
    functionTable(tree).map((f) => ({ name: tree.names[f.name], self: f.self, total: f.total }));
  const leftTicks = left.count > 0 ? left.total[0] : 0;
  const rightTicks = right.count > 0 ? right.total[0] : 0;
  const rows = diffRows(totals(left), totals(right), leftTicks, rightTicks, { normalize: !absolute });
  return { rows, count: rows.length, leftTicks, rightTicks, normalized: !absolute };
}
