import { fromBinary } from '@bufbuild/protobuf';
import { ApiError, pprofProto, QuerierService, TimeSeriesAggregationType } from '@emberscope/api';
import { LabelName, type Labels, type Matcher, parseProfileType, parseSelector } from '@emberscope/model';
import { encodeProfile } from '@emberscope/pprof';
import type { TimeRange } from '@emberscope/storage';
import type { FastifyInstance } from 'fastify';
import { registerConnectService } from '../connect.js';
import type { ServerContext } from '../context.js';

const defaultMaxNodes = 8192;
const maxMaxNodes = 1 << 20;
/** A time series longer than this is a mistake of the step, not a useful answer. */
const maxPointsPerSeries = 11_000;

/** querier.v1.QuerierService: the read API of Grafana's Pyroscope data source and the UIs. */
export function registerQuerierRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { storage } = ctx;
  registerConnectService(
    app,
    QuerierService,
    {
      async profileTypes(req, { request }) {
        const ids = await storage.profileTypes(
          ctx.tenantOf(request),
          metadataRange(Number(req.start), Number(req.end)),
        );
        return {
          profileTypes: ids.map((id) => {
            const t = parseProfileType(id);
            return {
              ID: id,
              name: t.name,
              sampleType: t.sampleType,
              sampleUnit: t.sampleUnit,
              periodType: t.periodType,
              periodUnit: t.periodUnit,
            };
          }),
        };
      },

      async labelNames(req, { request }) {
        const tenant = ctx.tenantOf(request);
        const range = metadataRange(Number(req.start), Number(req.end));
        const names = await unionOver(req.matchers, (m) => storage.labelNames(tenant, m, range));
        return { names };
      },

      async labelValues(req, { request }) {
        if (!req.name) throw new ApiError('invalid_argument', 'name is required', 'bad_request');
        const tenant = ctx.tenantOf(request);
        const range = metadataRange(Number(req.start), Number(req.end));
        const names = await unionOver(req.matchers, (m) => storage.labelValues(tenant, req.name, m, range));
        return { names };
      },

      async series(req, { request }) {
        const tenant = ctx.tenantOf(request);
        const range = metadataRange(Number(req.start), Number(req.end));
        const seen = new Map<string, Labels>();
        for (const matchers of selectorsOf(req.matchers))
          for (const labels of await storage.series(tenant, matchers, req.labelNames, range))
            seen.set(JSON.stringify(labels), labels);
        const labelsSet = [...seen.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, labels]) => ({ labels: labels.map((l) => ({ name: l.name, value: l.value })) }));
        return { labelsSet };
      },

      async selectMergeStacktraces(req, { request }) {
        if (req.format === 2 || req.format === 3)
          throw new ApiError('unimplemented', 'formats TREE and DOT are not supported yet; use FLAMEGRAPH');
        if (req.stackTraceSelector || req.profileIdSelector.length > 0)
          throw new ApiError(
            'unimplemented',
            'stack_trace_selector and profile_id_selector are not supported yet',
          );
        const maxNodes = checkMaxNodes(req.maxNodes === undefined ? undefined : Number(req.maxNodes));
        const matchers = profileMatchers(req.profileTypeID, req.labelSelector);
        const range = queryRange(Number(req.start), Number(req.end));
        ctx.queries.checkRange(range);
        const tenant = ctx.tenantOf(request);
        const fg = await ctx.queries.run(tenant, async () => {
          const parts = await storage.mergeStacks(tenant, matchers, range);
          return ctx.compute.run('flameGraph', { parts, maxNodes });
        });
        return {
          flamegraph: {
            names: fg.names,
            levels: fg.levels.map((values) => ({ values: values.map(int64) })),
            total: int64(fg.total),
            maxSelf: int64(fg.maxSelf),
          },
        };
      },

      async selectMergeProfile(req, { request }) {
        if (req.stackTraceSelector || req.profileIdSelector.length > 0)
          throw new ApiError(
            'unimplemented',
            'stack_trace_selector and profile_id_selector are not supported yet',
          );
        const matchers = profileMatchers(req.profileTypeID, req.labelSelector);
        const range = queryRange(Number(req.start), Number(req.end));
        ctx.queries.checkRange(range);
        const tenant = ctx.tenantOf(request);
        const profile = await ctx.queries.run(tenant, () => storage.mergeProfile(tenant, matchers, range));
        // The merged profile travels as the google.v1.Profile message (same fields as pprof).
        return profile ? fromBinary(pprofProto.ProfileSchema, encodeProfile(profile)) : {};
      },

      async selectSeries(req, { request }) {
        if (req.stackTraceSelector)
          throw new ApiError('unimplemented', 'stack_trace_selector is not supported by SelectSeries yet');
        if (!(req.step > 0))
          throw new ApiError('invalid_argument', 'step must be a positive number of seconds', 'bad_request');
        const matchers = profileMatchers(req.profileTypeID, req.labelSelector);
        const range = queryRange(Number(req.start), Number(req.end));
        ctx.queries.checkRange(range);
        const stepMs = req.step * 1000;
        if (range.endMs - range.startMs > stepMs * maxPointsPerSeries)
          throw new ApiError(
            'invalid_argument',
            `step ${req.step}s gives more than ${maxPointsPerSeries} points over this range: use a larger step`,
            'bad_request',
          );
        const tenant = ctx.tenantOf(request);
        const result = await ctx.queries.run(tenant, () =>
          storage.selectSeries(tenant, matchers, range, {
            stepMs,
            groupBy: req.groupBy,
            aggregation: req.aggregation === TimeSeriesAggregationType.AVERAGE ? 'average' : 'sum',
            limit: req.limit === undefined ? 0 : Number(req.limit),
          }),
        );
        return {
          series: result.map((s) => ({
            labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
            points: Array.from(s.values, (value, i) => ({ value, timestamp: BigInt(s.timestampsMs[i]) })),
          })),
        };
      },

      async getProfileStats(_req, { request }) {
        const stats = await storage.profileStats(ctx.tenantOf(request));
        return {
          dataIngested: stats.dataIngested,
          oldestProfileTime: BigInt(stats.oldestProfileMs),
          newestProfileTime: BigInt(stats.newestProfileMs),
        };
      },
    },
    ctx.connectOptions,
  );
}

/** Values are sums of int64 samples held in float64; they are integers unless they exceed 2^53. */
const int64 = (v: number) => BigInt(Math.round(v));

function parseMatchers(selector: string): Matcher[] {
  try {
    return parseSelector(selector);
  } catch (err) {
    throw new ApiError(
      'invalid_argument',
      `invalid label selector ${JSON.stringify(selector)}: ${(err as Error).message}`,
      'bad_selector',
    );
  }
}

/** Several selectors select the union of what each selects; none selects everything. */
function selectorsOf(selectors: readonly string[]): Matcher[][] {
  return selectors.length === 0 ? [[]] : selectors.map(parseMatchers);
}

async function unionOver(
  selectors: readonly string[],
  query: (m: Matcher[]) => Promise<string[]>,
): Promise<string[]> {
  const all = new Set<string>();
  for (const matchers of selectorsOf(selectors)) for (const v of await query(matchers)) all.add(v);
  return [...all].sort();
}

function profileMatchers(profileTypeId: string, labelSelector: string): Matcher[] {
  try {
    parseProfileType(profileTypeId);
  } catch (err) {
    throw new ApiError('invalid_argument', (err as Error).message, 'bad_profile_type');
  }
  const matchers = parseMatchers(labelSelector || '{}');
  matchers.push({ name: LabelName.ProfileType, op: '=', value: profileTypeId });
  return matchers;
}

function checkMaxNodes(maxNodes: number | undefined): number {
  if (maxNodes === undefined || maxNodes === 0) return defaultMaxNodes;
  if (maxNodes < 0 || maxNodes > maxMaxNodes)
    throw new ApiError(
      'invalid_argument',
      `max_nodes must be between 0 and ${maxMaxNodes}, got ${maxNodes}`,
      'bad_request',
    );
  return maxNodes;
}

/** Label and series lookups without a range (start = end = 0) look at all data. */
function metadataRange(start: number, end: number): TimeRange {
  if (start === 0 && end === 0) return { startMs: 0, endMs: Number.MAX_SAFE_INTEGER };
  return queryRange(start, end);
}

function queryRange(start: number, end: number): TimeRange {
  if (start === 0 && end === 0)
    throw new ApiError('invalid_argument', 'missing time range: set start and end (ms)', 'bad_range');
  if (start > end)
    throw new ApiError('invalid_argument', `start (${start}) is after end (${end})`, 'bad_range');
  return { startMs: start, endMs: end };
}
