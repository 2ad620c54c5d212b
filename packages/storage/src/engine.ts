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
  /**
   * This request already framed as a WAL record by `encodeWalRecord`, when the caller did it on another
   * thread to keep it off the event loop; it must be exactly `encodeWalRecord(request)` (so a request
   * changed afterwards must drop it).
   */
  walRecord?: Uint8Array;
  /**
   * `stringHashes(profile.strings)`, when the caller computed it on another thread: interning the
   * profile's strings is then an integer probe plus a comparison on the event loop, not a hash of each.
   */
  stringHashes?: Int32Array;
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
  /** Compactions completed since open. */
  compactions: number;
  /** Blocks and bytes deleted by retention (age or disk budget) since open. */
  retentionDeletedBlocks: number;
  retentionDeletedBytes: number;
  /** Time of the oldest and newest stored profile of any tenant, ms; 0 when there is none. */
  oldestProfileMs: number;
  newestProfileMs: number;
}

/** Writes accepted by `append` whose WAL records are not on disk yet (a slow disk makes this grow). */
export interface WalBacklog {
  appends: number;
  bytes: number;
}

export interface SelectSeriesOptions {
  /** Distance between points, ms (> 0). */
  stepMs: number;
  /** Labels to group series by; [] sums every matching series into one. */
  groupBy: readonly string[];
  /** 'sum' adds the totals of the profiles in a bucket; 'average' takes their mean. */
  aggregation: 'sum' | 'average';
  /** Keep only the N series with the largest sum of point values; absent or 0 = all. */
  limit?: number;
}

/** One series of a time series query. */
export interface SeriesPoints {
  /** Only the group-by labels present on the series, sorted by name; [] without groupBy. */
  labels: Labels;
  /** Ascending point times: range.startMs + k·stepMs. */
  timestampsMs: Float64Array;
  values: Float64Array;
}

export interface ProfileStats {
  dataIngested: boolean;
  /** ms since epoch; 0 when no data. */
  oldestProfileMs: number;
  newestProfileMs: number;
}

export interface BlockReport {
  id: string;
  minTimeMs: number;
  maxTimeMs: number;
  profiles: number;
  series: number;
  bytes: number;
  /** 0 = written by a flush; k = compacted (see docs/storage.md). */
  level: number;
}

export interface TenantStorageReport {
  tenant: string;
  /** Sorted by minTimeMs. */
  blocks: BlockReport[];
  blockBytes: number;
  headProfiles: number;
  headBytes: number;
  /** Bytes of this tenant's records in the live WAL segments. */
  walBytes: number;
  /** blockBytes + walBytes. */
  diskBytes: number;
  /** 0 when the tenant has no data. */
  oldestProfileMs: number;
  newestProfileMs: number;
}

export interface StorageReport {
  /** Sorted by tenant. */
  tenants: TenantStorageReport[];
  totals: {
    blocks: number;
    blockBytes: number;
    headProfiles: number;
    headBytes: number;
    /** The whole WAL, including records not attributable to a tenant any more. */
    walBytes: number;
    diskBytes: number;
    oldestProfileMs: number;
    newestProfileMs: number;
  };
  /** Effective retention settings (0 = off). */
  retentionMs: number;
  maxDiskBytes: number;
  compactions: number;
  retentionDeletedBlocks: number;
  retentionDeletedBytes: number;
}

export interface RetentionResult {
  deletedBlocks: number;
  deletedBytes: number;
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

  /**
   * Time series of the per-profile totals of matching series: one point per non-empty step bucket
   * `(ts − step, ts]`, `ts = range.startMs + k·step`, grouped by `opts.groupBy`, sorted by labels.
   */
  selectSeries(
    tenant: string,
    matchers: readonly Matcher[],
    range: TimeRange,
    opts: SelectSeriesOptions,
  ): Promise<SeriesPoints[]>;
  /**
   * The matching profiles in range merged into one pprof profile (one sample type, one sample per
   * distinct stack, full symbols); null when nothing matches. Select one profile type: sample and
   * period types are read from the labels of the first merged series.
   */
  mergeProfile(tenant: string, matchers: readonly Matcher[], range: TimeRange): Promise<Profile | null>;
  /** Whether the tenant has data, and the time of its oldest and newest profile. */
  profileStats(tenant: string): Promise<ProfileStats>;
  /** Blocks, head and disk use per tenant, for the status page and metrics. */
  report(): Promise<StorageReport>;
  /**
   * Deletes the matching series of the tenant: flushes the head, then rewrites every block holding
   * them (crash-safe like a compaction). Profiles appended while it runs are kept.
   */
  deleteSeries(tenant: string, matchers: readonly Matcher[]): Promise<{ deletedProfiles: number }>;
  /** Runs compaction until no window is due (it also runs on a timer). */
  compact(): Promise<void>;
  /** Deletes blocks past the retention age, then the oldest blocks over the disk budget. */
  enforceRetention(): Promise<RetentionResult>;

  stats(): StorageStats;
  /** Appends waiting for their WAL write and fsync; cheap enough to call on every request. */
  walBacklog(): WalBacklog;
  /**
   * Whether the in-memory head is at its size limit while the previous head is still being written to a
   * block: more writes now would grow memory without bound. Cheap enough to call on every request.
   */
  headFull(): boolean;
  /** Writes the head to a block now. */
  flush(): Promise<void>;
  /** Flushes pending WAL writes and releases files. */
  close(): Promise<void>;
}
