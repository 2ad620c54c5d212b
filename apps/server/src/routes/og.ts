import { ApiError } from '@emberscope/api';
import {
  createMatcher,
  escapeHtml,
  type FlamebearerMetadata,
  type FlameGraph,
  flamebearerMetadata,
  LabelName,
  labelValue,
  type Matcher,
  parseProfileType,
  parseQuery,
  renderHtml,
  type StackValues,
  toFlamebearer,
} from '@emberscope/model';
import { encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import type { TimeRange } from '@emberscope/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { ogName, ogSuffixes, resolveOgSuffix, splitOgName } from '../og-names.js';
import { metadataRange, type ProfileQuery } from '../query.js';
import { STANDALONE_PAGE_CSP } from '../security-headers.js';
import { badRequest, maxNodesParam, negativeValuesAreBadRequests, param, timeRange } from './render.js';

const SpyLabel = 'pyroscope_spy';
const allTime = metadataRange(0, 0);

/** OG stores data in 10-second segments; timelines use 10 s × 10^k steps. */
const segmentMs = 10_000;
/** OG timelines have at most about this many points. */
const timelinePoints = 1024;

/** What an OG query selects: an application name (`myapp.cpu`) and label matchers. */
interface OgSelection {
  appName: string;
  matchers: Matcher[];
  /** The query text as given, echoed in metadata. */
  text: string;
}

/** An OG application name resolved to a v1 service and profile type. */
interface Resolved {
  serviceName: string;
  profileTypeId: string;
}

/** The OG timeline: 10 s-aligned, `1 + sum` in buckets with data, 0 elsewhere. */
interface OgTimeline {
  startTime: number;
  samples: number[];
  durationDelta: number;
  watermarks: Record<string, number>;
}

/**
 * The HTTP API of the original Pyroscope (v0.37) that older Grafana plugins, scripts and dashboards
 * call: `/render`, `/render-diff`, `/labels`, `/label-values`, `/api/apps`. Application names such as
 * `myapp.cpu` map to v1 series and profile types as described in `og-names.ts`.
 */
export function registerOgRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { storage, query } = ctx;

  const typesOfService = (tenant: string, serviceName: string) =>
    storage.labelValues(tenant, LabelName.ProfileType, [eq(LabelName.ServiceName, serviceName)], allTime);

  /** The service and profile type an application name stands for; undefined when there is none. */
  const resolve = async (tenant: string, appName: string): Promise<Resolved | undefined> => {
    for (const { serviceName, suffix } of splitOgName(appName)) {
      const types = await typesOfService(tenant, serviceName);
      const profileTypeId = resolveOgSuffix(types, suffix);
      if (profileTypeId !== undefined) return { serviceName, profileTypeId };
    }
    return undefined;
  };

  const profileQueryOf = (
    tenant: string,
    resolved: Resolved,
    matchers: readonly Matcher[],
    range: TimeRange,
  ): ProfileQuery => {
    const q = query.profileQuery(tenant, resolved.profileTypeId, '{}', range);
    q.matchers.unshift(eq(LabelName.ServiceName, resolved.serviceName), ...matchers);
    return q;
  };

  /** One side of a render: the query, resolved, over the OG-normalised range. */
  const side = async (request: FastifyRequest, selection: OgSelection, from?: string, until?: string) => {
    const tenant = ctx.tenantOf(request);
    const requested = timeRange(from, until);
    const range = normaliseRange(requested);
    const resolved = await resolve(tenant, selection.appName);
    // The flame graph covers the same whole 10 s segments as the timeline: [start, end).
    const dataRange = { startMs: range.startMs, endMs: range.endMs - 1 };
    const q = resolved && profileQueryOf(tenant, resolved, selection.matchers, dataRange);
    return { tenant, selection, requested, range, resolved, q };
  };
  type Side = Awaited<ReturnType<typeof side>>;

  const stacksOf = async (s: Side): Promise<StackValues[]> =>
    s.q ? storage.mergeStacks(s.q.tenant, s.q.matchers, s.q.range) : [];

  const flameGraphOf = (s: Side, maxNodes: number): Promise<FlameGraph> =>
    s.q ? query.stacks(s.q, 'flameGraph', { maxNodes }) : Promise.resolve(emptyFlameGraph());

  const timelinesOf = async (s: Side, groupBy: string | undefined) => {
    const { startMs, endMs } = s.range;
    const stepSec = timelineStepSec(endMs - startMs);
    const stepMs = stepSec * 1000;
    const empty = () => ogTimeline([], startMs, endMs, stepSec);
    if (!s.q) return { timeline: empty(), groups: groupBy ? {} : null };
    // Storage puts a profile at t into the bucket (ts − step, ts], ts = start + k·step; starting one ms
    // early turns that into OG's [st + i·step, st + (i+1)·step) for whole-ms times.
    const shifted = { ...s.q, range: { startMs: startMs - 1, endMs: endMs - 1 } };
    const timelineOf = (ser: { timestampsMs: Float64Array; values: Float64Array } | undefined) =>
      ser ? ogTimeline(pointsOf(ser, startMs - 1, stepMs), startMs, endMs, stepSec) : empty();
    const [all] = await query.series(shifted, stepMs, [], 'sum');
    if (!groupBy) return { timeline: timelineOf(all), groups: null };
    const groups: Record<string, OgTimeline> = {};
    for (const ser of await query.series(shifted, stepMs, [groupBy], 'sum'))
      groups[labelValue(ser.labels, groupBy) || '*'] = timelineOf(ser);
    return { timeline: timelineOf(all), groups };
  };

  /** Flamebearer metadata in OG's shape: the v1 units mapping, the spy name of the series, the app name. */
  const metadataOf = async (s: Side, format: 'single' | 'double', maxNodes: number) => {
    let base: FlamebearerMetadata = { format, spyName: '', sampleRate: 100, units: '', name: '' };
    if (s.resolved && s.q) {
      base = flamebearerMetadata(s.resolved.profileTypeId, format);
      const spies = await storage.labelValues(s.tenant, SpyLabel, s.q.matchers, s.q.range);
      base.spyName = spies[0] ?? '';
    }
    return {
      ...base,
      name: s.selection.appName,
      appName: s.selection.appName,
      startTime: Math.floor(s.requested.startMs / 1000),
      endTime: Math.floor(s.requested.endMs / 1000),
      query: s.selection.text,
      maxNodes,
    };
  };

  app.get('/render', { config: { access: 'read' } }, async (request, reply) => {
    const format = param(request, 'format') || 'json';
    if (!['json', 'pprof', 'collapsed', 'html'].includes(format))
      throw badRequest(`unknown format ${JSON.stringify(format)}: use json, pprof, collapsed or html`);
    const selection = selectionParam(request, 'query', 'name');
    const s = await side(request, selection, param(request, 'from'), param(request, 'until'));
    const maxNodes = maxNodesParam(request);
    const fileName = `${fileSafe(selection.appName)}-${Math.floor(s.requested.startMs / 1000)}-${Math.floor(s.requested.endMs / 1000)}`;

    switch (format) {
      case 'pprof': {
        const profile = s.q ? await query.mergedProfile(s.q) : null;
        const bytes = encodeProfile(profile ?? emptyProfile(s.resolved?.profileTypeId), { gzip: true });
        return download(reply, 'application/octet-stream', `${fileName}.pb.gz`, Buffer.from(bytes));
      }
      case 'collapsed': {
        const text = s.q ? await query.stacks(s.q, 'collapsed', {}) : '';
        return download(reply, 'text/plain; charset=utf-8', `${fileName}.collapsed.txt`, text);
      }
      case 'html': {
        const [fg, metadata] = await Promise.all([
          flameGraphOf(s, maxNodes),
          metadataOf(s, 'single', maxNodes),
        ]);
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', STANDALONE_PAGE_CSP)
          .send(renderHtml(toFlamebearer(fg), htmlOptions(selection.appName, metadata)));
      }
    }

    const groupBy = param(request, 'groupBy') || undefined;
    const [fg, timelines, metadata] = await Promise.all([
      flameGraphOf(s, maxNodes),
      timelinesOf(s, groupBy),
      metadataOf(s, 'single', maxNodes),
    ]);
    return {
      version: 1,
      flamebearer: toFlamebearer(fg),
      metadata,
      timeline: timelines.timeline,
      groups: timelines.groups,
      heatmap: null,
      annotations: [],
    };
  });

  app.get('/render-diff', { config: { access: 'read' } }, async (request, reply) => {
    const format = param(request, 'format') || 'json';
    if (format !== 'json' && format !== 'html')
      throw badRequest(`unknown format ${JSON.stringify(format)}: use json or html`);
    const [left, right] = await Promise.all([
      side(
        request,
        selectionParam(request, 'leftQuery'),
        param(request, 'leftFrom'),
        param(request, 'leftUntil'),
      ),
      side(
        request,
        selectionParam(request, 'rightQuery'),
        param(request, 'rightFrom'),
        param(request, 'rightUntil'),
      ),
    ]);
    if (left.resolved && right.resolved && left.resolved.profileTypeId !== right.resolved.profileTypeId)
      throw badRequest(
        `cannot diff ${left.selection.appName} and ${right.selection.appName}: their profile types differ (${left.resolved.profileTypeId} and ${right.resolved.profileTypeId})`,
      );
    const maxNodes = maxNodesParam(request);
    const present = right.q ?? left.q;
    const metaSide = right.resolved ? right : left;

    if (format === 'html') {
      const [l, r, metadata] = await Promise.all([
        flameGraphOf(left, maxNodes),
        flameGraphOf(right, maxNodes),
        metadataOf(metaSide, 'single', maxNodes),
      ]);
      const page = (s: Side, fg: FlameGraph, role: string) =>
        renderHtml(toFlamebearer(fg), htmlOptions(`${role}: ${s.selection.text}`, metadata));
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', STANDALONE_PAGE_CSP)
        .send(diffPage(page(left, l, 'Baseline'), page(right, r, 'Comparison'), left, right));
    }

    const compute = async () => {
      const [l, r] = await Promise.all([stacksOf(left), stacksOf(right)]);
      return ctx.compute.run('diff', { left: { parts: l }, right: { parts: r }, maxNodes });
    };
    const [fg, leftTimelines, rightTimelines, metadata] = await Promise.all([
      negativeValuesAreBadRequests(present ? ctx.queries.run(present.tenant, compute) : compute()),
      timelinesOf(left, undefined),
      timelinesOf(right, undefined),
      metadataOf(metaSide, 'double', maxNodes),
    ]);
    return {
      version: 1,
      flamebearer: { names: fg.names, levels: fg.levels, numTicks: fg.total, maxSelf: fg.maxSelf },
      metadata,
      leftTicks: fg.leftTicks,
      rightTicks: fg.rightTicks,
      timeline: rightTimelines.timeline,
      leftTimeline: leftTimelines.timeline,
      rightTimeline: rightTimelines.timeline,
      groups: null,
      heatmap: null,
    };
  });

  /** Label matchers of an optional `query`, or null when its application does not exist. */
  const optionalQueryMatchers = async (request: FastifyRequest, tenant: string) => {
    if (!param(request, 'query')) return [];
    const selection = selectionParam(request, 'query');
    const resolved = await resolve(tenant, selection.appName);
    if (!resolved) return null;
    return [
      eq(LabelName.ServiceName, resolved.serviceName),
      eq(LabelName.ProfileType, resolved.profileTypeId),
      ...selection.matchers,
    ];
  };

  /** The OG applications (name + v1 service and profile type) with data in range. */
  const applications = async (tenant: string, matchers: readonly Matcher[], range: TimeRange) => {
    const [inRange, everything] = await Promise.all([
      storage.series(tenant, matchers, [LabelName.ServiceName, LabelName.ProfileType, SpyLabel], range),
      storage.series(tenant, [], [LabelName.ServiceName, LabelName.ProfileType], allTime),
    ]);
    // Names come from every profile type a service ever had, so they do not change with the range.
    const typesByService = new Map<string, Set<string>>();
    for (const labels of everything) {
      const service = labelValue(labels, LabelName.ServiceName);
      const type = labelValue(labels, LabelName.ProfileType);
      if (service && type) getOrCreate(typesByService, service, () => new Set()).add(type);
    }
    const suffixes = new Map<string, Map<string, string>>();
    const apps = new Map<string, { name: string; profileTypeId: string; spyNames: Set<string> }>();
    for (const labels of inRange) {
      const service = labelValue(labels, LabelName.ServiceName);
      const type = labelValue(labels, LabelName.ProfileType);
      if (!service || !type) continue;
      const suffix = getOrCreate(suffixes, service, () =>
        ogSuffixes(typesByService.get(service) ?? [type]),
      ).get(type);
      if (suffix === undefined) continue;
      const name = ogName(service, suffix);
      const entry = getOrCreate(apps, name, () => ({
        name,
        profileTypeId: type,
        spyNames: new Set<string>(),
      }));
      const spy = labelValue(labels, SpyLabel);
      if (spy) entry.spyNames.add(spy);
    }
    return [...apps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  app.get('/labels', { config: { access: 'read' } }, async (request) => {
    const tenant = ctx.tenantOf(request);
    const matchers = await optionalQueryMatchers(request, tenant);
    if (matchers === null) return [LabelName.MetricName];
    const names = await storage.labelNames(tenant, matchers, metadataRangeParam(request));
    // OG tags are the user's labels; the v1 bookkeeping labels are not tags there.
    const tags = names.filter((n) => !n.startsWith('__') && n !== LabelName.ServiceName && n !== SpyLabel);
    return [LabelName.MetricName, ...tags];
  });

  app.get('/label-values', { config: { access: 'read' } }, async (request) => {
    const label = param(request, 'label');
    if (!label) throw badRequest('the label parameter is required');
    const tenant = ctx.tenantOf(request);
    const matchers = await optionalQueryMatchers(request, tenant);
    if (matchers === null) return [];
    const range = metadataRangeParam(request);
    if (label === LabelName.MetricName)
      return (await applications(tenant, matchers, range)).map((a) => a.name);
    return storage.labelValues(tenant, label, matchers, range);
  });

  app.get('/api/apps', { config: { access: 'read' } }, async (request) => {
    const apps = await applications(ctx.tenantOf(request), [], allTime);
    return apps.map((a) => {
      const { units, sampleRate } = flamebearerMetadata(a.profileTypeId);
      const spyName = [...a.spyNames].sort()[0];
      return { name: a.name, ...(spyName ? { spyName } : {}), sampleRate, units };
    });
  });
}

// ---------------------------------------------------------------------------------------------------

/**
 * The OG query of a request: FlameQL `app.cpu{env="prod"}` in `queryName`, or (for `/render`) the storage
 * key `app.cpu{env=prod}` in `keyName`.
 */
function selectionParam(request: FastifyRequest, queryName: string, keyName?: string): OgSelection {
  const text = param(request, queryName)?.trim();
  if (text) return parseFlameQl(text);
  const key = keyName ? param(request, keyName)?.trim() : undefined;
  if (key) return parseStorageKey(key);
  throw badRequest(
    keyName
      ? `the ${queryName} parameter (e.g. myapp.cpu{env="prod"}) or ${keyName} parameter is required`
      : `the ${queryName} parameter (e.g. myapp.cpu{env="prod"}) is required`,
  );
}

function parseFlameQl(text: string): OgSelection {
  let parsed: ReturnType<typeof parseQuery>;
  try {
    parsed = parseQuery(text);
  } catch (err) {
    throw new ApiError(
      'invalid_argument',
      `invalid query ${JSON.stringify(text)}: ${(err as Error).message}`,
      'bad_selector',
    );
  }
  let appName = parsed.metric;
  let matchers = parsed.matchers;
  if (appName === undefined) {
    const byName = matchers.find((m) => m.name === LabelName.MetricName && m.op === '=');
    appName = byName?.value;
    matchers = matchers.filter((m) => m !== byName);
  }
  if (!appName)
    throw new ApiError(
      'invalid_argument',
      `query ${JSON.stringify(text)} has no application name: write it as <app>.<type>{<labels>}, e.g. myapp.cpu{env="prod"}`,
      'bad_selector',
    );
  return { appName, matchers: checkMatchers(matchers), text };
}

/** `app.cpu{env=prod,region=eu}`: unquoted values, equality only, as OG storage keys are written. */
function parseStorageKey(key: string): OgSelection {
  const brace = key.indexOf('{');
  const appName = (brace < 0 ? key : key.slice(0, brace)).trim();
  if (!appName) throw badRequest(`name ${JSON.stringify(key)} has no application name`);
  const matchers: Matcher[] = [];
  if (brace >= 0) {
    const close = key.indexOf('}', brace);
    for (const pair of key.slice(brace + 1, close < 0 ? undefined : close).split(',')) {
      if (pair.trim() === '') continue;
      const eqAt = pair.indexOf('=');
      const name = (eqAt < 0 ? '' : pair.slice(0, eqAt)).trim();
      if (!name)
        throw badRequest(
          `name ${JSON.stringify(key)}: expected key=value pairs, got ${JSON.stringify(pair)}`,
        );
      if (name === LabelName.MetricName) continue;
      matchers.push(createMatcher(name, '=', pair.slice(eqAt + 1).trim()));
    }
  }
  return { appName, matchers: checkMatchers(matchers), text: key };
}

function checkMatchers(matchers: Matcher[]): Matcher[] {
  if (matchers.some((m) => m.name === 'profile_id'))
    throw new ApiError(
      'unimplemented',
      'profile_id selects exemplars, which Emberscope does not store yet',
      'unsupported',
    );
  return matchers;
}

/** OG's 10 s normalisation: start truncated; end truncated and bumped by 10 s unless already aligned. */
export function normaliseRange(range: TimeRange): TimeRange {
  const startMs = Math.floor(range.startMs / segmentMs) * segmentMs;
  const endTruncated = Math.floor(range.endMs / segmentMs) * segmentMs;
  const endMs =
    endTruncated === range.endMs && endTruncated !== startMs ? range.endMs : endTruncated + segmentMs;
  return { startMs, endMs };
}

/** The largest of 10 s, 100 s, 1000 s, … shorter than range/1024, or 10 s. */
export function timelineStepSec(rangeMs: number): number {
  let step = segmentMs;
  for (let d = segmentMs; d < rangeMs / timelinePoints; d *= 10) step = d;
  return step / 1000;
}

/** OG timeline over [startMs, endMs): `(end − start)/step` buckets; a bucket with data holds 1 + sum. */
function ogTimeline(
  points: readonly [bucket: number, value: number][],
  startMs: number,
  endMs: number,
  stepSec: number,
): OgTimeline {
  const samples = new Array<number>(Math.floor((endMs - startMs) / (stepSec * 1000))).fill(0);
  for (const [bucket, value] of points)
    if (bucket >= 0 && bucket < samples.length) samples[bucket] += 1 + Math.max(0, Math.round(value));
  return { startTime: Math.floor(startMs / 1000), samples, durationDelta: stepSec, watermarks: {} };
}

function pointsOf(
  series: { timestampsMs: Float64Array; values: Float64Array },
  queryStartMs: number,
  stepMs: number,
): [number, number][] {
  return Array.from(series.values, (v, k) => [
    Math.round((series.timestampsMs[k] - queryStartMs) / stepMs) - 1,
    v,
  ]);
}

function emptyFlameGraph(): FlameGraph {
  return { names: ['total'], levels: [[0, 0, 0, 0]], total: 0, maxSelf: 0 };
}

/** A pprof with no samples, of the profile type when known. */
function emptyProfile(profileTypeId: string | undefined) {
  if (!profileTypeId) return new ProfileBuilder({ sampleTypes: [['samples', 'count']] }).build();
  const t = parseProfileType(profileTypeId);
  return new ProfileBuilder({
    sampleTypes: [[t.sampleType, t.sampleUnit]],
    ...(t.periodType ? { periodType: [t.periodType, t.periodUnit] as const } : {}),
  }).build();
}

function htmlOptions(title: string, metadata: FlamebearerMetadata) {
  return { title, units: metadata.units, sampleRate: metadata.sampleRate };
}

/**
 * The diff as a standalone page: the baseline and comparison flame graphs one above the other, each a
 * complete offline page of its own (in `srcdoc` frames, so they load nothing either). The outer page has
 * no script and no URL; each framed page carries its own Content-Security-Policy (an outer `frame-src`
 * would block the frames in some browsers).
 */
function diffPage(
  baseline: string,
  comparison: string,
  left: { selection: OgSelection },
  right: { selection: OgSelection },
): string {
  const title = `Diff: ${left.selection.text} vs ${right.selection.text}`;
  const frame = (label: string, page: string) =>
    `<section><h2>${escapeHtml(label)}</h2><iframe title="${escapeHtml(label)}" srcdoc="${escapeHtml(page)}"></iframe></section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;font:14px system-ui,sans-serif}h1{font-size:16px;margin:8px 12px}h2{font-size:14px;margin:8px 12px 4px}iframe{border:0;width:100%;height:48vh}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${frame(`Baseline: ${left.selection.text}`, baseline)}
${frame(`Comparison: ${right.selection.text}`, comparison)}
</body>
</html>
`;
}

function download(reply: FastifyReply, type: string, fileName: string, body: Buffer | string) {
  return reply.type(type).header('content-disposition', `attachment; filename="${fileName}"`).send(body);
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || 'profile';
}

/** from/until when given, else all data (OG's label routes read the range; Emberscope defaults to everything). */
function metadataRangeParam(request: FastifyRequest): TimeRange {
  const from = param(request, 'from');
  const until = param(request, 'until');
  if (!from && !until) return allTime;
  return timeRange(from, until);
}

function eq(name: string, value: string): Matcher {
  return { name, op: '=', value };
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
