import { readFileSync } from 'node:fs';
import { labelValue } from '@emberscope/model';
import { encodeProfile, ProfileBuilder, type ProfileBuilderOptions } from '@emberscope/pprof';
import { expect } from 'vitest';
import {
  DeltaState,
  defaultIngestLimits,
  type IngestContext,
  IngestError,
  type IngestedProfile,
  type IngestLimits,
} from '../src/index.js';

export const NOW_MS = Date.UTC(2026, 10, 26, 14, 0, 0);
export const NOW_NS = BigInt(NOW_MS) * 1_000_000n;

export function context(
  overrides: Partial<Omit<IngestContext, 'limits'>> & { limits?: Partial<IngestLimits> } = {},
): IngestContext {
  return {
    tenant: 'anonymous',
    nowMs: NOW_MS,
    deltas: new DeltaState(),
    ...overrides,
    limits: { ...defaultIngestLimits, ...overrides.limits },
  };
}

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../../testdata/ingest/${name}`, import.meta.url));
}

/** A stack, root first, with one value per sample type and optional string labels. */
export type TestSample = [stack: string[], values: number[], labels?: Record<string, string>];

export function pprofBytes(options: ProfileBuilderOptions, samples: TestSample[], gzip = false): Uint8Array {
  const builder = new ProfileBuilder(options);
  for (const [stack, values, labels] of samples) builder.addSample(stack, values, labels);
  return encodeProfile(builder.build(), { gzip });
}

export interface FilePart {
  name: string;
  filename?: string;
  content: Uint8Array | string;
}

/** A multipart/form-data body as Go's mime/multipart writes it. */
export function multipartBody(boundary: string, parts: FilePart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      Buffer.from(part.content),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Unsigned LEB128, for hand-built trie and tree bodies. */
export function uvarint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

/** One pre-order node of a trie or tree body: name, value, child count. */
export function node(name: string, value: number, children: number): number[] {
  const nameBytes = [...Buffer.from(name)];
  return [...uvarint(nameBytes.length), ...nameBytes, ...uvarint(value), ...uvarint(children)];
}

export function profileTypeIds(profiles: IngestedProfile[]): string[] {
  return profiles.flatMap((p) => p.series.map((s) => labelValue(s.labels, '__profile_type__')));
}

/** Stacks (root first, `;`-joined) with their summed values for one sample type of one profile. */
export function foldedOf(profile: IngestedProfile, sampleType = 0): Map<string, number> {
  const p = profile.profile;
  const typeCount = p.sampleTypes.length / 2;
  const folded = new Map<string, number>();
  for (let s = 0; s < p.sampleCount; s++) {
    const frames: string[] = [];
    for (let i = p.sampleLocStart[s]; i < p.sampleLocStart[s + 1]; i++) {
      const line = p.locationLineStart[p.sampleLocs[i]];
      frames.unshift(p.strings[p.functionName[p.lineFunction[line]]]);
    }
    const key = frames.join(';');
    folded.set(key, (folded.get(key) ?? 0) + p.values[s * typeCount + sampleType]);
  }
  return folded;
}

export function expectIngestError(
  run: () => unknown,
  expected: { status: number; code: string; reason: string; message?: RegExp | string },
): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected an IngestError').toBeInstanceOf(IngestError);
  const error = thrown as IngestError;
  expect({ status: error.status, code: error.code, reason: error.reason }).toEqual({
    status: expected.status,
    code: expected.code,
    reason: expected.reason,
  });
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
}
