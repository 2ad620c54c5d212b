import { ApiError } from '@emberscope/api';
import {
  buildTimeline,
  calcPointIntervalSec,
  LabelName,
  type Labels,
  type Matcher,
  parseProfileType,
  parseQuery,
  parseSelector,
} from '@emberscope/model';
import type { Profile } from '@emberscope/pprof';
import type { TimeRange } from '@emberscope/storage';
import type { StacksInput, TaskName, TaskOutput } from './compute/tasks.js';
import type { ServerContext } from './context.js';

export const defaultMaxNodes = 8192;
const maxMaxNodes = 1 << 20;

/** One profile type of one tenant over a time range, selected by label matchers. */
export interface ProfileQuery {
  tenant: string;
  profileTypeId: string;
  /** The selector's matchers plus `__profile_type__ = profileTypeId`. */
  matchers: Matcher[];
  range: TimeRange;
}

/**
 * The queries every read route shares (Connect querier, /pyroscope/render, the original Pyroscope
 * routes, exports): validation with clear errors, admission through the query gate, storage reads, and
 * heavy computation on the compute pool.
 */
export class QueryService {
  constructor(private readonly ctx: ServerContext) {}

  profileQuery(tenant: string, profileTypeId: string, labelSelector: string, range: TimeRange): ProfileQuery {
    try {
      parseProfileType(profileTypeId);
    } catch (err) {
      throw new ApiError('invalid_argument', (err as Error).message, 'bad_profile_type');
    }
    const matchers = parseMatchers(labelSelector || '{}');
    matchers.push({ name: LabelName.ProfileType, op: '=', value: profileTypeId });
    this.ctx.queries.checkRange(range);
    return { tenant, profileTypeId, matchers, range };
  }

  /** `<profile type>{selector}` as `/pyroscope/render` takes it. */
  profileQueryFromString(tenant: string, query: string, range: TimeRange): ProfileQuery {
    let parsed: ReturnType<typeof parseQuery>;
    try {
      parsed = parseQuery(query);
    } catch (err) {
      throw new ApiError(
        'invalid_argument',
        `invalid query ${JSON.stringify(query)}: ${(err as Error).message}`,
        'bad_selector',
      );
    }
    if (!parsed.metric)
      throw new ApiError(
        'invalid_argument',
        `query ${JSON.stringify(query)} has no profile type: write it as <profile type>{<selector>}, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="app"}`,
        'bad_profile_type',
      );
    const selector = parsed.matchers.filter((m) => m.name !== LabelName.MetricName);
    const q = this.profileQuery(tenant, parsed.metric, '{}', range);
    q.matchers.unshift(...selector);
    return q;
  }

  /** Runs a compute task over the query's merged stacks. */
  stacks<T extends TaskName>(
    q: ProfileQuery,
    task: T,
    options: Omit<Parameters<typeof this.ctx.compute.run<T>>[1], keyof StacksInput> & { callSite?: string[] },
  ): Promise<TaskOutput<T>> {
    return this.ctx.queries.run(q.tenant, async () => {
      const parts = await this.mergeStacks(q);
      return this.ctx.compute.run(task, { ...options, parts } as never);
    });
  }

  /** Refuses queries that would merge more series than --max-query-series: narrow the selector instead. */
  private async checkSeriesCount(q: ProfileQuery): Promise<void> {
    const max = this.ctx.config.max_query_series;
    if (max <= 0) return;
    const count = (await this.ctx.storage.series(q.tenant, q.matchers, [], q.range)).length;
    if (count > max)
      throw new ApiError(
        'resource_exhausted',
        `the query selects ${count} series, more than the limit of ${max} (--max-query-series): narrow the label selector`,
        'series_limit',
      );
  }

  private async mergeStacks(q: ProfileQuery) {
    await this.checkSeriesCount(q);
    return this.ctx.storage.mergeStacks(q.tenant, q.matchers, q.range);
  }

  diff(left: ProfileQuery, right: ProfileQuery, maxNodes: number) {
    if (left.profileTypeId !== right.profileTypeId)
      throw new ApiError(
        'invalid_argument',
        `cannot diff different profile types: ${left.profileTypeId} and ${right.profileTypeId}`,
        'bad_request',
      );
    return this.ctx.queries.run(left.tenant, async () => {
      const [l, r] = await Promise.all([this.mergeStacks(left), this.mergeStacks(right)]);
      return this.ctx.compute.run('diff', { left: { parts: l }, right: { parts: r }, maxNodes });
    });
  }

  mergedProfile(q: ProfileQuery): Promise<Profile | null> {
    return this.ctx.queries.run(q.tenant, async () => {
      await this.checkSeriesCount(q);
      return this.ctx.storage.mergeProfile(q.tenant, q.matchers, q.range);
    });
  }

  series(
    q: ProfileQuery,
    stepMs: number,
    groupBy: readonly string[],
    aggregation: 'sum' | 'average',
    limit = 0,
  ) {
    return this.ctx.queries.run(q.tenant, async () => {
      await this.checkSeriesCount(q);
      return this.ctx.storage.selectSeries(q.tenant, q.matchers, q.range, {
        stepMs,
        groupBy,
        aggregation,
        limit,
      });
    });
  }

  /** The flamebearer timeline of `/pyroscope/render`, plus one timeline per value of the first group-by label. */
  async timelines(q: ProfileQuery, groupBy: readonly string[], aggregation: 'sum' | 'average') {
    const { startMs, endMs } = q.range;
    const stepSec = calcPointIntervalSec(startMs, endMs);
    const series = await this.series(q, stepSec * 1000, groupBy.slice(0, 1), aggregation);
    const timelineOf = (points: { timestampsMs: Float64Array; values: Float64Array }) =>
      buildTimeline(points, startMs, endMs, stepSec);
    if (groupBy.length === 0) {
      const empty = { timestampsMs: new Float64Array(0), values: new Float64Array(0) };
      return { timeline: timelineOf(series[0] ?? empty), groups: null };
    }
    const groups: Record<string, ReturnType<typeof timelineOf>> = {};
    for (const s of series) groups[labelValueOr(s.labels, groupBy[0], '*')] = timelineOf(s);
    return { timeline: null, groups };
  }
}

function labelValueOr(labels: Labels, name: string, fallback: string): string {
  return labels.find((l) => l.name === name)?.value || fallback;
}

export function parseMatchers(selector: string): Matcher[] {
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

export function checkMaxNodes(maxNodes: number | undefined): number {
  if (maxNodes === undefined || maxNodes === 0 || Number.isNaN(maxNodes)) return defaultMaxNodes;
  if (maxNodes < 0 || maxNodes > maxMaxNodes)
    throw new ApiError(
      'invalid_argument',
      `max_nodes must be between 0 and ${maxMaxNodes}, got ${maxNodes}`,
      'bad_request',
    );
  return maxNodes;
}

/** Range queries need a range: start and end in ms, start ≤ end. */
export function queryRange(start: number, end: number): TimeRange {
  if (start === 0 && end === 0)
    throw new ApiError('invalid_argument', 'missing time range: set start and end (ms)', 'bad_range');
  if (start > end)
    throw new ApiError('invalid_argument', `start (${start}) is after end (${end})`, 'bad_range');
  return { startMs: start, endMs: end };
}

/** Label and series lookups without a range (start = end = 0) look at all data. */
export function metadataRange(start: number, end: number): TimeRange {
  if (start === 0 && end === 0) return { startMs: 0, endMs: Number.MAX_SAFE_INTEGER };
  return queryRange(start, end);
}
