import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeProfile, encodeProfile, PprofError } from '../../packages/pprof/src/index.js';
import { arbProfile } from '../../packages/pprof/test/arbitraries.js';
import { expectSameProfile, invariantViolations } from '../../packages/pprof/test/helpers.js';
import { bytesCodec, fuzzTarget, invariant, outcome, scaled } from './harness.js';
import { mutants, PROTOBUF_TOKENS, textTokens } from './mutate.js';
import { pprofFixtures, pprofFixturesRaw } from './seeds.js';

/** Small enough that repeated chunks inside a gzip stream reach it. */
const MAX_DECOMPRESSED = 8 * 1024 * 1024;

/**
 * decodeProfile: returns a sound profile (every index in range, see invariantViolations) that our encoder
 * writes back to the same profile, or throws PprofError with a message; nothing else.
 */
function checkDecode(bytes: Uint8Array): void {
  const result = outcome(
    () => decodeProfile(bytes, { maxDecompressedBytes: MAX_DECOMPRESSED }),
    PprofError,
    (e) => invariant(e.message.length > 0 && e.reason.length > 0, 'PprofError without reason or message'),
  );
  if (!result.ok) return;
  const profile = result.value;
  const violations = invariantViolations(profile);
  invariant(violations.length === 0, () => `decoded profile is unsound: ${violations.join('; ')}`);
  expectSameProfile(decodeProfile(encodeProfile(profile)), profile);
}

const raw = pprofFixturesRaw();
const gzipped = pprofFixtures();
const pprofMutants = (seeds: Uint8Array[]) =>
  mutants(seeds, { protobuf: true, dictionary: PROTOBUF_TOKENS, maxEdits: 8, maxRepeat: scaled(64, 4096) });

/** Gzip headers with optional fields (FEXTRA with a huge length, FNAME, FCOMMENT, FHCRC), and members. */
const GZIP_TOKENS = [
  Uint8Array.of(0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff),
  Uint8Array.of(0x1f, 0x8b, 0x08, 0x1e, 0, 0, 0, 0, 0, 0xff),
  Uint8Array.of(0x1f, 0x8b, 0x08, 0x02, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00),
  Uint8Array.of(0x1f, 0x8b, 0x09),
  gzipSync(Buffer.alloc(0)),
  gzipSync(Buffer.alloc(4096)),
  ...textTokens('\u0000', 'x'),
];

fuzzTarget({
  name: 'pprof-decode',
  codec: bytesCodec,
  check: checkDecode,
  properties: [
    {
      name: 'arbitrary bytes, raw and behind a gzip magic',
      arbitrary: fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.concat([Buffer.of(0x1f, 0x8b), b])),
        fc.uint8Array({ maxLength: 256 }).map((b) => gzipSync(b)),
      ),
      runs: 200,
    },
    {
      name: 'field and byte mutations of the real profiles',
      arbitrary: pprofMutants(raw),
      runs: 80,
    },
    {
      name: 'mutations of the real profiles, gzipped',
      arbitrary: pprofMutants(raw).map((bytes) => gzipSync(bytes, { level: 1 })),
      runs: 40,
    },
    {
      name: 'byte mutations of gzip streams (headers, trailers, members)',
      arbitrary: mutants([...gzipped, Buffer.concat([gzipped[0], gzipped[0]]), gzipSync(gzipped[0])], {
        dictionary: GZIP_TOKENS,
        maxRepeat: scaled(16, 256),
      }),
      runs: 100,
    },
    {
      name: 'mutations of generated profiles covering every field',
      arbitrary: arbProfile.chain((p) => pprofMutants([encodeProfile(p)])),
      runs: 150,
    },
  ],
});
