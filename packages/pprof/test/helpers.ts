import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Profile as PprofFormatProfile } from 'pprof-format';
import { expect } from 'vitest';
import { MappingFlag, numSampleTypes, type Profile } from '../src/index.js';

const fixtureDir = new URL('../../../testdata/pprof/', import.meta.url);

/** The real profiles in testdata/pprof (see its PROVENANCE.md). */
export const fixtureNames = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.pb.gz'))
  .sort();

export function readFixture(name: string): Buffer {
  return readFileSync(new URL(name, fixtureDir));
}

export function readFixtureRaw(name: string): Buffer {
  return gunzipSync(readFixture(name));
}

/**
 * Asserts two profiles are equal. Typed columns are compared as bytes first, because a generic deep
 * equality walks them element by element (seconds for a large profile); only a mismatch is handed to
 * `toEqual` for a readable diff.
 */
export function expectSameProfile(actual: Profile, expected: Profile): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const key of Object.keys(expected) as (keyof Profile)[]) {
    const [a, e] = [actual[key], expected[key]];
    if (ArrayBuffer.isView(a) && ArrayBuffer.isView(e) && a.constructor === e.constructor) {
      const bytes = (view: ArrayBufferView) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      if (bytes(a).equals(bytes(e))) continue;
    }
    expect(a, key).toEqual(e);
  }
}

/**
 * A profile rendered as plain strings and rows, with every id, index and number spelled out, so two
 * decoders can be compared field by field and a mismatch shows up as a readable diff. Samples refer to
 * locations by id, locations to mappings and functions by id, as on the wire.
 */
export interface ProfileView {
  strings: string[];
  sampleTypes: string[];
  samples: string[];
  mappings: string[];
  locations: string[];
  functions: string[];
  header: string;
}

const signed = (value: number | bigint) => BigInt.asIntN(64, BigInt(value));
const unsigned = (value: number | bigint) => BigInt.asUintN(64, BigInt(value));

function mappingRow(
  id: bigint,
  range: [bigint, bigint, bigint],
  file: bigint,
  buildId: bigint,
  flags: boolean[],
): string {
  return `id=${id} range=${range.join(':')} file=${file} build=${buildId} flags=${flags.map(Number).join('')}`;
}

function headerRow(fields: (number | bigint)[], comments: (number | bigint)[]): string {
  return `${fields.map(signed).join(' ')} comments=${comments.map(signed).join(',')}`;
}

export function viewOfPprofFormat(p: PprofFormatProfile): ProfileView {
  return {
    strings: p.stringTable.strings,
    sampleTypes: p.sampleType.map((t) => `${signed(t.type)}/${signed(t.unit)}`),
    samples: p.sample.map((s) => {
      const labels = s.label.map((l) => [l.key, l.str, l.num, l.numUnit].map(signed).join(':'));
      return `${s.locationId.map(unsigned)}|${s.value.map(signed)}|${labels.join(',')}`;
    }),
    mappings: p.mapping.map((m) =>
      mappingRow(
        unsigned(m.id),
        [unsigned(m.memoryStart), unsigned(m.memoryLimit), unsigned(m.fileOffset)],
        signed(m.filename),
        signed(m.buildId),
        [m.hasFunctions, m.hasFilenames, m.hasLineNumbers, m.hasInlineFrames],
      ),
    ),
    locations: p.location.map((l) => {
      const lines = l.line.map(
        (line) => `${unsigned(line.functionId)}:${signed(line.line)}:${signed(line.column)}`,
      );
      return `id=${unsigned(l.id)} mapping=${unsigned(l.mappingId)} address=${unsigned(l.address)} folded=${Number(l.isFolded)} lines=${lines.join(',')}`;
    }),
    functions: p.function.map(
      (f) => `id=${unsigned(f.id)} ${[f.name, f.systemName, f.filename, f.startLine].map(signed).join(' ')}`,
    ),
    header: headerRow(
      [
        p.dropFrames,
        p.keepFrames,
        p.timeNanos,
        p.durationNanos,
        p.periodType?.type ?? 0,
        p.periodType?.unit ?? 0,
        p.period,
        p.defaultSampleType,
      ],
      p.comment,
    ),
  };
}

export function viewOfProfile(p: Profile): ProfileView {
  const typeCount = numSampleTypes(p);
  const rows = (count: number, row: (i: number) => string) => Array.from({ length: count }, (_, i) => row(i));
  const int = (value: number) => BigInt(value);
  return {
    strings: p.strings,
    sampleTypes: rows(typeCount, (t) => `${p.sampleTypes[2 * t]}/${p.sampleTypes[2 * t + 1]}`),
    samples: rows(p.sampleCount, (s) => {
      const ids = Array.from(p.sampleLocs.subarray(p.sampleLocStart[s], p.sampleLocStart[s + 1]), (l) =>
        int(p.locationId[l]),
      );
      const values = Array.from(p.values.subarray(s * typeCount, (s + 1) * typeCount), int);
      const labels = [];
      for (let l = p.sampleLabelStart[s]; l < p.sampleLabelStart[s + 1]; l++) {
        labels.push([p.labelKey[l], p.labelStr[l], p.labelNum[l], p.labelNumUnit[l]].map(int).join(':'));
      }
      return `${ids}|${values}|${labels.join(',')}`;
    }),
    mappings: rows(p.mappingCount, (m) =>
      mappingRow(
        int(p.mappingId[m]),
        [p.mappingStart[m], p.mappingLimit[m], p.mappingOffset[m]],
        int(p.mappingFile[m]),
        int(p.mappingBuildId[m]),
        Object.values(MappingFlag).map((flag) => (p.mappingFlags[m] & flag) !== 0),
      ),
    ),
    locations: rows(p.locationCount, (l) => {
      const mapping = p.locationMapping[l];
      const lines = [];
      for (let line = p.locationLineStart[l]; line < p.locationLineStart[l + 1]; line++) {
        const fn = p.lineFunction[line];
        lines.push(
          `${fn < 0 ? 0 : int(p.functionId[fn])}:${int(p.lineNumber[line])}:${int(p.lineColumn[line])}`,
        );
      }
      return `id=${int(p.locationId[l])} mapping=${mapping < 0 ? 0 : int(p.mappingId[mapping])} address=${p.locationAddress[l]} folded=${p.locationIsFolded[l]} lines=${lines.join(',')}`;
    }),
    functions: rows(
      p.functionCount,
      (f) =>
        `id=${int(p.functionId[f])} ${[p.functionName[f], p.functionSystemName[f], p.functionFilename[f], p.functionStartLine[f]].map(int).join(' ')}`,
    ),
    header: headerRow(
      [
        p.dropFrames,
        p.keepFrames,
        p.timeNanos,
        p.durationNanos,
        p.periodType[0],
        p.periodType[1],
        p.period,
        p.defaultSampleType,
      ],
      p.comments,
    ),
  };
}

/**
 * What consumers rely on without checking: every index is inside its table and every column has the
 * length its counts imply. Returns the violations (empty when the profile is sound).
 */
export function invariantViolations(p: Profile): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const inRange = (column: ArrayLike<number>, limit: number, name: string, allowNone = false) => {
    for (let i = 0; i < column.length; i++) {
      const value = column[i];
      if (!(value < limit && (value >= 0 || (allowNone && value === -1)))) {
        problems.push(`${name}[${i}] = ${value} not below ${limit}`);
        return;
      }
    }
  };
  const offsets = (column: Uint32Array, count: number, total: number, name: string) => {
    expect(column.length === count + 1 && column[0] === 0 && column[count] === total, `${name} bounds`);
    for (let i = 0; i < count; i++) expect(column[i] <= column[i + 1], `${name} not monotonic at ${i}`);
  };
  const strings = p.strings.length;
  expect(strings > 0 && p.strings[0] === '', 'string_table[0] is not ""');
  expect(p.sampleTypes.length >= 2 && p.sampleTypes.length % 2 === 0, 'sample types');
  expect(p.values.length === p.sampleCount * numSampleTypes(p), 'values length');
  offsets(p.sampleLocStart, p.sampleCount, p.sampleLocs.length, 'sampleLocStart');
  offsets(p.sampleLabelStart, p.sampleCount, p.labelKey.length, 'sampleLabelStart');
  offsets(p.locationLineStart, p.locationCount, p.lineFunction.length, 'locationLineStart');
  inRange(p.sampleLocs, p.locationCount, 'sampleLocs');
  inRange(p.locationMapping, p.mappingCount, 'locationMapping', true);
  inRange(p.lineFunction, p.functionCount, 'lineFunction', true);
  const stringColumns = {
    sampleTypes: p.sampleTypes,
    labelKey: p.labelKey,
    labelStr: p.labelStr,
    labelNumUnit: p.labelNumUnit,
    mappingFile: p.mappingFile,
    mappingBuildId: p.mappingBuildId,
    functionName: p.functionName,
    functionSystemName: p.functionSystemName,
    functionFilename: p.functionFilename,
    scalars: [p.dropFrames, p.keepFrames, ...p.periodType, ...p.comments, p.defaultSampleType],
  };
  for (const [name, column] of Object.entries(stringColumns)) inRange(column, strings, name);
  for (const [count, columns] of [
    [p.mappingCount, [p.mappingId, p.mappingStart, p.mappingLimit, p.mappingOffset, p.mappingFlags]],
    [p.locationCount, [p.locationId, p.locationAddress, p.locationIsFolded]],
    [p.functionCount, [p.functionId, p.functionStartLine]],
    [p.labelKey.length, [p.labelStr, p.labelNum, p.labelNumUnit]],
    [p.lineFunction.length, [p.lineNumber, p.lineColumn]],
  ] as const) {
    for (const column of columns) expect(column.length === count, 'column length');
  }
  return problems;
}
