/** Connect error codes (https://connectrpc.com/docs/protocol#error-codes). */
export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

/** Why ingestion refused a request: a short, stable value for metric labels and logs. */
export type IngestErrorReason =
  /** `/ingest` `name` is empty, malformed, or has an unknown profile-type suffix. */
  | 'bad_name'
  /** A series label name is invalid or duplicated, or `__name__` is missing or not a metric name. */
  | 'bad_label'
  /** A text, trie, tree, multipart or `sample_type_config` body does not parse. */
  | 'bad_format'
  /** A pprof does not decode or breaks a profile rule (sample type names, ...). */
  | 'bad_profile'
  /** The decompressed pprof, or a text body's stacks, exceed `IngestLimits.maxProfileBytes`. */
  | 'too_large'
  | 'limit_samples'
  | 'limit_labels'
  | 'limit_label_name'
  | 'limit_label_value'
  /** A format or client feature Emberscope does not implement (`format=jfr`, `prev_profile`, ...). */
  | 'unsupported';

/**
 * The only error ingestion throws for bad input. `status` is the HTTP status to answer with and `code`
 * the Connect code for the JSON error body (`{"code": …, "message": …}`); the message is meant for the
 * client and says exactly what was wrong.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';

  constructor(
    readonly status: number,
    readonly code: ConnectCode,
    readonly reason: IngestErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** 400 invalid_argument: the request itself is wrong (name, labels, limits). */
export function invalidArgument(reason: IngestErrorReason, message: string): IngestError {
  return new IngestError(400, 'invalid_argument', reason, message);
}

/** 422 invalid_argument: the body was read but cannot be parsed, as Pyroscope answers for parse errors. */
export function unprocessable(reason: IngestErrorReason, message: string): IngestError {
  return new IngestError(422, 'invalid_argument', reason, message);
}

/**
 * Pyroscope answers every error on the `/ingest` pprof paths (raw and multipart) with 422, including the
 * label and limit errors that are 400 elsewhere; this keeps code, reason and message and changes the status.
 */
export function asUnprocessable(error: unknown): unknown {
  if (error instanceof IngestError && error.status === 400) {
    return new IngestError(422, error.code, error.reason, error.message);
  }
  return error;
}
