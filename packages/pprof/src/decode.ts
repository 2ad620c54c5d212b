import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { PprofError } from './errors.js';
import type { Profile } from './profile.js';
import { MappingFlag } from './profile.js';
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
  return new ProfileDecoder(message).decode();
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

/** Where a repeated message's entries are: [start, end) byte ranges of their bodies, two numbers per entry. */
type Spans = number[];

/**
 * Label rows of all samples. They are not counted in advance: the columns start with room for one label
 * per sample and double when full.
 */
class LabelColumns {
  count = 0;
  key: Uint32Array;
  str: Uint32Array;
  num: Float64Array;
  numUnit: Uint32Array;

  constructor(initialCapacity: number) {
    this.key = new Uint32Array(initialCapacity);
    this.str = new Uint32Array(initialCapacity);
    this.num = new Float64Array(initialCapacity);
    this.numUnit = new Uint32Array(initialCapacity);
  }

  /** Returns the index of a new, zeroed row. */
  add(): number {
    if (this.count === this.key.length) {
      this.key = grown(this.key);
      this.str = grown(this.str);
      this.num = grown(this.num);
      this.numUnit = grown(this.numUnit);
    }
    return this.count++;
  }

  columns() {
    const n = this.count;
    return {
      labelKey: this.key.slice(0, n),
      labelStr: this.str.slice(0, n),
      labelNum: this.num.slice(0, n),
      labelNumUnit: this.numUnit.slice(0, n),
    };
  }
}

/**
 * Two passes over the message. The first decodes strings and scalars and finds the repeated messages
 * (writers interleave them: Go emits each location just before the first sample that uses it). The
 * second decodes them into typed arrays in dependency order (functions and mappings before the locations
 * that reference them, locations before samples), so every id is resolved to an index as soon as it is
 * read. Tables are sized by the first pass, which does not look inside samples (that would cost a third
 * of the decode): their location ids go into a buffer bounded by the samples' size, their labels into
 * columns that grow.
 */
class ProfileDecoder {
  private readonly r: WireReader;
  private readonly strings: string[] = [];
  /** (type, unit) string index pairs. */
  private readonly sampleTypes: number[] = [];
  private readonly samples: Spans = [];
  private readonly mappings: Spans = [];
  private readonly locations: Spans = [];
  private readonly functions: Spans = [];
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
  }

  decode(): Profile {
    if (this.r.bytes.length === 0) throw new PprofError('truncated', 'input is empty');
    this.scan();
    this.checkStringTable();
    if (this.sampleTypes.length === 0) {
      throw new PprofError('empty_sample_types', 'profile has no sample_type');
    }
    const sampleTypes = this.checkScalars();
    const functions = this.decodeFunctions();
    const mappings = this.decodeMappings();
    const locations = this.decodeLocations(
      new IdIndex(mappings.mappingId, 'mapping'),
      new IdIndex(functions.functionId, 'function'),
    );
    const samples = this.decodeSamples(new IdIndex(locations.locationId, 'location'));
    return {
      strings: this.strings,
      sampleTypes,
      ...samples,
      ...mappings,
      ...locations,
      ...functions,
      ...this.scalars,
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
    spans.push(r.pos, end);
    r.pos = end;
  }

  private countLocation(): void {
    const r = this.r;
    const outerEnd = r.enter();
    this.locations.push(r.pos, r.end);
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

  /** Checks the first pass's string indexes; returns the sample types as a column. */
  private checkScalars(): Uint32Array {
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
    return Uint32Array.from(types);
  }

  /** Returns `index` if it is inside the string table; otherwise says which field of which entry is wrong. */
  private stringIndex(index: number, field: string, entity: string, row = -1): number {
    if (index >= 0 && index < this.strings.length) return index;
    const where = row < 0 ? entity : `${entity} ${row}`;
    throw new PprofError(
      'string_index',
      `${where}: ${field} string index ${index} out of range (${this.strings.length} strings)`,
    );
  }

  // --- second pass -------------------------------------------------------------------------------

  /** Points the reader at the body of entry `i` of a repeated message. */
  private seek(spans: Spans, i: number): void {
    this.r.pos = spans[2 * i];
    this.r.end = spans[2 * i + 1];
  }

  private decodeFunctions() {
    const r = this.r;
    const count = this.functions.length >>> 1;
    const functionId = new Float64Array(count);
    const functionName = new Uint32Array(count);
    const functionSystemName = new Uint32Array(count);
    const functionFilename = new Uint32Array(count);
    const functionStartLine = new Float64Array(count);
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
    return {
      functionCount: count,
      functionId,
      functionName,
      functionSystemName,
      functionFilename,
      functionStartLine,
    };
  }

  private decodeMappings() {
    const r = this.r;
    const count = this.mappings.length >>> 1;
    const mappingId = new Float64Array(count);
    const mappingStart = new BigUint64Array(count);
    const mappingLimit = new BigUint64Array(count);
    const mappingOffset = new BigUint64Array(count);
    const mappingFile = new Uint32Array(count);
    const mappingBuildId = new Uint32Array(count);
    const mappingFlags = new Uint8Array(count);
    const start = halves(mappingStart);
    const limit = halves(mappingLimit);
    const offset = halves(mappingOffset);
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
    return {
      mappingCount: count,
      mappingId,
      mappingStart,
      mappingLimit,
      mappingOffset,
      mappingFile,
      mappingBuildId,
      mappingFlags,
    };
  }

  private decodeLocations(mappings: IdIndex, functions: IdIndex) {
    const r = this.r;
    const count = this.locations.length >>> 1;
    const locationId = new Float64Array(count);
    const locationMapping = new Int32Array(count);
    const locationAddress = new BigUint64Array(count);
    const locationIsFolded = new Uint8Array(count);
    const locationLineStart = new Uint32Array(count + 1);
    const lineFunction = new Int32Array(this.lineTotal);
    const lineNumber = new Float64Array(this.lineTotal);
    const lineColumn = new Float64Array(this.lineTotal);
    const address = halves(locationAddress);
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
    return {
      locationCount: count,
      locationId,
      locationMapping,
      locationAddress,
      locationIsFolded,
      locationLineStart,
      lineFunction,
      lineNumber,
      lineColumn,
    };
  }

  private decodeSamples(locations: IdIndex) {
    const r = this.r;
    const spans = this.samples;
    const count = spans.length >>> 1;
    const typeCount = this.sampleTypes.length >>> 1;
    let sampleBytes = 0;
    for (let i = 0; i < spans.length; i += 2) sampleBytes += spans[i + 1] - spans[i];
    // Each value takes at least a byte. If the samples are too short to hold them all, some sample
    // lacks values and is reported below, before a write could pass the end; without this bound, a
    // small input declaring many samples and sample types could ask for an impossible allocation.
    const values = new Float64Array(Math.min(count * typeCount, sampleBytes));
    const sampleLocStart = new Uint32Array(count + 1);
    const sampleLabelStart = new Uint32Array(count + 1);
    const labels = new LabelColumns(count);
    // Every location id takes at least a byte, so this never has to grow; it is trimmed at the end.
    const sampleLocs = new Uint32Array(sampleBytes);
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
            loc = readLocationIndexes(r, locations, sampleLocs, loc, s);
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
    return {
      sampleCount: count,
      values,
      sampleLocStart,
      sampleLocs: sampleLocs.slice(0, loc),
      sampleLabelStart,
      ...labels.columns(),
    };
  }

  private decodeLabel(labels: LabelColumns, sample: number): void {
    const r = this.r;
    const row = labels.add();
    const outerEnd = r.enter();
    let key = 0;
    let str = 0;
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
          labels.num[row] = r.int64();
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
    labels.numUnit[row] = this.stringIndex(numUnit, 'label num_unit', 'sample', sample);
  }
}

/**
 * Decodes a packed run of location ids into indexes: the hottest loop of decoding. The position and the
 * dense-id bound stay in locals, ids below 2^14 (nearly all) are decoded inline and dense ids resolved
 * by arithmetic; anything else goes through the reader and the IdIndex.
 */
function readLocationIndexes(
  r: WireReader,
  locations: IdIndex,
  out: Uint32Array,
  at: number,
  sample: number,
): number {
  const { bytes, end } = r;
  const dense = locations.denseCount;
  let pos = r.pos;
  while (pos < end) {
    const b0 = bytes[pos];
    let id: number;
    if (b0 < 0x80) {
      id = b0;
      pos += 1;
    } else if (pos + 1 < end && bytes[pos + 1] < 0x80) {
      id = (b0 & 0x7f) | (bytes[pos + 1] << 7);
      pos += 2;
    } else {
      r.pos = pos;
      id = r.uint64();
      pos = r.pos;
    }
    const index = id - 1;
    out[at++] = index >= 0 && index < dense ? index : resolveLocation(locations, id, sample);
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
  const bigger = new (array.constructor as new (length: number) => T)(2 * array.length + 16);
  bigger.set(array);
  return bigger;
}

function setFlag(flags: number, flag: number, on: boolean): number {
  return on ? flags | flag : flags & ~flag;
}
