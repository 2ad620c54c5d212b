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
