import type { Labels, Matcher, StackValues } from '@emberscope/model';
import type { Profile } from '@emberscope/pprof';

/** One series to store from a decoded profile: one sample type, optionally a subset of the samples. */
export interface SeriesPlan {
  /** Complete, sorted series labels, including __name__, service_name and __profile_type__. */
  labels: Labels;
  /** Index into the profile's sample types. */
  sampleType: number;
  /** Sample indexes that belong to this series (grouped by pprof sample labels); all samples when absent. */
  samples?: Uint32Array;
}

/** A profile accepted by ingest, ready to store. */
export interface AppendRequest {
  tenant: string;
  /** Symbol partition, normally the service name. */
  partition: string;
  profile: Profile;
  /**
   * The pprof bytes (gzipped or not) that `profile` was decoded from. They are what the WAL keeps;
   * replaying decodes them again, so they must decode to exactly `profile`.
   */
  payload: Uint8Array;
  timeNanos: bigint;
  durationNanos: bigint;
  series: SeriesPlan[];
}

export interface TimeRange {
  /** Inclusive start, ms since epoch. */
  startMs: number;
  /** Inclusive end, ms since epoch. */
  endMs: number;
}

export interface StorageStats {
  headBytes: number;
  headProfiles: number;
  headSeries: number;
  walBytes: number;
  blocks: number;
  blockBytes: number;
}

/** The storage engine seen by the server. Every call is scoped to one tenant. */
export interface StorageEngine {
  /** Resolves once every request is durable in the WAL (fsynced); the caller acknowledges only then. */
  append(requests: AppendRequest[]): Promise<void>;

  /** Distinct __profile_type__ values of series with data in range, sorted. */
  profileTypes(tenant: string, range: TimeRange): Promise<string[]>;
  labelNames(tenant: string, matchers: readonly Matcher[], range: TimeRange): Promise<string[]>;
  labelValues(
    tenant: string,
    name: string,
    matchers: readonly Matcher[],
    range: TimeRange,
  ): Promise<string[]>;
  /** Unique label sets of matching series with data in range, restricted to labelNames when non-empty. */
  series(
    tenant: string,
    matchers: readonly Matcher[],
    labelNames: readonly string[],
    range: TimeRange,
  ): Promise<Labels[]>;
  /** Sums the samples of every matching profile in range, one StackValues per symbol partition. */
  mergeStacks(tenant: string, matchers: readonly Matcher[], range: TimeRange): Promise<StackValues[]>;

  stats(): StorageStats;
  /** Writes the head to a block now. */
  flush(): Promise<void>;
  /** Flushes pending WAL writes and releases files. */
  close(): Promise<void>;
}
