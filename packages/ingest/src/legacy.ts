import { LabelName } from '@emberscope/model';
import { encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import { type ParsedAppName, parseAppName } from './app-name.js';
import { decodeClientProfile } from './decode.js';
import { asUnprocessable, IngestError, unprocessable } from './errors.js';
import { parseFolded } from './formats/folded.js';
import { parseLines } from './formats/lines.js';
import { parseMultipartFiles } from './formats/multipart.js';
import type { StackSink } from './formats/text.js';
import { parseTree } from './formats/tree.js';
import { parseTrie } from './formats/trie.js';
import { SeriesLabels } from './labels.js';
import { normalizeProfile } from './normalize.js';
import { pprofMetricName, textProfileType } from './profile-type.js';
import {
  defaultSampleTypeConfigs,
  parseSampleTypeConfigs,
  type SampleTypeConfigs,
} from './sample-type-config.js';
import { parseTime } from './time.js';
import type { DecodeContext, IngestedProfile } from './types.js';

/** A `POST /ingest` (or `/pyroscope/ingest`) request as the HTTP server received it. */
export interface LegacyIngestRequest {
  query: URLSearchParams;
  /** The Content-Type header; '' when absent. */
  contentType: string;
  /** The body, already decoded according to Content-Encoding. */
  body: Uint8Array;
}

export type LegacyFormat =
  | 'trie'
  | 'tree'
  | 'lines'
  | 'jfr'
  | 'pprof'
  | 'speedscope'
  | 'multipart'
  | 'folded';

/** The `/ingest` query parameters that matter (v1 ignores `units` and `aggregationType`). */
interface LegacyParams {
  name: ParsedAppName;
  fromNanos: bigint;
  untilNanos: bigint;
  /** Hz; only scales text-format cpu and wall values. */
  sampleRate: number;
  spyName: string;
}

type TextFormat = 'folded' | 'lines' | 'trie' | 'tree';
const TEXT_PARSERS: Record<TextFormat, (body: Uint8Array, sink: StackSink) => void> = {
  folded: parseFolded,
  lines: parseLines,
  trie: parseTrie,
  tree: parseTree,
};

/**
 * Converts a legacy `/ingest` upload into profiles to store, as Pyroscope v1 does. Text formats
 * (folded, lines, trie, tree) become a one-sample-type pprof named by the suffix of `name`; pprof uploads
 * (raw, or the `profile` part of a multipart form) are stored as received, named from their sample types.
 * Returns [] for uploads Pyroscope accepts but drops (empty bodies, text exemplars with `profile_id`).
 *
 * Errors: 400 for a bad `name` (or an unknown suffix, or invalid labels of a text upload), 422 when the
 * body does not parse and for every error on the pprof paths, 422 `unsupported` for `format=jfr`,
 * `format=speedscope` and multipart `prev_profile`.
 */
export function ingestLegacy(request: LegacyIngestRequest, ctx: DecodeContext): IngestedProfile[] {
  const params = parseLegacyParams(request.query, ctx.nowMs);
  const format = selectLegacyFormat(request.query.get('format'), request.contentType);
  switch (format) {
    case 'jfr':
    case 'speedscope':
      throw new IngestError(
        422,
        'unimplemented',
        'unsupported',
        `format=${format} is not supported yet; send pprof (format=pprof, or multipart with a "profile" part), ` +
          'folded text, or use the Push API',
      );
    case 'pprof':
      return unprocessableOnError(() => ingestPprof(request.body, defaultSampleTypeConfigs, params, ctx));
    case 'multipart':
      return unprocessableOnError(() => ingestMultipart(request, params, ctx));
    default:
      return ingestText(format, request.body, params, ctx);
  }
}

/** Pyroscope's format dispatch: the first matching rule wins. */
export function selectLegacyFormat(format: string | null, contentType: string): LegacyFormat {
  const mediaType = contentType.split(';', 1)[0].trim().toLowerCase();
  if (format === 'trie' || mediaType === 'binary/octet-stream+trie') return 'trie';
  if (format === 'tree' || mediaType === 'binary/octet-stream+tree') return 'tree';
  if (format === 'lines' || format === 'jfr' || format === 'pprof' || format === 'speedscope') return format;
  if (contentType.toLowerCase().includes('multipart/form-data')) return 'multipart';
  return 'folded';
}

function parseLegacyParams(query: URLSearchParams, nowMs: number): LegacyParams {
  return {
    name: parseAppName(query.get('name') ?? ''),
    fromNanos: parseTime(query.get('from'), nowMs),
    untilNanos: parseTime(query.get('until'), nowMs),
    sampleRate: parseSampleRate(query.get('sampleRate')),
    spyName: query.get('spyName') || 'unknown',
  };
}

/** An integer ≥ 0; anything else silently means the default of 100 Hz. */
function parseSampleRate(value: string | null): number {
  const rate = value !== null && /^\+?\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(rate) ? rate : 100;
}

function ingestText(
  format: TextFormat,
  body: Uint8Array,
  params: LegacyParams,
  ctx: DecodeContext,
): IngestedProfile[] {
  // Pyroscope v1 answers 200 but does not store text uploads of exemplars.
  if (params.name.labels.some((label) => label.name === 'profile_id')) return [];
  const type = textProfileType(params.name.appName, params.sampleRate);
  const builder = new ProfileBuilder({
    sampleTypes: [[type.sampleType, type.sampleUnit]],
    ...(type.periodNanos > 0 && { periodType: ['cpu', 'nanoseconds'], period: type.periodNanos }),
    timeNanos: params.fromNanos,
    durationNanos: params.untilNanos > params.fromNanos ? params.untilNanos - params.fromNanos : 0n,
  });
  const scale = type.periodNanos || 1;
  // A tree or trie body expands: a chain of n nodes holds n stacks of up to n frames, so a small body can
  // cost quadratic time and memory. The stacks written out as folded text (the work of parsing them) may
  // not exceed the profile size limit, which a gzipped folded upload is held to after decompression.
  const maxBytes = ctx.limits.maxProfileBytes;
  let stackBytes = 0;
  TEXT_PARSERS[format](body, (stack, value) => {
    for (const frame of stack) stackBytes += frame.length + 1;
    if (stackBytes > maxBytes) {
      throw unprocessable(
        'too_large',
        `the stacks of this ${format} body add up to more than the profile size limit of ${maxBytes} bytes`,
      );
    }
    const scaled = value * scale;
    if (!Number.isSafeInteger(scaled)) {
      throw unprocessable('bad_format', `sample value ${value} × ${scale} ns per sample exceeds 2^53`);
    }
    builder.addSample(stack, [scaled]);
  });
  const profile = builder.build();
  const payload = encodeProfile(profile);
  if (payload.length > maxBytes) {
    throw unprocessable(
      'too_large',
      `this ${format} body converts to a pprof of ${payload.length} bytes, more than the profile size limit of ${maxBytes} bytes`,
    );
  }
  const ingested = normalizeProfile({
    tenant: ctx.tenant,
    profile,
    payload,
    labels: seriesLabels(params, type.metric, type.serviceName, 'app_name'),
    timeNanos: params.fromNanos,
    limits: ctx.limits,
  });
  return ingested ? [ingested] : [];
}

function ingestMultipart(
  request: LegacyIngestRequest,
  params: LegacyParams,
  ctx: DecodeContext,
): IngestedProfile[] {
  const files = parseMultipartFiles(request.contentType, request.body);
  if ((files.get('prev_profile')?.length ?? 0) > 0) {
    throw unprocessable(
      'unsupported',
      'unsupported client version: the multipart part "prev_profile" (cumulative profiles) is not ' +
        'supported; update the Pyroscope SDK, which now sends deltas',
    );
  }
  const profile = files.get('profile');
  if (profile === undefined) {
    throw unprocessable('bad_format', 'multipart body has no file part named "profile"');
  }
  const config = files.get('sample_type_config');
  const configs = config?.length ? parseSampleTypeConfigs(config) : defaultSampleTypeConfigs;
  return ingestPprof(profile, configs, params, ctx);
}

/** `time_nanos` before this (0, or 1970 from clients that sent microseconds) is replaced by `from`. */
const START_OF_1971_NANOS = 31_536_000n * 1_000_000_000n;

function ingestPprof(
  bytes: Uint8Array,
  configs: SampleTypeConfigs,
  params: LegacyParams,
  ctx: DecodeContext,
): IngestedProfile[] {
  if (bytes.length === 0) return [];
  const profile = decodeClientProfile(bytes, ctx.limits);
  const ingested = normalizeProfile({
    tenant: ctx.tenant,
    profile,
    payload: bytes,
    labels: seriesLabels(params, pprofMetricName(profile, configs), params.name.appName, 'drop'),
    timeNanos: profile.timeNanos < START_OF_1971_NANOS ? params.fromNanos : profile.timeNanos,
    limits: ctx.limits,
  });
  return ingested ? [ingested] : [];
}

/**
 * The series labels of an `/ingest` upload: `__name__`, `pyroscope_spy`, the labels of `name` except
 * private `__*` ones (but `__session_id__`), and `service_name` = the app name. When the name already
 * has a `service_name`, that one wins and the app name goes to `app_name` (text formats, unless the name
 * has one) or is dropped (pprof), as in Pyroscope v1.
 */
function seriesLabels(
  params: LegacyParams,
  metric: string,
  serviceName: string,
  whenServiceNameGiven: 'app_name' | 'drop',
): SeriesLabels {
  const labels = new SeriesLabels();
  labels.add(LabelName.MetricName, metric);
  labels.add('pyroscope_spy', params.spyName);
  for (const { name, value } of params.name.labels) {
    if (!name.startsWith('__') || name === '__session_id__') labels.add(name, value);
  }
  if (labels.get(LabelName.ServiceName) === undefined) labels.add(LabelName.ServiceName, serviceName);
  else if (whenServiceNameGiven === 'app_name' && labels.get('app_name') === undefined) {
    labels.add('app_name', serviceName);
  }
  return labels;
}

function unprocessableOnError(ingest: () => IngestedProfile[]): IngestedProfile[] {
  try {
    return ingest();
  } catch (error) {
    throw asUnprocessable(error);
  }
}
