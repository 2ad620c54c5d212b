import { fromBinary } from '@bufbuild/protobuf';
import {
  ApiError,
  ProfileFormat,
  pprofProto,
  QuerierService,
  type SelectMergeStacktracesRequest,
  type StackTraceSelector,
  TimeSeriesAggregationType,
} from '@emberscope/api';
import { type Labels, parseProfileType } from '@emberscope/model';
import { encodeProfile } from '@emberscope/pprof';
import type { FastifyInstance } from 'fastify';
import { registerConnectService } from '../connect.js';
import type { ServerContext } from '../context.js';
import { checkMaxNodes, metadataRange, type ProfileQuery, parseMatchers, queryRange } from '../query.js';

/** A time series longer than this is a mistake of the step, not a useful answer. */
const maxPointsPerSeries = 11_000;

/** Values are sums of int64 samples held in float64; they are integers unless they exceed 2^53. */
const int64 = (v: number) => BigInt(Math.round(v));

/** querier.v1.QuerierService: the read API of Grafana's Pyroscope data source and the UIs. */
export function registerQuerierRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { storage, query } = ctx;

  const profileQuery = (
    tenant: string,
    req: { profileTypeID: string; labelSelector: string; start: bigint; end: bigint },
  ): ProfileQuery =>
    query.profileQuery(
      tenant,
      req.profileTypeID,
      req.labelSelector,
      queryRange(Number(req.start), Number(req.end)),
    );

  const flameGraph = async (tenant: string, req: SelectMergeStacktracesRequest) => {
    rejectProfileIds(req.profileIdSelector);
    const q = profileQuery(tenant, req);
    const fg = await query.stacks(q, 'flameGraph', {
      maxNodes: checkMaxNodes(optionalNumber(req.maxNodes)),
      callSite: callSiteOf(req.stackTraceSelector),
    });
    return {
      names: fg.names,
      levels: fg.levels.map((values) => ({ values: values.map(int64) })),
      total: int64(fg.total),
      maxSelf: int64(fg.maxSelf),
    };
  };

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
        return { names: await unionOver(req.matchers, (m) => storage.labelNames(tenant, m, range)) };
      },

      async labelValues(req, { request }) {
        if (!req.name) throw new ApiError('invalid_argument', 'name is required', 'bad_request');
        const tenant = ctx.tenantOf(request);
        const range = metadataRange(Number(req.start), Number(req.end));
        return {
          names: await unionOver(req.matchers, (m) => storage.labelValues(tenant, req.name, m, range)),
        };
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
        const tenant = ctx.tenantOf(request);
        switch (req.format) {
          case ProfileFormat.TREE:
          case ProfileFormat.DOT: {
            rejectProfileIds(req.profileIdSelector);
            const q = profileQuery(tenant, req);
            const callSite = callSiteOf(req.stackTraceSelector);
            if (req.format === ProfileFormat.DOT)
              return {
                dot: await query.stacks(q, 'dot', {
                  maxNodes: optionalNumber(req.maxNodes) || 100,
                  callSite,
                }),
              };
            const maxNodes = checkMaxNodes(optionalNumber(req.maxNodes));
            return { tree: await query.stacks(q, 'treeBytes', { maxNodes, callSite }) };
          }
          default:
            return { flamegraph: await flameGraph(tenant, req) };
        }
      },

      async diff(req, { request }) {
        if (!req.left || !req.right)
          throw new ApiError('invalid_argument', 'left and right are required', 'bad_request');
        const tenant = ctx.tenantOf(request);
        for (const side of [req.left, req.right]) {
          rejectProfileIds(side.profileIdSelector);
          if (side.stackTraceSelector)
            throw new ApiError(
              'unimplemented',
              'stack_trace_selector is not supported in Diff yet',
              'unsupported',
            );
        }
        const maxNodes = checkMaxNodes(
          optionalNumber(req.left.maxNodes) || optionalNumber(req.right.maxNodes),
        );
        const fg = await query.diff(
          profileQuery(tenant, req.left),
          profileQuery(tenant, req.right),
          maxNodes,
        );
        return {
          flamegraph: {
            names: fg.names,
            levels: fg.levels.map((values) => ({ values: values.map(int64) })),
            total: int64(fg.total),
            maxSelf: int64(fg.maxSelf),
            leftTicks: int64(fg.leftTicks),
            rightTicks: int64(fg.rightTicks),
          },
        };
      },

      async selectMergeProfile(req, { request }) {
        rejectProfileIds(req.profileIdSelector);
        if (req.stackTraceSelector)
          throw new ApiError(
            'unimplemented',
            'stack_trace_selector is not supported by SelectMergeProfile yet',
            'unsupported',
          );
        const profile = await query.mergedProfile(profileQuery(ctx.tenantOf(request), req));
        // The merged profile travels as the google.v1.Profile message (same fields as pprof).
        return profile ? fromBinary(pprofProto.ProfileSchema, encodeProfile(profile)) : {};
      },

      async selectSeries(req, { request }) {
        if (req.stackTraceSelector)
          throw new ApiError(
            'unimplemented',
            'stack_trace_selector is not supported by SelectSeries yet',
            'unsupported',
          );
        if (!(req.step > 0))
          throw new ApiError('invalid_argument', 'step must be a positive number of seconds', 'bad_request');
        const q = profileQuery(ctx.tenantOf(request), req);
        const stepMs = req.step * 1000;
        if (q.range.endMs - q.range.startMs > stepMs * maxPointsPerSeries)
          throw new ApiError(
            'invalid_argument',
            `step ${req.step}s gives more than ${maxPointsPerSeries} points over this range: use a larger step`,
            'bad_request',
          );
        const aggregation = req.aggregation === TimeSeriesAggregationType.AVERAGE ? 'average' : 'sum';
        const result = await query.series(q, stepMs, req.groupBy, aggregation, optionalNumber(req.limit));
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
    'read',
  );
}

const optionalNumber = (v: bigint | undefined) => (v === undefined ? 0 : Number(v));

/** stack_trace_selector.call_site as root-first function names (go_pgo is a no-op for flame graphs). */
function callSiteOf(selector: StackTraceSelector | undefined): string[] | undefined {
  return selector?.callSite.map((l) => l.name);
}

/** Profile ids are assigned to exemplars, which Emberscope does not keep yet: refuse rather than ignore. */
function rejectProfileIds(ids: readonly string[]): void {
  if (ids.length > 0)
    throw new ApiError(
      'unimplemented',
      'profile_id_selector is not supported: profile ids (exemplars) are not stored yet',
      'unsupported',
    );
}

/** Several selectors select the union of what each selects; none selects everything. */
function selectorsOf(selectors: readonly string[]) {
  return selectors.length === 0 ? [[]] : selectors.map(parseMatchers);
}

async function unionOver(
  selectors: readonly string[],
  lookup: (m: ReturnType<typeof parseMatchers>) => Promise<string[]>,
): Promise<string[]> {
  const all = new Set<string>();
  for (const matchers of selectorsOf(selectors)) for (const v of await lookup(matchers)) all.add(v);
  return [...all].sort();
}
