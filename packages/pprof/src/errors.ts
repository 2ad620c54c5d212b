/**
 * Why a pprof payload was refused. Callers branch on this code; the message says what and where.
 * Table entries in messages are numbered by position from 0 ("sample 12", "function 4"); byte offsets
 * refer to the decompressed message.
 */
export type PprofErrorReason =
  /** The input ends inside a field, or a length or varint runs past the end of its message. */
  | 'truncated'
  /** A varint is longer than 10 bytes. */
  | 'bad_varint'
  /** Wire type 6 or 7, an unmatched end-group, field number 0, or a known field with the wrong wire type. */
  | 'bad_wire_type'
  /** The gzip stream is corrupt. */
  | 'bad_gzip'
  /** The decompressed profile would exceed `maxDecompressedBytes`. */
  | 'too_large'
  /** The string table is missing or does not start with "". */
  | 'string_table'
  /** A string index is outside the string table. */
  | 'string_index'
  | 'empty_sample_types'
  /** A sample does not have one value per sample type. */
  | 'value_count'
  /** A mapping, location or function has id 0, which pprof reserves for "none". */
  | 'zero_id'
  /** An id above 2^53 - 1: ids that large cannot be told apart (they decode to the same number). */
  | 'large_id'
  | 'duplicate_id'
  | 'unknown_location'
  | 'unknown_function'
  | 'unknown_mapping';

/** The only error `decodeProfile` throws for bad input. */
export class PprofError extends Error {
  override readonly name = 'PprofError';

  constructor(
    readonly reason: PprofErrorReason,
    message: string,
  ) {
    super(message);
  }
}
