/** Connect protocol error codes and the HTTP status each maps to (connectrpc.com/docs/protocol#error-codes). */
export const connectCodeStatus = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
} as const;

export type ConnectCode = keyof typeof connectCodeStatus;

/** An error answered to a client as `{"code": …, "message": …}` with the code's HTTP status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ConnectCode,
    message: string,
    /** Short, low-cardinality reason for metrics (e.g. `bad_name`, `too_large`). */
    readonly reason: string = code,
    status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status ?? connectCodeStatus[code];
  }
}
