import { gzipSync } from 'node:zlib';
import { MappingFlag, numSampleTypes, type Profile } from './profile.js';
import {
  FunctionTag,
  LabelTag,
  LineTag,
  LocationTag,
  MappingTag,
  ProfileTag,
  SampleTag,
  ValueTypeTag,
} from './schema.js';
import { HIGH, halves, highHalf, LOW, lowHalf } from './uint64.js';
import { WireWriter } from './writer.js';

export interface EncodeOptions {
  /** Gzip the result, as pprof files and Pyroscope uploads usually are. Default false. */
  gzip?: boolean;
}

/**
 * Encodes a well-formed `Profile` (as `decodeProfile` or `ProfileBuilder` produce) as a
 * `perftools.profiles.Profile`, with packed repeated scalars and zero-valued fields omitted. Decoding the
 * result gives an equal `Profile`: table order and ids are kept, indexes are written back as ids.
 */
export function encodeProfile(p: Profile, opts: EncodeOptions = {}): Uint8Array {
  // Location ids (1-2 bytes each) and values dominate the size; starting near it avoids most regrowth.
  const w = new WireWriter(1024 + 2 * p.sampleLocs.length + 4 * p.values.length);
  writeSampleTypes(w, p);
  writeSamples(w, p);
  writeMappings(w, p);
  writeLocations(w, p);
  writeFunctions(w, p);
  for (const s of p.strings) w.string(ProfileTag.StringTable, s);
  writeScalars(w, p);
  const bytes = w.finish();
  return opts.gzip ? gzipSync(bytes) : bytes;
}

function writeValueType(w: WireWriter, tag: number, type: number, unit: number): void {
  const bodyStart = w.beginLength(tag);
  w.varintField(ValueTypeTag.Type, type);
  w.varintField(ValueTypeTag.Unit, unit);
  w.endLength(bodyStart);
}

function writeSampleTypes(w: WireWriter, p: Profile): void {
  for (let t = 0; t < p.sampleTypes.length; t += 2) {
    writeValueType(w, ProfileTag.SampleType, p.sampleTypes[t], p.sampleTypes[t + 1]);
  }
}

function writeSamples(w: WireWriter, p: Profile): void {
  const { sampleLocStart, sampleLocs, sampleLabelStart, locationId } = p;
  const typeCount = numSampleTypes(p);
  for (let s = 0; s < p.sampleCount; s++) {
    const sampleStart = w.beginLength(ProfileTag.Sample);
    if (sampleLocStart[s] < sampleLocStart[s + 1]) {
      const idsStart = w.beginLength(SampleTag.LocationIdPacked);
      for (let i = sampleLocStart[s]; i < sampleLocStart[s + 1]; i++) w.varint(locationId[sampleLocs[i]]);
      w.endLength(idsStart);
    }
    w.packed(SampleTag.ValuePacked, p.values, s * typeCount, (s + 1) * typeCount);
    for (let l = sampleLabelStart[s]; l < sampleLabelStart[s + 1]; l++) {
      const labelStart = w.beginLength(SampleTag.Label);
      w.varintField(LabelTag.Key, p.labelKey[l]);
      w.varintField(LabelTag.Str, p.labelStr[l]);
      w.varintField(LabelTag.Num, p.labelNum[l]);
      w.varintField(LabelTag.NumUnit, p.labelNumUnit[l]);
      w.endLength(labelStart);
    }
    w.endLength(sampleStart);
  }
}

function writeMappings(w: WireWriter, p: Profile): void {
  const start = halves(p.mappingStart);
  const limit = halves(p.mappingLimit);
  const offset = halves(p.mappingOffset);
  const flagFields: [number, number][] = [
    [MappingTag.HasFunctions, MappingFlag.HasFunctions],
    [MappingTag.HasFilenames, MappingFlag.HasFilenames],
    [MappingTag.HasLineNumbers, MappingFlag.HasLineNumbers],
    [MappingTag.HasInlineFrames, MappingFlag.HasInlineFrames],
  ];
  for (let m = 0; m < p.mappingCount; m++) {
    const bodyStart = w.beginLength(ProfileTag.Mapping);
    w.varintField(MappingTag.Id, p.mappingId[m]);
    w.varint64Field(MappingTag.MemoryStart, start[2 * m + LOW], start[2 * m + HIGH]);
    w.varint64Field(MappingTag.MemoryLimit, limit[2 * m + LOW], limit[2 * m + HIGH]);
    w.varint64Field(MappingTag.FileOffset, offset[2 * m + LOW], offset[2 * m + HIGH]);
    w.varintField(MappingTag.Filename, p.mappingFile[m]);
    w.varintField(MappingTag.BuildId, p.mappingBuildId[m]);
    for (const [tag, flag] of flagFields) w.varintField(tag, p.mappingFlags[m] & flag ? 1 : 0);
    w.endLength(bodyStart);
  }
}

function writeLocations(w: WireWriter, p: Profile): void {
  const address = halves(p.locationAddress);
  for (let l = 0; l < p.locationCount; l++) {
    const bodyStart = w.beginLength(ProfileTag.Location);
    w.varintField(LocationTag.Id, p.locationId[l]);
    const mapping = p.locationMapping[l];
    w.varintField(LocationTag.MappingId, mapping < 0 ? 0 : p.mappingId[mapping]);
    w.varint64Field(LocationTag.Address, address[2 * l + LOW], address[2 * l + HIGH]);
    for (let line = p.locationLineStart[l]; line < p.locationLineStart[l + 1]; line++) {
      const lineStart = w.beginLength(LocationTag.Line);
      const fn = p.lineFunction[line];
      w.varintField(LineTag.FunctionId, fn < 0 ? 0 : p.functionId[fn]);
      w.varintField(LineTag.Line, p.lineNumber[line]);
      w.varintField(LineTag.Column, p.lineColumn[line]);
      w.endLength(lineStart);
    }
    w.varintField(LocationTag.IsFolded, p.locationIsFolded[l]);
    w.endLength(bodyStart);
  }
}

function writeFunctions(w: WireWriter, p: Profile): void {
  for (let f = 0; f < p.functionCount; f++) {
    const bodyStart = w.beginLength(ProfileTag.Function);
    w.varintField(FunctionTag.Id, p.functionId[f]);
    w.varintField(FunctionTag.Name, p.functionName[f]);
    w.varintField(FunctionTag.SystemName, p.functionSystemName[f]);
    w.varintField(FunctionTag.Filename, p.functionFilename[f]);
    w.varintField(FunctionTag.StartLine, p.functionStartLine[f]);
    w.endLength(bodyStart);
  }
}

function writeScalars(w: WireWriter, p: Profile): void {
  w.varintField(ProfileTag.DropFrames, p.dropFrames);
  w.varintField(ProfileTag.KeepFrames, p.keepFrames);
  w.varint64Field(ProfileTag.TimeNanos, lowHalf(p.timeNanos), highHalf(p.timeNanos));
  w.varint64Field(ProfileTag.DurationNanos, lowHalf(p.durationNanos), highHalf(p.durationNanos));
  if (p.periodType[0] !== 0 || p.periodType[1] !== 0) {
    writeValueType(w, ProfileTag.PeriodType, p.periodType[0], p.periodType[1]);
  }
  w.varintField(ProfileTag.Period, p.period);
  w.packed(ProfileTag.CommentPacked, p.comments);
  w.varintField(ProfileTag.DefaultSampleType, p.defaultSampleType);
}
