/**
 * Small helpers for the Connect JSON query API (`POST /querier.v1.QuerierService/<Method>`,
 * `Content-Type: application/json`), as Pyroscope's own UI calls it. Times are ms since the epoch; int64
 * values come back as JSON strings and zero/empty fields may be omitted (pyroscope-api.md §2.1, §3.1).
 */

export class ConnectError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method}: HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

export interface TimeRange {
  start: number;
  end: number;
}

export async function connectJson<T>(baseUrl: string, method: string, request: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/querier.v1.QuerierService/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new ConnectError(method, res.status, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConnectError(method, res.status, `not JSON: ${text}`);
  }
}

export interface ProfileType {
  ID: string;
  name?: string;
  sampleType?: string;
  sampleUnit?: string;
  periodType?: string;
  periodUnit?: string;
}

export async function profileTypes(baseUrl: string, range: TimeRange): Promise<ProfileType[]> {
  const res = await connectJson<{ profileTypes?: ProfileType[] }>(baseUrl, 'ProfileTypes', range);
  return res.profileTypes ?? [];
}

export async function labelNames(
  baseUrl: string,
  req: TimeRange & { matchers?: string[] },
): Promise<string[]> {
  const res = await connectJson<{ names?: string[] }>(baseUrl, 'LabelNames', {
    matchers: req.matchers ?? [],
    start: req.start,
    end: req.end,
  });
  return res.names ?? [];
}

export async function labelValues(
  baseUrl: string,
  req: TimeRange & { name: string; matchers?: string[] },
): Promise<string[]> {
  const res = await connectJson<{ names?: string[] }>(baseUrl, 'LabelValues', {
    name: req.name,
    matchers: req.matchers ?? [],
    start: req.start,
    end: req.end,
  });
  return res.names ?? [];
}

/** `Series`: returns each label set as a plain object. */
export async function series(
  baseUrl: string,
  req: TimeRange & { matchers?: string[]; labelNames?: string[] },
): Promise<Array<Record<string, string>>> {
  const res = await connectJson<{ labelsSet?: Array<{ labels?: Array<{ name: string; value: string }> }> }>(
    baseUrl,
    'Series',
    { matchers: req.matchers ?? [], labelNames: req.labelNames ?? [], start: req.start, end: req.end },
  );
  return (res.labelsSet ?? []).map((ls) =>
    Object.fromEntries((ls.labels ?? []).map((l) => [l.name, l.value])),
  );
}

export interface FlameGraph {
  names: string[];
  /** Per level, the flat node quadruples [offset, total, self, nameIndex] (values as bigint). */
  levels: bigint[][];
  total: bigint;
  maxSelf: bigint;
}

type Int64Json = string | number | undefined;
const big = (v: Int64Json): bigint => (v === undefined ? 0n : BigInt(v));

/** `SelectMergeStacktraces`; returns undefined when the server answered without a flame graph (no data). */
export async function selectMergeStacktraces(
  baseUrl: string,
  req: TimeRange & { profileTypeID: string; labelSelector?: string; maxNodes?: number },
): Promise<FlameGraph | undefined> {
  const res = await connectJson<{
    flamegraph?: {
      names?: string[];
      levels?: Array<{ values?: Int64Json[] }>;
      total?: Int64Json;
      maxSelf?: Int64Json;
    };
  }>(baseUrl, 'SelectMergeStacktraces', {
    profileTypeID: req.profileTypeID,
    labelSelector: req.labelSelector ?? '{}',
    start: req.start,
    end: req.end,
    maxNodes: req.maxNodes ?? 65536,
  });
  const fg = res.flamegraph;
  if (!fg) return undefined;
  return {
    names: fg.names ?? [],
    levels: (fg.levels ?? []).map((l) => (l.values ?? []).map(big)),
    total: big(fg.total),
    maxSelf: big(fg.maxSelf),
  };
}

/** Self value per function name in a flame graph (summed over all nodes of that name, `total` excluded). */
export function flameGraphSelfByName(fg: FlameGraph): Map<string, bigint> {
  const out = new Map<string, bigint>();
  fg.levels.forEach((level, depth) => {
    for (let i = 0; i + 3 < level.length; i += 4) {
      if (depth === 0) continue; // the root node "total"
      const self = level[i + 2] as bigint;
      const name = fg.names[Number(level[i + 3])] ?? `<name ${level[i + 3]}>`;
      if (self !== 0n) out.set(name, (out.get(name) ?? 0n) + self);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// SelectMergeProfile over binary Connect (`application/proto`): the answer body is the merged pprof itself.

function pbVarint(out: number[], v: bigint): void {
  if (v < 0n) v = BigInt.asUintN(64, v); // int64: negative values take ten bytes (two's complement)
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
}

function pbString(out: number[], field: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  pbVarint(out, BigInt((field << 3) | 2));
  pbVarint(out, BigInt(bytes.length));
  out.push(...bytes);
}

function pbInt64(out: number[], field: number, v: bigint): void {
  pbVarint(out, BigInt(field << 3)); // wire type 0
  pbVarint(out, v);
}

/**
 * `querier.v1.SelectMergeProfileRequest` encoded by hand: profile_typeID = 1 (string), label_selector = 2
 * (string), start = 3 and end = 4 (int64 varints, ms). Zero/empty fields are omitted, as proto3 does.
 */
export function encodeSelectMergeProfileRequest(
  req: TimeRange & { profileTypeID: string; labelSelector: string },
): Uint8Array {
  const out: number[] = [];
  if (req.profileTypeID) pbString(out, 1, req.profileTypeID);
  if (req.labelSelector) pbString(out, 2, req.labelSelector);
  if (req.start) pbInt64(out, 3, BigInt(req.start));
  if (req.end) pbInt64(out, 4, BigInt(req.end));
  return Uint8Array.from(out);
}

/**
 * `SelectMergeProfile` with `Content-Type: application/proto`; returns the response body, a serialized
 * `google.v1.Profile` (= pprof `Profile`, not gzipped). An empty body is a valid answer (empty profile).
 */
export async function selectMergeProfilePprof(
  baseUrl: string,
  req: TimeRange & { profileTypeID: string; labelSelector: string },
): Promise<Buffer> {
  const res = await fetch(`${baseUrl}/querier.v1.QuerierService/SelectMergeProfile`, {
    method: 'POST',
    headers: { 'content-type': 'application/proto', 'connect-protocol-version': '1' },
    body: encodeSelectMergeProfileRequest(req),
    signal: AbortSignal.timeout(30_000),
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new ConnectError('SelectMergeProfile', res.status, body.toString('utf8'));
  const ct = res.headers.get('content-type') ?? '';
  if (ct !== 'application/proto')
    throw new ConnectError('SelectMergeProfile', res.status, `content-type ${ct}: ${body.toString('utf8')}`);
  return body;
}

// ---------------------------------------------------------------------------------------------------------
// Flame graph decoding

export interface FlameGraphNode {
  depth: number;
  /** Absolute x offset (the encoding stores it delta-encoded per level). */
  x: bigint;
  total: bigint;
  self: bigint;
  name: string;
  /** The node on the previous level whose range [x, x + total) contains this one; undefined for the root. */
  parent?: FlameGraphNode;
}

/**
 * Decodes flame graph levels into nodes with absolute x and parent links. Each level holds quadruples
 * `[xDelta, total, self, nameIndex]` with `x = xDelta + (previous node's x + total)` on the same level
 * (0 for the first node). A node's parent is the node on the level above whose range contains it;
 * children sit to the right of their parent's self, i.e. in [parent.x + parent.self, parent.x + parent.total).
 * Throws if the levels are not a well-formed tree.
 */
export function flameGraphNodes(fg: FlameGraph): FlameGraphNode[][] {
  const levels: FlameGraphNode[][] = [];
  fg.levels.forEach((values, depth) => {
    if (values.length % 4 !== 0) throw new Error(`flame graph level ${depth}: ${values.length} values`);
    const level: FlameGraphNode[] = [];
    const above = levels[depth - 1] ?? [];
    let end = 0n; // previous node's x + total
    let p = 0; // index into `above` of the candidate parent
    for (let i = 0; i < values.length; i += 4) {
      const [delta, total, self, nameIndex] = values.slice(i, i + 4) as [bigint, bigint, bigint, bigint];
      const name = fg.names[Number(nameIndex)];
      if (name === undefined)
        throw new Error(`flame graph level ${depth}: name index ${nameIndex} out of range`);
      const node: FlameGraphNode = { depth, x: end + delta, total, self, name };
      end = node.x + total;
      if (depth > 0) {
        // nodes on both levels are in x order: advance to the first parent that ends at or after this node
        while (p < above.length && (above[p] as FlameGraphNode).x + (above[p] as FlameGraphNode).total < end)
          p++;
        const parent = above[p];
        if (!parent || node.x < parent.x + parent.self)
          throw new Error(
            `flame graph level ${depth}: node ${name} at x=${node.x} has no parent containing it`,
          );
        node.parent = parent;
      }
      level.push(node);
    }
    levels.push(level);
  });
  return levels;
}

export interface FunctionTotals {
  self: bigint;
  total: bigint;
}

/**
 * Per-function self and total from a flame graph, the way `go tool pprof -top` computes flat and cum:
 * self = sum of the self of every node of that name; total = sum of the total of the nodes of that name
 * that have no ancestor of the same name (so a stack with recursion counts once, as pprof's cum does).
 * The root node (depth 0, "total") is not a function and is left out.
 */
export function flameGraphFunctionTotals(fg: FlameGraph): Map<string, FunctionTotals> {
  const out = new Map<string, FunctionTotals>();
  for (const level of flameGraphNodes(fg).slice(1)) {
    for (const node of level) {
      let row = out.get(node.name);
      if (!row) {
        row = { self: 0n, total: 0n };
        out.set(node.name, row);
      }
      row.self += node.self;
      let outermost = true;
      for (let a = node.parent; a && a.depth > 0; a = a.parent) {
        if (a.name === node.name) {
          outermost = false;
          break;
        }
      }
      if (outermost) row.total += node.total;
    }
  }
  return out;
}
