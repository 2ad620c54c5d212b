import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseFolded } from '../src/formats/folded.js';
import { parseMultipartFiles } from '../src/formats/multipart.js';
import { IngestError, ingestLegacy, ingestPush, parseAppName, parseTime } from '../src/index.js';
import { context, multipartBody, pprofBytes } from './helpers.js';

/** Runs `fn` and fails on anything thrown that is not an IngestError. */
function onlyIngestErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof IngestError)) throw error;
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
    expect(error.message).not.toBe('');
  }
}

// Strings made of the characters that drive the parsers, so they reach their interesting states.
const nameLike = fc.stringMatching(/^[a-z.{}=, _\-/"é!:]{0,24}$/);
const timeLike = fc.stringMatching(/^[0-9now+\-hmsdMyw_, ]{0,24}$/);
const foldedLike = fc.stringMatching(/^[a-z; 0-9\r\n\-.]{0,60}$/);

describe('properties: any input fails only with an IngestError', () => {
  test('parseAppName', () => {
    fc.assert(
      fc.property(fc.oneof(nameLike, fc.string()), (name) => onlyIngestErrors(() => parseAppName(name))),
    );
  });

  test('parseTime never throws and returns int64 nanoseconds', () => {
    fc.assert(
      fc.property(fc.oneof(timeLike, fc.string()), (value) => {
        const nanos = parseTime(value, 1_577_836_800_000);
        expect(nanos).toBeGreaterThanOrEqual(-(1n << 63n));
        expect(nanos).toBeLessThan(1n << 63n);
      }),
    );
  });

  test('folded', () => {
    fc.assert(
      fc.property(fc.oneof(foldedLike, fc.string()), (text) =>
        onlyIngestErrors(() => parseFolded(Buffer.from(text), () => {})),
      ),
    );
  });

  test('multipart', () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.stringMatching(/^[-\r\nbxa="; :A-Za-z]{0,120}$/).map((s) => Buffer.from(s)),
      fc
        .array(
          fc.record({
            name: fc.constantFrom('profile', 'x'),
            filename: fc.constantFrom('f', undefined),
            content: fc.string(),
          }),
          {
            maxLength: 3,
          },
        )
        .map((parts) => multipartBody('b', parts))
        .chain((full) => fc.nat(full.length).map((cut) => full.subarray(0, cut))),
    );
    const contentType = fc.constantFrom(
      'multipart/form-data; boundary=b',
      'multipart/form-data',
      'multipart/form-data; boundary="b"',
    );
    fc.assert(
      fc.property(contentType, body, (ct, bytes) => onlyIngestErrors(() => parseMultipartFiles(ct, bytes))),
    );
  });

  test('ingestLegacy with any format, content type and body', () => {
    const profile = pprofBytes({ sampleTypes: [['cpu', 'nanoseconds']] }, [[['a', 'b'], [1]]], true);
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      foldedLike.map((s) => Buffer.from(s)),
      fc.nat(profile.length).map((cut) => profile.subarray(0, cut)),
    );
    fc.assert(
      fc.property(
        fc.record({
          name: fc.oneof(fc.constantFrom('app', 'app.cpu', 'app.alloc_space{a=b}', 'x.unknown'), nameLike),
          format: fc.constantFrom(
            null,
            'folded',
            'lines',
            'trie',
            'tree',
            'pprof',
            'jfr',
            'speedscope',
            'other',
          ),
          from: fc.oneof(timeLike, fc.constant('1795702079')),
          sampleRate: fc.constantFrom('100', '0', '17', 'x', '-1', '1000000000000'),
        }),
        fc.constantFrom(
          '',
          'multipart/form-data; boundary=b',
          'binary/octet-stream+trie',
          'binary/octet-stream+tree',
        ),
        body,
        ({ format, ...params }, contentType, bytes) => {
          const query = new URLSearchParams(params);
          if (format !== null) query.set('format', format);
          onlyIngestErrors(() => ingestLegacy({ query, contentType, body: bytes }, context()));
        },
      ),
    );
  });

  test('ingestPush with any labels and bytes', () => {
    const profile = pprofBytes(
      { sampleTypes: [['cpu', 'nanoseconds']] },
      [[['a'], [1], { 'k.x': 'v' }]],
      true,
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.oneof(fc.constantFrom('__name__', 'service_name', 'a.b', '__delta__'), nameLike),
            value: fc.string(),
          }),
          {
            maxLength: 5,
          },
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.nat(profile.length).map((cut) => profile.subarray(0, cut)),
        ),
        (labels, rawProfile) =>
          onlyIngestErrors(() => ingestPush([{ labels, samples: [{ rawProfile, id: '' }] }], context())),
      ),
    );
  });
});
