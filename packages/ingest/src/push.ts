import { LabelName } from '@emberscope/model';
import { decodeClientProfile } from './decode.js';
import type { DeltaState } from './delta.js';
import { SeriesLabels } from './labels.js';
import { normalizeProfile } from './normalize.js';
import { nowNanos } from './time.js';
import type { DecodeContext, IngestContext, IngestedProfile } from './types.js';

/** A `push.v1.RawProfileSeries` as decoded from the wire (binary or JSON). */
export interface PushSeries {
  labels: readonly { name: string; value: string }[];
  /** `rawProfile` is a pprof, gzipped or not; `id` is ignored, as in Pyroscope v1. */
  samples: readonly { rawProfile: Uint8Array; id: string }[];
}

/** Labels a client may send that steer ingestion and are never stored. */
const CONSUMED_LABELS = ['__otel__', '__order__'];

/** A decoded Push profile before server-side deltas. */
export interface DecodedPush {
  ingested: IngestedProfile;
  /** False when its series said `__delta__="false"`. */
  mayBeCumulative: boolean;
}

/**
 * Converts a `push.v1.PusherService/Push` request into profiles to store. Per series: `__name__` is
 * required and must be a metric name, `service_name` defaults to `unknown_service`, label names have
 * dots replaced by `_` and are otherwise `[A-Za-z0-9_]`, duplicates are refused; `__delta__` is consumed
 * and, unless it is "false", cumulative allocation series are turned into deltas (see DeltaState).
 * Every series is validated before any delta baseline changes, so a refused request leaves no trace.
 * Errors are 400 `invalid_argument`.
 */
export function ingestPush(series: readonly PushSeries[], ctx: IngestContext): IngestedProfile[] {
  return applyPushDeltas(decodePush(series, ctx), ctx.deltas);
}

/** The stateless part of `ingestPush`: validation and decoding, which may run on a worker thread. */
export function decodePush(series: readonly PushSeries[], ctx: DecodeContext): DecodedPush[] {
  const decoded: DecodedPush[] = [];
  series.forEach((pushed, seriesIndex) => {
    const labels = new SeriesLabels();
    for (const { name, value } of pushed.labels) labels.add(name, value);
    const delta = labels.take(LabelName.Delta);
    for (const name of CONSUMED_LABELS) labels.take(name);
    if (!labels.get(LabelName.ServiceName)) labels.set(LabelName.ServiceName, 'unknown_service');
    labels.toLabels(ctx.limits); // validates series without samples too
    pushed.samples.forEach((sample, sampleIndex) => {
      const profile = decodeClientProfile(
        sample.rawProfile,
        ctx.limits,
        `series ${seriesIndex} sample ${sampleIndex}: profile`,
      );
      const ingested = normalizeProfile({
        tenant: ctx.tenant,
        profile,
        payload: sample.rawProfile,
        labels,
        timeNanos: profile.timeNanos === 0n ? nowNanos(ctx.nowMs) : profile.timeNanos,
        limits: ctx.limits,
      });
      if (ingested) decoded.push({ ingested, mayBeCumulative: delta !== 'false' });
    });
  });
  return decoded;
}

/** The stateful part of `ingestPush`: cumulative profiles become deltas against their baselines. */
export function applyPushDeltas(decoded: readonly DecodedPush[], deltas: DeltaState): IngestedProfile[] {
  const stored: IngestedProfile[] = [];
  for (const { ingested, mayBeCumulative } of decoded) {
    const profile = mayBeCumulative ? deltas.subtract(ingested) : ingested;
    if (profile) stored.push(profile);
  }
  return stored;
}
