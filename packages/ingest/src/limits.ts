/** Per-request ingestion limits. Body size before decompression and rates are the server's job. */
export interface IngestLimits {
  /**
   * Largest pprof accepted after gunzip, in bytes. Text uploads are held to it too: their stacks written
   * out as folded text, and the pprof they convert to.
   */
  maxProfileBytes: number;
  maxSamplesPerProfile: number;
  /** Series labels counted after `__delta__` is consumed, without the `__profile_type__` family. */
  maxLabelsPerSeries: number;
  /** In UTF-8 bytes. */
  maxLabelNameLength: number;
  /** In UTF-8 bytes. */
  maxLabelValueLength: number;
}

/**
 * Pyroscope v1's defaults, except the profile size (4 MiB there) and the sample count (16000 there):
 * a busy Node or Java wall profile exceeds both, and ingest is columnar so large profiles are cheap.
 */
export const defaultIngestLimits: Readonly<IngestLimits> = Object.freeze({
  maxProfileBytes: 16 * 1024 * 1024,
  maxSamplesPerProfile: 100_000,
  maxLabelsPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
});
