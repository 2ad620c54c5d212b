// Bugs found by the fuzz targets in test/fuzz (their inputs are kept in test/fuzz/regressions/).
import { describe, expect, test } from 'vitest';
import { ingestLegacy, parseAppName } from '../src/index.js';
import { context, expectIngestError, node } from './helpers.js';

/** A chain of `depth` nodes under an empty root: n stacks of 1..n frames from 4n bytes. */
function chainBody(depth: number, name = 'a'): Buffer {
  const bytes = [...node('', 0, 1)];
  for (let i = 0; i < depth; i++) bytes.push(...node(name, 1, i < depth - 1 ? 1 : 0));
  return Buffer.from(bytes);
}

const upload = (format: string, body: Uint8Array, maxProfileBytes: number) =>
  ingestLegacy(
    { query: new URLSearchParams({ name: 'app.cpu', format }), contentType: '', body },
    context({ limits: { maxProfileBytes } }),
  );

describe('text uploads are held to the profile size limit (ingest-legacy fuzz target)', () => {
  // A 4 KB tree or trie body used to expand into ~10^6 frames (and a 400 KB one into ~10^10, exhausting
  // memory); the pprof stored could exceed maxProfileBytes by any factor.
  test.each(['tree', 'trie'])('a deep %s chain is refused with 422 too_large', (format) => {
    expectIngestError(() => upload(format, chainBody(1000), 64 * 1024), {
      status: 422,
      code: 'invalid_argument',
      reason: 'too_large',
      message: `the stacks of this ${format} body add up to more than the profile size limit of 65536 bytes`,
    });
  });

  test('the same chain is accepted within the limit, with all its stacks', () => {
    const [profile] = upload('tree', chainBody(100), 64 * 1024);
    expect(profile.profile.sampleCount).toBe(100);
    expect(profile.profile.sampleLocs.length).toBe((100 * 101) / 2);
    expect(profile.payload.length).toBeLessThanOrEqual(64 * 1024);
  });

  test('a folded body whose pprof exceeds the limit is refused', () => {
    const body = Buffer.from(Array.from({ length: 200 }, (_, i) => `f${i} 1\n`).join(''));
    expect(upload('folded', body, 64 * 1024)).toHaveLength(1);
    expectIngestError(() => upload('folded', body, 2000), {
      status: 422,
      code: 'invalid_argument',
      reason: 'too_large',
      message:
        /^this folded body converts to a pprof of \d+ bytes, more than the profile size limit of 2000 bytes$/,
    });
  });
});

describe('parseAppName: blank label slots (app-name fuzz target)', () => {
  // `{` + n spaces + n commas re-trimmed the key at every comma: quadratic, ~250 ms for a 16 KiB URL.
  test('whitespace-only slots between commas are skipped, however long', () => {
    const name = `app{${' '.repeat(20_000)}${','.repeat(20_000)}a=b}`;
    expect(parseAppName(name)).toEqual({ appName: 'app', labels: [{ name: 'a', value: 'b' }] });
    expect(parseAppName('app{ \u00a0\t,, ,a=b,}').labels).toEqual([{ name: 'a', value: 'b' }]);
  });

  test('a comma after a non-blank key is part of the key, as before', () => {
    expectIngestError(() => parseAppName('app{ x ,a=b}'), {
      status: 400,
      code: 'invalid_argument',
      reason: 'bad_name',
      message: /label key "x ,a" contains " "/,
    });
  });
});
