import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { PprofError } from './errors.js';
import type { Profile } from './profile.js';
import { MappingFlag, profileOf } from './profile.js';
import { WireReader } from './reader.js';
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
import { HIGH, halves, int64FromHalves, LOW } from './uint64.js';

export interface DecodeOptions {
  /**
   * Largest size, in bytes, that gzipped input may decompress to; default 256 MiB. It is enforced while
   * decompressing, so a gzip bomb is refused before it is inflated. Uncompressed input is not limited.
   */
  maxDecompressedBytes?: number;
}

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * Decodes a `perftools.profiles.Profile`, gzipped or not, into columnar form. Ids are resolved to table
 * indexes and every reference is checked, so consumers can index the columns without further checks.
 * Throws `PprofError` for any malformed input, and nothing else.
 */
export function decodeProfile(bytes: Uint8Array, opts: DecodeOptions = {}): Profile {
  const message = isGzip(bytes)
    ? gunzip(bytes, opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES)
    : bytes;
  try {
    return new ProfileDecoder(message).decode();
  } finally {
    if (scratch.bytes() > MAX_KEPT_BYTES) scratch = new Scratch();
  }
}

/**
 * Gzip is recognised by its magic bytes alone (Content-Encoding headers lie). An uncompressed profile
 * cannot start with them: 0x1f would be field 3 with wire type 7, which does not exist.
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (!(maxBytes > 0)) throw new RangeError(`maxDecompressedBytes must be positive, got ${maxBytes}`);
  const limit = Math.min(maxBytes, bufferConstants.MAX_LENGTH);
  try {
    return gunzipSync(bytes, { maxOutputLength: limit, chunkSize: outputChunkSize(bytes, limit) });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PprofError('too_large', `gzipped profile decompresses to more than ${limit} bytes`);
    }
    throw new PprofError('bad_gzip', `gzip: ${(error as Error).message}`);
  }
}

/**
 * zlib's output chunk size: the decompressed size that the gzip trailer announces (ISIZE, the last
 * member's size mod 2^32), so that a typical profile inflates into one buffer instead of 16 KiB chunks
 * that are then concatenated. Only a hint: a wrong or hostile ISIZE changes the chunking, never the output
 * or the limit, and it is capped so that it cannot make zlib allocate much up front.
 */
function outputChunkSize(bytes: Uint8Array, limit: number): number {
  const n = bytes.length;
  if (n < 18) return 16 * 1024;
  const isize = (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
  return Math.max(16 * 1024, Math.min(isize + 64, limit + 64, 4 * 1024 * 1024));
}

/**
 * Maps pprof ids to table indexes. Go and Node number their tables 1..n in order, which makes the lookup
 * arithmetic; other writers get a Map.
 */
class IdIndex {
  /** n when the ids are exactly 1..n in table order, so id i is at index i - 1; otherwise 0. */
  readonly denseCount: number;
  private readonly byId: Map<number, number> | undefined;

  constructor(ids: Float64Array, entity: string) {
    let dense = true;
    for (let i = 0; i < ids.length && dense; i++) dense = ids[i] === i + 1;
    this.denseCount = dense ? ids.length : 0;
    if (dense) return;
    this.byId = new Map();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === 0) throw new PprofError('zero_id', `${entity} ${i} has id 0, which is reserved for "none"`);
      if (id > Number.MAX_SAFE_INTEGER)
        throw new PprofError(
          'large_id',
          `${entity} ${i} has id ${id}, above 2^53 - 1: ids that large cannot be told apart`,
        );
      const other = this.byId.get(id);
      if (other !== undefined) {
        throw new PprofError(
          'duplicate_id',
          `${entity} ${i} has id ${id}, already used by ${entity} ${other}`,
        );
      }
      this.byId.set(id, i);
    }
  }

  /** Table index of `id`, or -1 when no entry has it. */
  indexOf(id: number): number {
    if (id >= 1 && id <= this.denseCount) return id - 1;
    return this.byId?.get(id) ?? -1;
  }
}

/**
 * Typed columns carved out of one ArrayBuffer. Allocating a typed array on its own costs a couple of
 * microseconds (off-heap, zeroed, collected later), a view of a shared buffer a tenth of that: for a
 * small profile, allocating ~30 columns one by one took longer than filling them. Columns must be taken
 * 8-byte ones first, then 4-byte, then 1-byte, so that each is aligned without padding.
 */
interface ColumnType<T> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

class ColumnBuffer {
  private readonly buffer: ArrayBuffer;
  private offset = 0;

  constructor(eightByte: number, fourByte: number, oneByte: number) {
    this.buffer = new ArrayBuffer(8 * eightByte + 4 * fourByte + oneByte);
  }

  /** The next `length` elements of the buffer as a `Type` column. */
  take<T>(Type: ColumnType<T>, length: number): T {
    const column = new Type(this.buffer, this.offset, length);
    this.offset += Type.BYTES_PER_ELEMENT * length;
    return column;
  }
}

/** Where a repeated message's entries are: [start, end) byte ranges of their bodies. */
class Spans {
  count = 0;
  /** Total size of the entries' bodies. */
  bytes = 0;
  /** Two numbers per entry; kept from one call to the next (see Scratch), so it does not regrow. */
  bounds: number[] = [];

  add(start: number, end: number): void {
    const at = 2 * this.count++;
    this.bounds[at] = start;
    this.bounds[at + 1] = end;
    this.bytes += end - start;
  }

  clear(): void {
    this.count = 0;
    this.bytes = 0;
  }
}

/** The columns `allocateColumns` returns. */
type Columns = ReturnType<ProfileDecoder['allocateColumns']>;

/**
 * Label rows of all samples. They are not counted in advance: the columns double when full. They are
 * reused (see Scratch), so callers write every column of the rows they add.
 */
class LabelColumns {
  count = 0;
  key = new Uint32Array(0);
  str = new Uint32Array(0);
  num = new Float64Array(0);
  numUnit = new Uint32Array(0);

  /** Returns the index of a new row. */
  add(): number {
    if (this.count === this.key.length) {
      this.key = grown(this.key);
      this.str = grown(this.str);
      this.num = grown(this.num);
      this.numUnit = grown(this.numUnit);
    }
    return this.count++;
  }

  bytes(): number {
    return 20 * this.key.length;
  }
}

/**
 * What the first pass does not count (the spans it records, the samples' location ids and labels), kept
 * from one call to the next (decoding is synchronous, so calls never share it): allocating it for every
 * profile, and faulting in fresh memory, cost more than filling it. Profiles get exact-size copies. After
 * a call that left more than MAX_KEPT_BYTES here, the whole scratch is dropped, so that one huge profile
 * does not pin its memory.
 */
class Scratch {
  readonly samples = new Spans();
  readonly functions = new Spans();
  readonly mappings = new Spans();
  readonly locations = new Spans();
  /** Location indexes of all samples; every id takes at least a byte, so the samples' size bounds them. */
  locs = new Uint32Array(0);
  readonly labels = new LabelColumns();

  reserveLocs(count: number): void {
    if (this.locs.length < count) this.locs = new Uint32Array(Math.max(count, 2 * this.locs.length));
  }

  reset(): void {
    this.samples.clear();
    this.functions.clear();
    this.mappings.clear();
    this.locations.clear();
    this.labels.count = 0;
  }

  bytes(): number {
    const spans =
      this.samples.bounds.length +
      this.functions.bounds.length +
      this.mappings.bounds.length +
      this.locations.bounds.length;
    // A JS array of small integers takes 8 bytes an element.
    return 8 * spans + this.locs.byteLength + this.labels.bytes();
  }
}

/** Enough for profiles of a few MB (go-block's 2.6 MB keeps 12 MB); larger ones allocate for each call. */
const MAX_KEPT_BYTES = 32 * 1024 * 1024;

let scratch = new Scratch();

/** Fills `column` from the start of `source`; returns it. */
function copied<T extends Float64Array | Uint32Array>(column: T, source: T): T {
  column.set(source.subarray(0, column.length));
  return column;
}

/**
 * Two passes over the message. The first decodes strings and scalars and finds the repeated messages
 * (writers interleave them: Go emits each location just before the first sample that uses it). The
 * second decodes them into typed arrays in dependency order (functions and mappings before the locations
 * that reference them, locations before samples), so every id is resolved to an index as soon as it is
 * read. Tables are sized by the first pass, which does not look inside samples (that would cost a third
 * of the decode): their location ids go into a buffer bounded by the samples' size, their labels into
 * columns that grow; both are reused from call to call (see Scratch) and copied out at the end.
 */
class ProfileDecoder {
  private readonly r: WireReader;
  private readonly strings: string[] = [];
  /** (type, unit) string index pairs. */
  private readonly sampleTypes: number[] = [];
  /** Where this message's repeated messages are (kept in the scratch). */
  private readonly samples = scratch.samples;
  private readonly mappings = scratch.mappings;
  private readonly locations = scratch.locations;
  private readonly functions = scratch.functions;
  private lineTotal = 0;
  private readonly scalars = {
    dropFrames: 0,
    keepFrames: 0,
    timeNanos: 0n,
    durationNanos: 0n,
    periodType: [0, 0] as [number, number],
    period: 0,
    comments: [] as number[],
    defaultSampleType: 0,
  };

  constructor(message: Uint8Array) {
    this.r = new WireReader(message);
    scratch.reset();
  }

  decode(): Profile {
    if (this.r.bytes.length === 0) throw new PprofError('truncated', 'input is empty');
    this.scan();
    this.checkStringTable();
    if (this.sampleTypes.length === 0) {
      throw new PprofError('empty_sample_types', 'profile has no sample_type');
    }
    const c = this.allocateColumns();
    this.checkScalars(c.sampleTypes);
    this.decodeFunctions(c);
    this.decodeMappings(c);
    this.decodeLocations(c, new IdIndex(c.mappingId, 'mapping'), new IdIndex(c.functionId, 'function'));
    const locs = this.decodeSamples(c, new IdIndex(c.locationId, 'location'));
    // The columns decoded into scratch buffers, copied into one buffer of their exact size.
    const labels = scratch.labels;
    const late = new ColumnBuffer(labels.count, locs + 3 * labels.count, 0);
    const labelNum = copied(late.take(Float64Array, labels.count), labels.num);
    const sampleLocs = copied(late.take(Uint32Array, locs), scratch.locs);
    const labelKey = copied(late.take(Uint32Array, labels.count), labels.key);
    const labelStr = copied(late.take(Uint32Array, labels.count), labels.str);
    const labelNumUnit = copied(late.take(Uint32Array, labels.count), labels.numUnit);
    const scalars = this.scalars;
    return profileOf({
      strings: this.strings,
      sampleTypes: c.sampleTypes,
      sampleCount: this.samples.count,
      values: c.values,
      sampleLocStart: c.sampleLocStart,
      sampleLocs,
      sampleLabelStart: c.sampleLabelStart,
      labelKey,
      labelStr,
      labelNum,
      labelNumUnit,
      mappingCount: c.mappingId.length,
      mappingId: c.mappingId,
      mappingStart: c.mappingStart,
      mappingLimit: c.mappingLimit,
      mappingOffset: c.mappingOffset,
      mappingFile: c.mappingFile,
      mappingBuildId: c.mappingBuildId,
      mappingFlags: c.mappingFlags,
      locationCount: c.locationId.length,
      locationId: c.locationId,
      locationMapping: c.locationMapping,
      locationAddress: c.locationAddress,
      locationIsFolded: c.locationIsFolded,
      locationLineStart: c.locationLineStart,
      lineFunction: c.lineFunction,
      lineNumber: c.lineNumber,
      lineColumn: c.lineColumn,
      functionCount: c.functionId.length,
      functionId: c.functionId,
      functionName: c.functionName,
      functionSystemName: c.functionSystemName,
      functionFilename: c.functionFilename,
      functionStartLine: c.functionStartLine,
      dropFrames: scalars.dropFrames,
      keepFrames: scalars.keepFrames,
      timeNanos: scalars.timeNanos,
      durationNanos: scalars.durationNanos,
      periodType: scalars.periodType,
      period: scalars.period,
      comments: scalars.comments,
      defaultSampleType: scalars.defaultSampleType,
    });
  }

  /** Every column whose length the first pass determined, zeroed, in one buffer. */
  private allocateColumns() {
    const f = this.functions.count;
    const m = this.mappings.count;
    const l = this.locations.count;
    const n = this.lineTotal;
    const s = this.samples.count;
    const t = this.sampleTypes.length;
    // Each value takes at least a byte. If the samples are too short to hold them all, some sample
    // lacks values and is reported, before a write could pass the end; without this bound, a small
    // input declaring many samples and sample types could ask for an impossible allocation.
    const v = Math.min(s * (t >>> 1), this.samples.bytes);
    const columns = new ColumnBuffer(
      2 * f + 4 * m + 2 * l + 2 * n + v,
      3 * f + 2 * m + 2 * l + 1 + n + 2 * (s + 1) + t,
      m + l,
    );
    return {
      functionId: columns.take(Float64Array, f),
      functionStartLine: columns.take(Float64Array, f),
      mappingId: columns.take(Float64Array, m),
      mappingStart: columns.take(BigUint64Array, m),
      mappingLimit: columns.take(BigUint64Array, m),
      mappingOffset: columns.take(BigUint64Array, m),
      locationId: columns.take(Float64Array, l),
      locationAddress: columns.take(BigUint64Array, l),
      lineNumber: columns.take(Float64Array, n),
      lineColumn: columns.take(Float64Array, n),
      values: columns.take(Float64Array, v),
      functionName: columns.take(Uint32Array, f),
      functionSystemName: columns.take(Uint32Array, f),
      functionFilename: columns.take(Uint32Array, f),
      mappingFile: columns.take(Uint32Array, m),
      mappingBuildId: columns.take(Uint32Array, m),
      locationMapping: columns.take(Int32Array, l),
      locationLineStart: columns.take(Uint32Array, l + 1),
      lineFunction: columns.take(Int32Array, n),
      sampleLocStart: columns.take(Uint32Array, s + 1),
      sampleLabelStart: columns.take(Uint32Array, s + 1),
      sampleTypes: columns.take(Uint32Array, t),
      mappingFlags: columns.take(Uint8Array, m),
      locationIsFolded: columns.take(Uint8Array, l),
    };
  }

  // --- first pass --------------------------------------------------------------------------------

  private scan(): void {
    const r = this.r;
    const scalars = this.scalars;
    while (r.pos < r.end) {
      const tag = r.tag();
      switch (tag) {
        case ProfileTag.SampleType:
          this.sampleTypes.push(...this.readValueType());
          break;
        case ProfileTag.Sample:
          this.skipMessage(this.samples);
          break;
        case ProfileTag.Mapping:
          this.skipMessage(this.mappings);
          break;
        case ProfileTag.Location:
          this.countLocation();
          break;
        case ProfileTag.Function:
          this.skipMessage(this.functions);
          break;
        case ProfileTag.StringTable:
          this.strings.push(r.string());
          break;
        case ProfileTag.DropFrames:
          scalars.dropFrames = r.int64();
          break;
        case ProfileTag.KeepFrames:
          scalars.keepFrames = r.int64();
          break;
        case ProfileTag.TimeNanos:
          scalars.timeNanos = int64FromHalves(r.varint(), r.high);
          break;
        case ProfileTag.DurationNanos:
          scalars.durationNanos = int64FromHalves(r.varint(), r.high);
          break;
        case ProfileTag.PeriodType:
          scalars.periodType = this.readValueType();
          break;
        case ProfileTag.Period:
          scalars.period = r.int64();
          break;
        case ProfileTag.Comment:
          scalars.comments.push(r.int64());
          break;
        case ProfileTag.CommentPacked: {
          const outerEnd = r.enter();
          while (r.pos < r.end) scalars.comments.push(r.int64());
          r.leave(outerEnd);
          break;
        }
        case ProfileTag.DefaultSampleType:
          scalars.defaultSampleType = r.int64();
          break;
        default:
          r.skipUnknown(tag, ProfileTag);
      }
    }
  }

  private readValueType(): [number, number] {
    const r = this.r;
    const outerEnd = r.enter();
    let type = 0;
    let unit = 0;
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === ValueTypeTag.Type) type = r.int64();
      else if (tag === ValueTypeTag.Unit) unit = r.int64();
      else r.skipUnknown(tag, ValueTypeTag);
    }
    r.leave(outerEnd);
    return [type, unit];
  }

  private skipMessage(spans: Spans): void {
    const r = this.r;
    const end = r.lengthEnd();
    spans.add(r.pos, end);
    r.pos = end;
  }

  /**
   * Locations are walked field by field, as they always were: that counts their lines, and reports a
   * malformed field inside a location here, in message order, with the same error as before.
   */
  private countLocation(): void {
    const r = this.r;
    const outerEnd = r.enter();
    this.locations.add(r.pos, r.end);
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === LocationTag.Line) this.lineTotal++;
      r.skip(tag);
    }
    r.leave(outerEnd);
  }

  // --- checks between the passes ---------------------------------------------------------------

  private checkStringTable(): void {
    const strings = this.strings;
    if (strings.length === 0) {
      throw new PprofError('string_table', 'string_table is empty; string_table[0] must be the empty string');
    }
    if (strings[0] !== '') {
      throw new PprofError(
        'string_table',
        `string_table[0] must be empty, found ${JSON.stringify(strings[0])}`,
      );
    }
  }

  /** Checks the first pass's string indexes and copies the sample types into their column. */
  private checkScalars(sampleTypes: Uint32Array): void {
    const s = this.scalars;
    this.stringIndex(s.dropFrames, 'drop_frames', 'profile');
    this.stringIndex(s.keepFrames, 'keep_frames', 'profile');
    this.stringIndex(s.periodType[0], 'period_type type', 'profile');
    this.stringIndex(s.periodType[1], 'period_type unit', 'profile');
    this.stringIndex(s.defaultSampleType, 'default_sample_type', 'profile');
    for (const [i, comment] of s.comments.entries()) this.stringIndex(comment, `comment ${i}`, 'profile');
    const types = this.sampleTypes;
    for (let i = 0; i < types.length; i += 2) {
      this.stringIndex(types[i], 'type', 'sample_type', i >>> 1);
      this.stringIndex(types[i + 1], 'unit', 'sample_type', i >>> 1);
    }
    sampleTypes.set(types);
  }

  /** Returns `index` if it is inside the string table; otherwise says which field of which entry is wrong. */
  private stringIndex(index: number, field: string, entity: string, row = -1): number {
    if (index >= 0 && index < this.strings.length) return index;
    throw this.badStringIndex(index, field, entity, row);
  }

  private badStringIndex(index: number, field: string, entity: string, row: number): PprofError {
    const where = row < 0 ? entity : `${entity} ${row}`;
    return new PprofError(
      'string_index',
      `${where}: ${field} string index ${index} out of range (${this.strings.length} strings)`,
    );
  }

  // --- second pass -------------------------------------------------------------------------------

  /** Points the reader at the body of entry `i` of a repeated message. */
  private seek(spans: Spans, i: number): void {
    this.r.pos = spans.bounds[2 * i];
    this.r.end = spans.bounds[2 * i + 1];
  }

  private decodeFunctions(c: Columns): void {
    const r = this.r;
    const { functionId, functionName, functionSystemName, functionFilename, functionStartLine } = c;
    const count = functionId.length;
    for (let f = 0; f < count; f++) {
      this.seek(this.functions, f);
      let name = 0;
      let systemName = 0;
      let filename = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        switch (tag) {
          case FunctionTag.Id:
            functionId[f] = r.uint64();
            break;
          case FunctionTag.Name:
            name = r.int64();
            break;
          case FunctionTag.SystemName:
            systemName = r.int64();
            break;
          case FunctionTag.Filename:
            filename = r.int64();
            break;
          case FunctionTag.StartLine:
            functionStartLine[f] = r.int64();
            break;
          default:
            r.skipUnknown(tag, FunctionTag);
        }
      }
      functionName[f] = this.stringIndex(name, 'name', 'function', f);
      functionSystemName[f] = this.stringIndex(systemName, 'system_name', 'function', f);
      functionFilename[f] = this.stringIndex(filename, 'filename', 'function', f);
    }
  }

  private decodeMappings(c: Columns): void {
    const r = this.r;
    const { mappingId, mappingFile, mappingBuildId, mappingFlags } = c;
    const count = mappingId.length;
    const start = halves(c.mappingStart);
    const limit = halves(c.mappingLimit);
    const offset = halves(c.mappingOffset);
    for (let m = 0; m < count; m++) {
      this.seek(this.mappings, m);
      let file = 0;
      let buildId = 0;
      let flags = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        switch (tag) {
          case MappingTag.Id:
            mappingId[m] = r.uint64();
            break;
          case MappingTag.MemoryStart:
            start[2 * m + LOW] = r.varint();
            start[2 * m + HIGH] = r.high;
            break;
          case MappingTag.MemoryLimit:
            limit[2 * m + LOW] = r.varint();
            limit[2 * m + HIGH] = r.high;
            break;
          case MappingTag.FileOffset:
            offset[2 * m + LOW] = r.varint();
            offset[2 * m + HIGH] = r.high;
            break;
          case MappingTag.Filename:
            file = r.int64();
            break;
          case MappingTag.BuildId:
            buildId = r.int64();
            break;
          case MappingTag.HasFunctions:
            flags = setFlag(flags, MappingFlag.HasFunctions, r.bool());
            break;
          case MappingTag.HasFilenames:
            flags = setFlag(flags, MappingFlag.HasFilenames, r.bool());
            break;
          case MappingTag.HasLineNumbers:
            flags = setFlag(flags, MappingFlag.HasLineNumbers, r.bool());
            break;
          case MappingTag.HasInlineFrames:
            flags = setFlag(flags, MappingFlag.HasInlineFrames, r.bool());
            break;
          default:
            r.skipUnknown(tag, MappingTag);
        }
      }
      mappingFile[m] = this.stringIndex(file, 'filename', 'mapping', m);
      mappingBuildId[m] = this.stringIndex(buildId, 'build_id', 'mapping', m);
      mappingFlags[m] = flags;
    }
  }

  private decodeLocations(c: Columns, mappings: IdIndex, functions: IdIndex): void {
    const r = this.r;
    const { locationId, locationMapping, locationIsFolded, locationLineStart } = c;
    const { lineFunction, lineNumber, lineColumn } = c;
    const count = locationId.length;
    const address = halves(c.locationAddress);
    let line = 0;
    for (let l = 0; l < count; l++) {
      this.seek(this.locations, l);
      locationLineStart[l] = line;
      let mappingId = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        switch (tag) {
          case LocationTag.Id:
            locationId[l] = r.uint64();
            break;
          case LocationTag.MappingId:
            mappingId = r.uint64();
            break;
          case LocationTag.Address:
            address[2 * l + LOW] = r.varint();
            address[2 * l + HIGH] = r.high;
            break;
          case LocationTag.Line: {
            const outerEnd = r.enter();
            let functionId = 0;
            while (r.pos < r.end) {
              const lineTag = r.tag();
              if (lineTag === LineTag.FunctionId) functionId = r.uint64();
              else if (lineTag === LineTag.Line) lineNumber[line] = r.int64();
              else if (lineTag === LineTag.Column) lineColumn[line] = r.int64();
              else r.skipUnknown(lineTag, LineTag);
            }
            r.leave(outerEnd);
            const functionIndex = functionId === 0 ? -1 : functions.indexOf(functionId);
            if (functionIndex < 0 && functionId !== 0) {
              throw new PprofError(
                'unknown_function',
                `location ${l} line ${line - locationLineStart[l]}: function id ${functionId} is not defined`,
              );
            }
            lineFunction[line++] = functionIndex;
            break;
          }
          case LocationTag.IsFolded:
            locationIsFolded[l] = r.bool() ? 1 : 0;
            break;
          default:
            r.skipUnknown(tag, LocationTag);
        }
      }
      const mappingIndex = mappingId === 0 ? -1 : mappings.indexOf(mappingId);
      if (mappingIndex < 0 && mappingId !== 0) {
        throw new PprofError('unknown_mapping', `location ${l}: mapping id ${mappingId} is not defined`);
      }
      locationMapping[l] = mappingIndex;
    }
    locationLineStart[count] = line;
  }

  /** Decodes the samples; returns how many location indexes they have in `scratch.locs`. */
  private decodeSamples(c: Columns, locations: IdIndex): number {
    const r = this.r;
    const spans = this.samples;
    const count = spans.count;
    const typeCount = this.sampleTypes.length >>> 1;
    const { values, sampleLocStart, sampleLabelStart } = c;
    const labels = scratch.labels;
    scratch.reserveLocs(spans.bytes);
    const sampleLocs = scratch.locs;
    const dense = locations.denseCount;
    let loc = 0;
    for (let s = 0; s < count; s++) {
      this.seek(spans, s);
      sampleLocStart[s] = loc;
      sampleLabelStart[s] = labels.count;
      const firstValue = s * typeCount;
      let valueCount = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        switch (tag) {
          case SampleTag.LocationIdPacked: {
            const outerEnd = r.enter();
            while (r.pos < r.end) {
              loc = readDenseLocationIndexes(r, dense, sampleLocs, loc);
              if (r.pos < r.end) sampleLocs[loc++] = resolveLocation(locations, r.uint64(), s);
            }
            r.leave(outerEnd);
            break;
          }
          case SampleTag.LocationId:
            sampleLocs[loc++] = resolveLocation(locations, r.uint64(), s);
            break;
          case SampleTag.ValuePacked: {
            const outerEnd = r.enter();
            // Extra values are counted, not stored, so a bad count is reported below rather than overwriting.
            for (; r.pos < r.end; valueCount++) {
              const value = r.int64();
              if (valueCount < typeCount) values[firstValue + valueCount] = value;
            }
            r.leave(outerEnd);
            break;
          }
          case SampleTag.Value: {
            const value = r.int64();
            if (valueCount < typeCount) values[firstValue + valueCount] = value;
            valueCount++;
            break;
          }
          case SampleTag.Label:
            this.decodeLabel(labels, s);
            break;
          default:
            r.skipUnknown(tag, SampleTag);
        }
      }
      if (valueCount !== typeCount) {
        throw new PprofError(
          'value_count',
          `sample ${s} has ${valueCount} values, expected ${typeCount} (one per sample type)`,
        );
      }
    }
    sampleLocStart[count] = loc;
    sampleLabelStart[count] = labels.count;
    return loc;
  }

  private decodeLabel(labels: LabelColumns, sample: number): void {
    const r = this.r;
    const row = labels.add();
    const outerEnd = r.enter();
    let key = 0;
    let str = 0;
    let num = 0;
    let numUnit = 0;
    while (r.pos < r.end) {
      const tag = r.tag();
      switch (tag) {
        case LabelTag.Key:
          key = r.int64();
          break;
        case LabelTag.Str:
          str = r.int64();
          break;
        case LabelTag.Num:
          num = r.int64();
          break;
        case LabelTag.NumUnit:
          numUnit = r.int64();
          break;
        default:
          r.skipUnknown(tag, LabelTag);
      }
    }
    r.leave(outerEnd);
    labels.key[row] = this.stringIndex(key, 'label key', 'sample', sample);
    labels.str[row] = this.stringIndex(str, 'label str', 'sample', sample);
    labels.num[row] = num;
    labels.numUnit[row] = this.stringIndex(numUnit, 'label num_unit', 'sample', sample);
  }
}

/**
 * Decodes location ids of a dense table (ids 1..n in order, see IdIndex) below 2^14 into indexes, from
 * the reader's position up to the first other id or the end of the packed run; returns the new `at`.
 * This is the hottest loop of decoding, so it makes no calls and keeps the position in a local.
 */
function readDenseLocationIndexes(r: WireReader, dense: number, out: Uint32Array, at: number): number {
  const { bytes, end } = r;
  let pos = r.pos;
  while (pos < end) {
    let id = bytes[pos];
    let next = pos + 1;
    if (id >= 0x80) {
      if (next === end || bytes[next] >= 0x80) break;
      id = (id & 0x7f) | (bytes[next++] << 7);
    }
    if (id === 0 || id > dense) break;
    out[at++] = id - 1;
    pos = next;
  }
  r.pos = pos;
  return at;
}

function resolveLocation(locations: IdIndex, id: number, sample: number): number {
  const index = locations.indexOf(id);
  if (index < 0) {
    throw new PprofError('unknown_location', `sample ${sample}: location id ${id} is not defined`);
  }
  return index;
}

function grown<T extends Uint32Array | Float64Array>(array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(2 * array.length + 256);
  bigger.set(array);
  return bigger;
}

function setFlag(flags: number, flag: number, on: boolean): number {
  return on ? flags | flag : flags & ~flag;
}
