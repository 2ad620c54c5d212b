/**
 * The server's HTTP APIs, and only those: the UI never reads storage. Connect JSON for metadata and series
 * (times in ms, int64 as strings), `/pyroscope/render` for flame graphs (flamebearer JSON). Every request goes
 * through `apiFetch` (http.ts), which adds the credentials and turns error answers into `ApiError`s.
 */
import { encodeSelectMergeProfileRequest } from '../src/exports.js';
import type { Flamebearer } from '../src/flamebearer.js';
import { splitQuery } from '../src/selector.js';
import { parseTargets, type TargetHealth } from '../src/targets.js';
import { ApiError, apiFetch } from './http.js';

export { ApiError };

async function connect<T>(method: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await apiFetch(`/querier.v1.QuerierService/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  return res.json() as Promise<T>;
}

export interface Label {
  name: string;
  value: string;
}

export async function profileTypes(startMs: number, endMs: number, signal?: AbortSignal): Promise<string[]> {
  const r = await connect<{ profileTypes?: Array<{ ID: string }> }>(
    'ProfileTypes',
    { start: startMs, end: endMs },
    signal,
  );
  return (r.profileTypes ?? []).map((t) => t.ID);
}

/** Every (service, profile type) pair with data in the range. */
export async function servicesAndTypes(
  startMs: number,
  endMs: number,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const r = await connect<{ labelsSet?: Array<{ labels?: Label[] }> }>(
    'Series',
    { start: startMs, end: endMs, labelNames: ['service_name', '__profile_type__'] },
    signal,
  );
  const out = new Map<string, string[]>();
  for (const set of r.labelsSet ?? []) {
    const labels = set.labels ?? [];
    const service = labels.find((l) => l.name === 'service_name')?.value ?? '';
    const type = labels.find((l) => l.name === '__profile_type__')?.value;
    if (!type) continue;
    const list = out.get(service) ?? [];
    if (!list.includes(type)) list.push(type);
    out.set(service, list);
  }
  return out;
}

export async function labelNames(selector: string, startMs: number, endMs: number): Promise<string[]> {
  const r = await connect<{ names?: string[] }>('LabelNames', {
    matchers: [selector],
    start: startMs,
    end: endMs,
  });
  return (r.names ?? []).filter((n) => !n.startsWith('__'));
}

export async function labelValues(
  name: string,
  selector: string,
  startMs: number,
  endMs: number,
): Promise<string[]> {
  const r = await connect<{ names?: string[] }>('LabelValues', {
    name,
    matchers: [selector],
    start: startMs,
    end: endMs,
  });
  return r.names ?? [];
}

export interface SeriesPoints {
  timestampsMs: number[];
  values: number[];
}

export async function selectSeries(
  profileTypeId: string,
  selector: string,
  startMs: number,
  endMs: number,
  stepSeconds: number,
  signal?: AbortSignal,
): Promise<SeriesPoints> {
  const r = await connect<{ series?: Array<{ points?: Array<{ value?: number; timestamp: string }> }> }>(
    'SelectSeries',
    {
      profileTypeID: profileTypeId,
      labelSelector: selector,
      // int64 on the wire: whole milliseconds only.
      start: Math.floor(startMs),
      end: Math.ceil(endMs),
      step: stepSeconds,
    },
    signal,
  );
  // Without groupBy there is at most one series; sum defensively.
  const sums = new Map<number, number>();
  for (const s of r.series ?? [])
    for (const p of s.points ?? []) {
      const t = Number(p.timestamp);
      sums.set(t, (sums.get(t) ?? 0) + (p.value ?? 0));
    }
  const timestampsMs = [...sums.keys()].sort((a, b) => a - b);
  return { timestampsMs, values: timestampsMs.map((t) => sums.get(t) ?? 0) };
}

export interface RenderResponse {
  flamebearer: Flamebearer;
  metadata: { units: string; name: string; sampleRate: number };
}

export interface RenderParams {
  query: string;
  fromMs: number;
  untilMs: number;
  maxNodes: number;
}

export function renderUrl(
  p: RenderParams,
  extra: Record<string, string> = {},
  path = '/pyroscope/render',
): string {
  const q = new URLSearchParams({
    query: p.query,
    from: String(p.fromMs),
    until: String(p.untilMs),
    maxNodes: String(p.maxNodes),
    ...extra,
  });
  return `${path}?${q}`;
}

export interface SandwichResponse {
  callers: RenderResponse;
  callees: RenderResponse;
}

/** Callers (root → function → its callers) and callees (root → function → its callees) of one function. */
export async function sandwich(p: RenderParams, fn: string, signal?: AbortSignal): Promise<SandwichResponse> {
  const res = await apiFetch(renderUrl(p, { sandwich: fn }), { signal });
  return res.json() as Promise<SandwichResponse>;
}

export async function render(p: RenderParams, signal?: AbortSignal): Promise<RenderResponse> {
  const res = await apiFetch(renderUrl(p), { signal });
  return res.json() as Promise<RenderResponse>;
}

/** The flame graph of the subtree at `focus` (`a;b;c`, root first), computed by the server before the maxNodes cut. */
export async function renderFocused(
  p: RenderParams,
  focus: string,
  signal?: AbortSignal,
): Promise<RenderResponse> {
  const res = await apiFetch(renderUrl(p, { focus }), { signal });
  return res.json() as Promise<RenderResponse>;
}

/**
 * The standalone HTML export of the original Pyroscope `/render`, which names a query `<service>.<suffix>{…}`
 * (OG application names); undefined for profile types without a well-known suffix.
 */
export function htmlExportUrl(p: RenderParams, service: string, otherMatchers: string): string | undefined {
  const [name, sampleType] = p.query.split(':');
  const suffix = OG_SUFFIX[`${name}:${sampleType}`];
  if (!suffix || !service) return undefined;
  return renderUrl({ ...p, query: `${service}.${suffix}${otherMatchers}` }, { format: 'html' }, '/render');
}

const OG_SUFFIX: Record<string, string> = {
  'process_cpu:cpu': 'cpu',
  'wall:wall': 'wall',
  'memory:alloc_objects': 'alloc_objects',
  'memory:alloc_space': 'alloc_space',
  'memory:inuse_objects': 'inuse_objects',
  'memory:inuse_space': 'inuse_space',
  'goroutines:goroutine': 'goroutines',
  'goroutine:goroutine': 'goroutines',
  'mutex:contentions': 'mutex_count',
  'mutex:delay': 'mutex_duration',
  'block:contentions': 'block_count',
  'block:delay': 'block_duration',
};

/** The standalone HTML page of a `htmlExportUrl`, fetched with the credentials (a plain link would not send them). */
export async function htmlExport(url: string): Promise<Blob> {
  const res = await apiFetch(url);
  return res.blob();
}

/** The merged profile of `query` over the range, untruncated (SelectMergeProfile), gzipped as pprof files are. */
export async function mergedPprof(query: string, startMs: number, endMs: number): Promise<Blob> {
  const { profileType, selector } = splitQuery(query);
  const res = await apiFetch('/querier.v1.QuerierService/SelectMergeProfile', {
    method: 'POST',
    headers: { 'content-type': 'application/proto' },
    body: encodeSelectMergeProfileRequest(profileType, selector, startMs, endMs) as BodyInit,
  });
  const raw = res.body;
  if (!raw) throw new ApiError('empty SelectMergeProfile answer', res.status);
  return new Response(raw.pipeThrough(new CompressionStream('gzip'))).blob();
}

export interface DiffResponse {
  flamebearer: Flamebearer;
  leftTicks: number;
  rightTicks: number;
}

/** One side of a comparison: a query over a range. */
export interface SideQuery {
  query: string;
  fromMs: number;
  untilMs: number;
}

function sidesParams(left: SideQuery, right: SideQuery): URLSearchParams {
  return new URLSearchParams({
    leftQuery: left.query,
    leftFrom: String(left.fromMs),
    leftUntil: String(left.untilMs),
    rightQuery: right.query,
    rightFrom: String(right.fromMs),
    rightUntil: String(right.untilMs),
  });
}

/** The diff flame graph of two queries (left = baseline, right = comparison). */
export async function renderDiff(
  left: SideQuery,
  right: SideQuery,
  maxNodes: number,
  signal?: AbortSignal,
): Promise<DiffResponse> {
  const q = sidesParams(left, right);
  q.set('maxNodes', String(maxNodes));
  const res = await apiFetch(`/pyroscope/render-diff?${q}`, { signal });
  return res.json() as Promise<DiffResponse>;
}

/** `GET /api/v1/diff-table`: per-function baseline, comparison and change (see src/diff-table.ts). */
export async function diffTable(
  left: SideQuery,
  right: SideQuery,
  absolute: boolean,
  limit: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const q = sidesParams(left, right);
  if (absolute) q.set('absolute', 'true');
  q.set('limit', String(limit));
  const res = await apiFetch(`/api/v1/diff-table?${q}`, { signal });
  return res.json();
}

/** One series per value of `groupBy` (series without the label are keyed ""). */
export async function selectSeriesByLabel(
  profileTypeId: string,
  selector: string,
  startMs: number,
  endMs: number,
  stepSeconds: number,
  groupBy: string,
): Promise<Array<{ value: string; timestampsMs: number[]; values: number[] }>> {
  const r = await connect<{
    series?: Array<{ labels?: Label[]; points?: Array<{ value?: number; timestamp: string }> }>;
  }>('SelectSeries', {
    profileTypeID: profileTypeId,
    labelSelector: selector,
    start: Math.floor(startMs),
    end: Math.ceil(endMs),
    step: stepSeconds,
    groupBy: [groupBy],
  });
  return (r.series ?? []).map((s) => ({
    value: s.labels?.find((l) => l.name === groupBy)?.value ?? '',
    timestampsMs: (s.points ?? []).map((p) => Number(p.timestamp)),
    values: (s.points ?? []).map((p) => p.value ?? 0),
  }));
}

/** The pull-mode targets and their health, per profile type (`GET /api/v1/targets`). */
export async function targets(signal?: AbortSignal): Promise<TargetHealth[]> {
  const res = await apiFetch('/api/v1/targets', { signal, cache: 'no-store' });
  return parseTargets(await res.json());
}
