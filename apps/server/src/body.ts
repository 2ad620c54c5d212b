import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ApiError } from '@emberscope/api';

const gunzipAsync = promisify(gunzip);

/**
 * Undoes `Content-Encoding: gzip` off the event loop (zlib runs on the libuv pool). The output limit
 * makes zlib stop as soon as it is exceeded, so a gzip bomb costs at most `maxBytes` of memory.
 */
export async function decodeContentEncoding(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const enc = encoding?.trim().toLowerCase();
  if (!enc || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip')
    throw new ApiError(
      'unimplemented',
      `unsupported Content-Encoding "${encoding}": use gzip or none`,
      'bad_encoding',
      415,
    );
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new ApiError(
        'resource_exhausted',
        `request body exceeds ${maxBytes} bytes after gzip decompression`,
        'too_large',
        413,
      );
    throw new ApiError('invalid_argument', `invalid gzip body: ${(err as Error).message}`, 'bad_gzip');
  }
}
