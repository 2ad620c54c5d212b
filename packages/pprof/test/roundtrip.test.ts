import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Profile as PprofFormatProfile } from 'pprof-format';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeProfile, encodeProfile, isGzip, ProfileBuilder } from '../src/index.js';
import { arbProfile } from './arbitraries.js';
import {
  expectSameProfile,
  fixtureNames,
  invariantViolations,
  readFixture,
  viewOfPprofFormat,
  viewOfProfile,
} from './helpers.js';

describe('encodeProfile', () => {
  it.each(fixtureNames)('%s: decode → encode → decode gives an equal profile', (name) => {
    const decoded = decodeProfile(readFixture(name));
    expectSameProfile(decodeProfile(encodeProfile(decoded)), decoded);
  });

  it.each(fixtureNames)('%s: pprof-format reads what we encode', (name) => {
    const decoded = decodeProfile(readFixture(name));
    const theirs = PprofFormatProfile.decode(encodeProfile(decoded));
    expect(viewOfPprofFormat(theirs)).toEqual(viewOfProfile(decoded));
  });

  it('gzips on request', () => {
    const decoded = decodeProfile(readFixture('go-goroutine.pb.gz'));
    const gzipped = encodeProfile(decoded, { gzip: true });
    expect(isGzip(gzipped)).toBe(true);
    expectSameProfile(decodeProfile(gzipped), decoded);
  });

  it('round-trips random valid profiles, and pprof-format agrees on them', () => {
    fc.assert(
      fc.property(arbProfile, fc.boolean(), (profile, gzip) => {
        expect(invariantViolations(profile)).toEqual([]);
        const bytes = encodeProfile(profile, { gzip });
        expectSameProfile(decodeProfile(bytes), profile);
        if (!gzip)
          expect(viewOfPprofFormat(PprofFormatProfile.decode(bytes))).toEqual(viewOfProfile(profile));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses values that are not 64-bit integers', () => {
    const profile = new ProfileBuilder({ sampleTypes: [['samples', 'count']] })
      .addSample(['main'], [1])
      .build();
    for (const bad of [0.5, Number.NaN, 2 ** 64]) {
      profile.values[0] = bad;
      expect(() => encodeProfile(profile)).toThrow(RangeError);
    }
  });
});

describe('go tool pprof reads what we encode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emberscope-pprof-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const goPprof = (args: string[], profile: Uint8Array) => {
    const file = join(dir, `profile-${Math.random().toString(36).slice(2)}.pb.gz`);
    writeFileSync(file, profile);
    return execFileSync('go', ['tool', 'pprof', '-symbolize=none', ...args, file], { encoding: 'utf8' });
  };

  it('prints the same -raw dump for a real Go profile and our re-encoding of it', () => {
    const original = readFixture('go-cpu.pb.gz');
    const reencoded = encodeProfile(decodeProfile(original), { gzip: true });
    expect(goPprof(['-raw'], reencoded)).toEqual(goPprof(['-raw'], original));
  });

  it('reads a profile made with ProfileBuilder', () => {
    const profile = new ProfileBuilder({
      sampleTypes: [
        ['samples', 'count'],
        ['cpu', 'nanoseconds'],
      ],
      periodType: ['cpu', 'nanoseconds'],
      period: 10_000_000,
      timeNanos: 1_700_000_000_000_000_000n,
      durationNanos: 10_000_000_000n,
    })
      .addSample(['main', 'serve', 'encodeJSON'], [3, 30_000_000], { handler: 'api' })
      .addSample(['main', 'serve', 'parseRequest'], [1, 10_000_000])
      .addSample(['main', 'gc'], [2, 20_000_000])
      .build();
    const top = goPprof(['-top', '-sample_index=cpu'], encodeProfile(profile, { gzip: true }));
    const table = top.split('\n');
    const rows = table.slice(table.findIndex((line) => line.trim().startsWith('flat')) + 1).filter(Boolean);
    // Ordered by flat value: encodeJSON (30ms), gc (20ms), parseRequest (10ms), then the callers.
    expect(rows.map((row) => row.trim().split(/\s+/).at(-1))).toEqual([
      'encodeJSON',
      'gc',
      'parseRequest',
      'main',
      'serve',
    ]);
    expect(rows[0]).toMatch(/^\s*30ms\s+50\.00%\s+50\.00%\s+30ms\s+50\.00%\s+encodeJSON$/);
    expect(top).toContain('Total samples = 60ms');
    const raw = goPprof(['-raw'], encodeProfile(profile));
    expect(raw).toContain('samples/count cpu/nanoseconds');
    expect(raw).toMatch(/ 3\s+30000000: 1 2 3 \n\s+handler:\[api\]\n\s+1\s+10000000: 4 2 3 \n/);
  });
});
