/** Thrown by `append` when a request would exceed a configured limit; nothing of the call is stored. */
export class StorageLimitError extends Error {
  override readonly name = 'StorageLimitError';
  constructor(
    readonly reason: 'series_limit',
    message: string,
  ) {
    super(message);
  }
}

/** A block file whose trailer, table of contents or a section fails its checks. */
export class BlockCorruptError extends Error {
  override readonly name = 'BlockCorruptError';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`corrupt block ${key}: ${detail}`);
  }
}
