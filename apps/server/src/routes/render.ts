import { ApiError } from '@emberscope/api';
import { parseTime } from '@emberscope/ingest';
import {
  type FlameGraph,
  flamebearerMetadata,
  LabelName,
  type StackValues,
  toFlamebearer,
} from '@emberscope/model';
import type { TimeRange } from '@emberscope/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { checkMaxNodes, metadataRange, type ProfileQuery, queryRange } from '../query.js';

/**
 * Pyroscope v1's legacy HTTP query API (`pkg/querier/http.go`), which the Pyroscope UIs and scripts
 * call, plus the server-side tree operations the Emberscope UI uses:
 *
 * - `GET /pyroscope/render`: flamebearer JSON with timeline and groups, or `format=dot`; optional
 *   `focus` (subtree) and `sandwich` (callers/callees of a function), computed before the maxNodes cut.
 * - `GET /pyroscope/render-diff`: the diff flamebearer of two queries.
 * - `GET /pyroscope/label-values`: profile type IDs for `label=__name__`, values of any other label.
 * - `GET /api/v1/functions`: per-function self/total table.
 * - `GET /api/v1/diff-table`: per-function comparison of two queries.
 */
export function registerRenderRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { query } = ctx;

  /** `<profile type>{selector}` over from/until, as every route here takes a query. */
  const profileQuery = (request: FastifyRequest, name: string, fromName: string, untilName: string) => {
    const text = requiredParam(request, name);
    return query.profileQueryFromString(
      ctx.tenantOf(request),
      text,
      timeRange(param(request, fromName), param(request, untilName)),
    );
  };

  app.get('/pyroscope/render', { config: { access: 'read' } }, async (request, reply) => {
    const q = profileQuery(request, 'query', 'from', 'until');
    const format = param(request, 'format') ?? 'json';
    if (format === 'dot') {
      const maxNodes = nonNegativeInt(request, 'maxNodes') || nonNegativeInt(request, 'max-nodes') || 100;
      const dot = await onStacks(ctx, q, (parts) =>
        isEmpty(parts) ? '' : ctx.compute.run('dot', { parts, maxNodes }),
      );
      return reply.type('text/plain; charset=utf-8').send(dot);
    }
    const maxNodes = maxNodesParam(request);
    const groupBy = params(request, 'groupBy');
    const aggregation = aggregationParam(request);
    const focus = pathParam(param(request, 'focus'));
    const sandwichOf = param(request, 'sandwich');
    const timelines = query.timelines(q, groupBy, aggregation).then(({ timeline, groups }) => {
      // As in Pyroscope, the timeline is filled when exactly one series came back.
      const only = groups && Object.keys(groups).length === 1 ? Object.values(groups)[0] : null;
      return { timeline: timeline ?? only, groups };
    });
    const metadata = flamebearerMetadata(q.profileTypeId);
    const profileOf = (fg: FlameGraph, t: Awaited<typeof timelines>) => ({
      version: 1,
      flamebearer: toFlamebearer(fg),
      metadata,
      timeline: t.timeline,
      groups: t.groups,
      heatmap: null,
    });
    if (sandwichOf) {
      const [halves, t] = await Promise.all([
        query.stacks(q, 'sandwich', { function: sandwichOf, focus, maxNodes }),
        timelines,
      ]);
      return { callers: profileOf(halves.callers, t), callees: profileOf(halves.callees, t) };
    }
    const [fg, t] = await Promise.all([
      focus.length > 0
        ? query.stacks(q, 'focusFlameGraph', { path: focus, maxNodes })
        : query.stacks(q, 'flameGraph', { maxNodes }),
      timelines,
    ]);
    return profileOf(fg, t);
  });

  app.get('/pyroscope/render-diff', { config: { access: 'read' } }, async (request) => {
    const left = profileQuery(request, 'leftQuery', 'leftFrom', 'leftUntil');
    const right = profileQuery(request, 'rightQuery', 'rightFrom', 'rightUntil');
    const fg = await negativeValuesAreBadRequests(query.diff(left, right, maxNodesParam(request)));
    return {
      version: 1,
      flamebearer: { names: fg.names, levels: fg.levels, numTicks: fg.total, maxSelf: fg.maxSelf },
      metadata: flamebearerMetadata(left.profileTypeId, 'double'),
      leftTicks: fg.leftTicks,
      rightTicks: fg.rightTicks,
      timeline: null,
      groups: null,
      heatmap: null,
    };
  });

  app.get('/pyroscope/label-values', { config: { access: 'read' } }, async (request) => {
    const label = requiredParam(request, 'label');
    const tenant = ctx.tenantOf(request);
    // Pyroscope reads no time range here; all data is searched.
    const range = metadataRange(0, 0);
    if (label === LabelName.MetricName) return ctx.storage.profileTypes(tenant, range);
    return ctx.storage.labelValues(tenant, label, [], range);
  });

  app.get('/api/v1/functions', { config: { access: 'read' } }, async (request) => {
    const q = profileQuery(request, 'query', 'from', 'until');
    const sort = param(request, 'sort') ?? 'self';
    if (sort !== 'self' && sort !== 'total')
      throw badRequest(`sort must be "self" or "total", got ${JSON.stringify(sort)}`);
    const table = await query.stacks(q, 'functionTable', { sort, limit: nonNegativeInt(request, 'limit') });
    return { ...table, metadata: flamebearerMetadata(q.profileTypeId) };
  });

  app.get('/api/v1/diff-table', { config: { access: 'read' } }, async (request) => {
    const left = profileQuery(request, 'leftQuery', 'leftFrom', 'leftUntil');
    const right = profileQuery(request, 'rightQuery', 'rightFrom', 'rightUntil');
    if (left.profileTypeId !== right.profileTypeId)
      throw badRequest(
        `cannot compare different profile types: ${left.profileTypeId} and ${right.profileTypeId}`,
      );
    const absolute = booleanParam(request, 'absolute');
    const limit = nonNegativeInt(request, 'limit');
    const table = await negativeValuesAreBadRequests(
      ctx.queries.run(left.tenant, async () => {
        const [l, r] = await Promise.all([mergeStacks(ctx, left), mergeStacks(ctx, right)]);
        return ctx.compute.run('diffTable', {
          left: { parts: l },
          right: { parts: r },
          normalize: !absolute,
          limit,
        });
      }),
    );
    return { ...table, normalized: !absolute, metadata: flamebearerMetadata(left.profileTypeId) };
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared with the original Pyroscope routes

/** Runs `fn` on the merged stacks of a query, admitted through the query gate. */
export function onStacks<T>(
  ctx: ServerContext,
  q: ProfileQuery,
  fn: (parts: StackValues[]) => Promise<T> | T,
): Promise<T> {
  return ctx.queries.run(q.tenant, async () => fn(await mergeStacks(ctx, q)));
}

function mergeStacks(ctx: ServerContext, q: ProfileQuery): Promise<StackValues[]> {
  return ctx.storage.mergeStacks(q.tenant, q.matchers, q.range);
}

export function isEmpty(parts: readonly StackValues[]): boolean {
  return parts.every((p) => p.values.every((v) => v === 0));
}

/** The first value of a query parameter; repeated parameters are arrays in Fastify's parsed query. */
export function param(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a repeatable parameter, empty ones left out. */
export function params(request: FastifyRequest, name: string): string[] {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v) => v !== '');
}

export function requiredParam(request: FastifyRequest, name: string): string {
  const value = param(request, name);
  if (value === undefined || value.trim() === '') throw badRequest(`the ${name} parameter is required`);
  return value;
}

/** An integer parameter ≥ 0; absent or empty is 0. */
export function nonNegativeInt(request: FastifyRequest, name: string): number {
  const value = param(request, name)?.trim();
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** `maxNodes` / `max-nodes`: a non-zero `maxNodes` wins; 0 or absent is the default (8192). */
export function maxNodesParam(request: FastifyRequest): number {
  return checkMaxNodes(nonNegativeInt(request, 'maxNodes') || nonNegativeInt(request, 'max-nodes'));
}

function booleanParam(request: FastifyRequest, name: string): boolean {
  const value = param(request, name)?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw badRequest(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function aggregationParam(request: FastifyRequest): 'sum' | 'average' {
  const value = param(request, 'aggregation') ?? '';
  if (value === '' || value === 'sum') return 'sum';
  if (value === 'avg' || value === 'average') return 'average';
  throw badRequest(`aggregation must be "sum" or "avg", got ${JSON.stringify(value)}`);
}

/** A root-first call path written `a;b;c`; empty when absent. */
function pathParam(value: string | undefined): string[] {
  return value ? value.split(';') : [];
}

/** from/until in Pyroscope's time syntax (unit by digit count, `now-1h`, …; absent = now), in ms. */
export function timeRange(from: string | undefined, until: string | undefined): TimeRange {
  const nowMs = Date.now();
  const toMs = (value: string | undefined) => Number(parseTime(value ?? null, nowMs) / 1_000_000n);
  return queryRange(toMs(from), toMs(until));
}

export function badRequest(message: string): ApiError {
  return new ApiError('invalid_argument', message, 'bad_request');
}

/** Trees with negative values cannot be diffed: the client's query is at fault, not the server. */
export async function negativeValuesAreBadRequests<T>(result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (err) {
    const message = (err as Error)?.message ?? '';
    if (!(err instanceof ApiError) && message.startsWith('cannot diff a tree with negative values'))
      throw badRequest(message);
    throw err;
  }
}
