/**
 * Oracles shared by the ingest-level targets (`/ingest` and Push): what an IngestError must look like and
 * what every IngestedProfile handed to storage must satisfy.
 */
import { gunzipSync } from 'node:zlib';
import {
  DeltaState,
  defaultIngestLimits,
  type IngestContext,
  IngestError,
  type IngestedProfile,
  type IngestLimits,
} from '../../packages/ingest/src/index.js';
import { decodeProfile, isGzip } from '../../packages/pprof/src/index.js';
import { expectSameProfile, invariantViolations } from '../../packages/pprof/test/helpers.js';
import { invariant } from './harness.js';

/** A fixed clock: the oracles must be deterministic. */
export const NOW_MS = Date.UTC(2026, 10, 26, 14, 0, 0);

/** Small limits, so that generated inputs reach them. */
export const FUZZ_LIMITS: IngestLimits = {
  ...defaultIngestLimits,
  maxProfileBytes: 64 * 1024,
  maxSamplesPerProfile: 1000,
  maxLabelsPerSeries: 12,
  maxLabelNameLength: 64,
  maxLabelValueLength: 128,
};

export function ingestContext(): IngestContext {
  return { tenant: 'fuzz', nowMs: NOW_MS, limits: FUZZ_LIMITS, deltas: new DeltaState({ maxSeries: 16 }) };
}

const REASONS = new Set([
  'bad_name',
  'bad_label',
  'bad_format',
  'bad_profile',
  'too_large',
  'limit_samples',
  'limit_labels',
  'limit_label_name',
  'limit_label_value',
  'unsupported',
]);

/** Every IngestError is a 4xx with a known reason and a message for the client. */
export function checkIngestError(error: IngestError): void {
  invariant(error.status >= 400 && error.status < 500, `IngestError status ${error.status}`);
  invariant(REASONS.has(error.reason), `unknown IngestError reason ${error.reason}`);
  invariant(error.message.length > 0, 'IngestError without a message');
}

/** The 422 `bad_format` IngestError of the body parsers. */
export function checkFormatError(error: IngestError): void {
  invariant(
    error.status === 422 && error.reason === 'bad_format',
    () => `expected 422 bad_format: ${error.status} ${error.reason} ${error.message}`,
  );
  invariant(error.message.length > 0, 'IngestError without a message');
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Labels derived from the profile type, exempt from the label limits (see IngestLimits). */
const PROFILE_TYPE_FAMILY = new Set([
  '__profile_type__',
  '__type__',
  '__unit__',
  '__period_type__',
  '__period_unit__',
]);

export interface IngestedExpectations {
  /** Text formats (folded, lines, trie, tree) only ever produce positive values. */
  positiveValues?: boolean;
}

/** What storage relies on for every profile ingestion hands it. */
export function checkIngested(
  p: IngestedProfile,
  ctx: IngestContext,
  expect: IngestedExpectations = {},
): void {
  const { profile, limits } = { profile: p.profile, limits: ctx.limits };
  invariant(p.tenant === ctx.tenant, 'tenant');
  const violations = invariantViolations(profile);
  invariant(violations.length === 0, () => `profile is unsound: ${violations.join('; ')}`);
  invariant(profile.sampleCount > 0, 'an empty profile must be dropped, not stored');
  invariant(profile.sampleCount <= limits.maxSamplesPerProfile, 'more samples than the limit');
  invariant(p.timeNanos >= INT64_MIN && p.timeNanos <= INT64_MAX, `time ${p.timeNanos} outside int64`);

  // The payload is what the WAL stores and what exports return: it must decode to exactly the profile,
  // and stay within the profile size limit once decompressed.
  const raw = isGzip(p.payload) ? gunzipSync(p.payload) : p.payload;
  invariant(
    raw.length <= limits.maxProfileBytes,
    () => `payload of ${raw.length} bytes exceeds maxProfileBytes ${limits.maxProfileBytes}`,
  );
  expectSameProfile(decodeProfile(p.payload), profile);

  if (expect.positiveValues) {
    invariant(
      profile.values.every((v) => v > 0 && Number.isSafeInteger(v)),
      'a text format produced a value ≤ 0 or above 2^53',
    );
    invariant(p.durationNanos >= 0n, `negative duration ${p.durationNanos}`);
  }

  invariant(p.series.length > 0, 'a stored profile without series');
  const sampleTypes = profile.sampleTypes.length / 2;
  for (const series of p.series) {
    invariant(
      series.sampleType >= 0 && series.sampleType < sampleTypes,
      `series sample type ${series.sampleType}`,
    );
    const names = series.labels.map((l) => l.name);
    invariant(
      names.every((n, i) => i === 0 || names[i - 1] < n),
      () => `labels not sorted and unique: ${names}`,
    );
    invariant(
      names.includes('__name__') && names.includes('service_name'),
      () => `missing __name__ or service_name: ${names}`,
    );
    for (const { name, value } of series.labels) {
      invariant(IDENTIFIER.test(name), `invalid label name ${JSON.stringify(name)}`);
      invariant(value !== '', `empty value of label ${name}`);
      if (!PROFILE_TYPE_FAMILY.has(name)) {
        invariant(Buffer.byteLength(name) <= limits.maxLabelNameLength, `label name ${name} over the limit`);
        invariant(
          Buffer.byteLength(value) <= limits.maxLabelValueLength,
          `label ${name} value over the limit`,
        );
      }
    }
    invariant(
      IDENTIFIER.test(series.labels.find((l) => l.name === '__name__')!.value),
      '__name__ is not a metric name',
    );
    if (series.samples) {
      const s = series.samples;
      invariant(
        s.every((x, i) => x < profile.sampleCount && (i === 0 || s[i - 1] < x)),
        'series samples out of range or order',
      );
    }
  }
}

export { IngestError };
