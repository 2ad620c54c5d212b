import type { Labels } from '@emberscope/model';
import type { Profile } from '@emberscope/pprof';
import type { DeltaState } from './delta.js';
import type { IngestLimits } from './limits.js';

/** One series to store from a profile; structurally a storage `SeriesPlan`. */
export interface IngestedSeries {
  /** Complete and sorted: `__name__`, `service_name`, `__profile_type__` and its parts, user labels. */
  labels: Labels;
  /** Index into the profile's sample types. */
  sampleType: number;
  /** The samples of this series when pprof sample labels split the profile; all samples when absent. */
  samples?: Uint32Array;
}

/** A profile ready to store; structurally a storage `AppendRequest`. */
export interface IngestedProfile {
  tenant: string;
  /** Symbol partition: the service name. */
  partition: string;
  profile: Profile;
  /** pprof bytes (gzipped or not) that decode to exactly `profile`. */
  payload: Uint8Array;
  timeNanos: bigint;
  durationNanos: bigint;
  series: IngestedSeries[];
}

/** What decoding a request needs: plain data, so that it can run on a worker thread. */
export interface DecodeContext {
  tenant: string;
  /** The current time, injected so that tests and replays are deterministic. */
  nowMs: number;
  limits: IngestLimits;
}

/** What every ingestion call needs besides the request. */
export interface IngestContext extends DecodeContext {
  /**
   * Baselines for server-side deltas of cumulative allocation profiles. Only Push uses it: `/ingest`
   * marks everything as already delta (`__delta__="false"`), as Pyroscope v1 does.
   */
  deltas: DeltaState;
}
