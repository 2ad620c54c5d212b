import { decodeProfile, isGzip, PprofError, type Profile } from '@emberscope/pprof';
import { invalidArgument } from './errors.js';
import type { IngestLimits } from './limits.js';

/**
 * Decodes a client's pprof (gzip sniffed by magic bytes), refusing more than `maxProfileBytes` of
 * protobuf whether or not it was compressed. Decode failures are 400 `bad_profile` or `too_large`.
 */
export function decodeClientProfile(bytes: Uint8Array, limits: IngestLimits, what = 'profile'): Profile {
  if (!isGzip(bytes) && bytes.length > limits.maxProfileBytes) throw tooLarge(what, limits);
  try {
    return decodeProfile(bytes, { maxDecompressedBytes: limits.maxProfileBytes });
  } catch (error) {
    if (!(error instanceof PprofError)) throw error;
    if (error.reason === 'too_large') throw tooLarge(what, limits);
    throw invalidArgument('bad_profile', `${what} is not a valid pprof (${error.reason}): ${error.message}`);
  }
}

function tooLarge(what: string, limits: IngestLimits) {
  return invalidArgument(
    'too_large',
    `${what} is larger than the limit of ${limits.maxProfileBytes} bytes after decompression`,
  );
}
