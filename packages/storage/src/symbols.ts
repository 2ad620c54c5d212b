import type { Profile } from '@emberscope/pprof';
import type { ByteReader, ByteWriter } from './bytes.js';
import {
  growableFloat64,
  growableInt32,
  growableUint8,
  growableUint32,
  U64Column,
  u64Words,
} from './growable.js';
import { hashFinish, hashMix, RowHashTable, stringHash } from './hash-table.js';

/**
 * The deduplicated symbols of one partition as plain columns: what a block stores and what queries
 * read. References are indexes into the partition's own tables; -1 means "none".
 */
export interface SymbolColumns {
  strings: readonly string[];
  mappingStart: BigUint64Array;
  mappingLimit: BigUint64Array;
  mappingOffset: BigUint64Array;
  mappingFile: Uint32Array;
  mappingBuildId: Uint32Array;
  mappingFlags: Uint8Array;
  functionName: Uint32Array;
  functionSystemName: Uint32Array;
  functionFilename: Uint32Array;
  functionStartLine: Float64Array;
  locationMapping: Int32Array;
  locationAddress: BigUint64Array;
  locationFolded: Uint8Array;
  /** Lines of location l are rows locationLineStart[l] .. locationLineStart[l+1], innermost first. */
  locationLineStart: Uint32Array;
  lineFunction: Int32Array;
  lineNumber: Float64Array;
}

/** The tables `PartitionSymbols.importSymbols` reads: a decoded profile, or another partition's columns. */
export type SymbolSource = Pick<
  Profile,
  | 'strings'
  | 'mappingCount'
  | 'mappingStart'
  | 'mappingLimit'
  | 'mappingOffset'
  | 'mappingFile'
  | 'mappingBuildId'
  | 'mappingFlags'
  | 'functionCount'
  | 'functionName'
  | 'functionSystemName'
  | 'functionFilename'
  | 'functionStartLine'
  | 'locationCount'
  | 'locationMapping'
  | 'locationAddress'
  | 'locationIsFolded'
  | 'locationLineStart'
  | 'lineFunction'
  | 'lineNumber'
>;

/** The location fields `PartitionSymbols.location` reads from its source. */
type LocationSource = Pick<
  SymbolSource,
  'locationIsFolded' | 'locationLineStart' | 'lineFunction' | 'lineNumber'
>;

/** A source holding one location without lines: what `emptyStackLocation` looks up. */
const NO_LINES: LocationSource = {
  locationIsFolded: Uint8Array.of(0),
  locationLineStart: Uint32Array.of(0, 0),
  lineFunction: new Int32Array(0),
  lineNumber: new Float64Array(0),
};

/**
 * Whether location `l` is the marker of an empty stack: no mapping, address 0, no lines. pprof allows
 * samples without locations (Go writes them under load) and `go tool pprof` counts them in the total,
 * so they are stored as a one-node stack at this location, which has no frame.
 */
export function isEmptyStackLocation(c: SymbolColumns, l: number): boolean {
  return (
    c.locationMapping[l] < 0 &&
    c.locationAddress[l] === 0n &&
    c.locationLineStart[l] === c.locationLineStart[l + 1]
  );
}

/** Stored symbol columns seen as a `SymbolSource`, to import them into another partition's tables. */
export function columnsAsSource(c: SymbolColumns): SymbolSource {
  return {
    strings: c.strings as string[],
    mappingCount: c.mappingFile.length,
    mappingStart: c.mappingStart,
    mappingLimit: c.mappingLimit,
    mappingOffset: c.mappingOffset,
    mappingFile: c.mappingFile,
    mappingBuildId: c.mappingBuildId,
    mappingFlags: c.mappingFlags,
    functionCount: c.functionName.length,
    functionName: c.functionName,
    functionSystemName: c.functionSystemName,
    functionFilename: c.functionFilename,
    functionStartLine: c.functionStartLine,
    locationCount: c.locationMapping.length,
    locationMapping: c.locationMapping,
    locationAddress: c.locationAddress,
    locationIsFolded: c.locationFolded,
    locationLineStart: c.locationLineStart,
    lineFunction: c.lineFunction,
    lineNumber: c.lineNumber,
  };
}

/**
 * Append-only symbol tables of one partition (strings, mappings, functions, locations), deduplicated
 * across profiles. `importSymbols` maps a decoded profile's tables into them with one lookup per pprof
 * entry, never per sample frame.
 */
export class PartitionSymbols {
  private readonly strings: string[] = [];
  private readonly stringIndex = new RowHashTable();
  private stringBytes = 0;

  private readonly mappingStart = new U64Column();
  private readonly mappingLimit = new U64Column();
  private readonly mappingOffset = new U64Column();
  private readonly mappingFile = growableUint32(16);
  private readonly mappingBuildId = growableUint32(16);
  private readonly mappingFlags = growableUint8(16);
  private readonly mappingIndex = new RowHashTable(16);

  private readonly functionName = growableUint32();
  private readonly functionSystemName = growableUint32();
  private readonly functionFilename = growableUint32();
  private readonly functionStartLine = growableFloat64();
  private readonly functionIndex = new RowHashTable();

  private readonly locationMapping = growableInt32();
  private readonly locationAddress = new U64Column();
  private readonly locationFolded = growableUint8();
  private readonly locationLineStart = growableUint32();
  private readonly lineFunction = growableInt32();
  private readonly lineNumber = growableFloat64();
  private readonly locationIndex = new RowHashTable();

  // The key being looked up, compared by the `matches*` predicates (kept in fields so lookups allocate nothing).
  private readonly key = {
    string: '',
    words: new Uint32Array(6),
    name: 0,
    systemName: 0,
    filename: 0,
    startLine: 0,
    buildId: 0,
    flags: 0,
    mapping: 0,
    folded: 0,
    profile: undefined as LocationSource | undefined,
    functionRemap: new Int32Array(0),
    lineStart: 0,
    lineEnd: 0,
  };

  constructor() {
    this.intern('', stringHash(''));
    this.locationLineStart.push(0);
  }

  /** Rough heap footprint, for the head size limit. */
  get byteSize(): number {
    return (
      this.stringBytes +
      this.stringIndex.byteCapacity +
      this.mappingIndex.byteCapacity +
      this.functionName.byteCapacity * 3 +
      this.functionStartLine.byteCapacity +
      this.functionIndex.byteCapacity +
      this.locationMapping.byteCapacity +
      this.locationAddress.byteCapacity +
      this.locationFolded.byteCapacity +
      this.locationLineStart.byteCapacity +
      this.lineFunction.byteCapacity +
      this.lineNumber.byteCapacity +
      this.locationIndex.byteCapacity
    );
  }

  /** The id of string `s`, whose `stringHash` is `hash`, added if new. */
  private intern(s: string, hash: number): number {
    this.key.string = s;
    let id = this.stringIndex.find(hash, this.matchesString);
    if (id < 0) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIndex.add(hash, id);
      this.stringBytes += 2 * s.length + 48;
    }
    return id;
  }

  private readonly matchesString = (row: number): boolean => this.strings[row] === this.key.string;

  /** The location id of the empty-stack marker (see `isEmptyStackLocation`), added on first use. */
  emptyStackLocation(): number {
    this.key.profile = NO_LINES;
    const row = this.location(0, -1, 0, 0);
    this.key.profile = undefined;
    return row;
  }

  /**
   * Adds the source's mappings, functions and locations, deduplicated by content against what is
   * already there (how compaction and pprof export merge partitions); returns source location index →
   * location id here. Only strings that a symbol refers to are interned. `hashes`, when given, is
   * `stringHashes(p.strings)` computed elsewhere.
   */
  importSymbols(p: SymbolSource, hashes?: Int32Array): Int32Array {
    const stringRemap = new Int32Array(p.strings.length).fill(-1);
    // Interned lazily: sample label values (span ids, …) must not leak into the symbol tables.
    const str = (i: number): number => {
      let id = stringRemap[i];
      if (id < 0) {
        const s = p.strings[i];
        id = stringRemap[i] = this.intern(s, hashes ? hashes[i] : stringHash(s));
      }
      return id;
    };

    const mappingRemap = new Int32Array(p.mappingCount);
    const start = u64Words(p.mappingStart);
    const limit = u64Words(p.mappingLimit);
    const offset = u64Words(p.mappingOffset);
    for (let m = 0; m < p.mappingCount; m++) {
      mappingRemap[m] = this.mapping(
        start[2 * m],
        start[2 * m + 1],
        limit[2 * m],
        limit[2 * m + 1],
        offset[2 * m],
        offset[2 * m + 1],
        str(p.mappingFile[m]),
        str(p.mappingBuildId[m]),
        p.mappingFlags[m],
      );
    }

    const functionRemap = new Int32Array(p.functionCount);
    for (let f = 0; f < p.functionCount; f++) {
      functionRemap[f] = this.function(
        str(p.functionName[f]),
        str(p.functionSystemName[f]),
        str(p.functionFilename[f]),
        p.functionStartLine[f],
      );
    }

    const locationRemap = new Int32Array(p.locationCount);
    const address = u64Words(p.locationAddress);
    this.key.profile = p;
    this.key.functionRemap = functionRemap;
    for (let l = 0; l < p.locationCount; l++) {
      const m = p.locationMapping[l];
      locationRemap[l] = this.location(l, m < 0 ? -1 : mappingRemap[m], address[2 * l], address[2 * l + 1]);
    }
    this.key.profile = undefined;
    return locationRemap;
  }

  private mapping(
    startLo: number,
    startHi: number,
    limitLo: number,
    limitHi: number,
    offsetLo: number,
    offsetHi: number,
    file: number,
    buildId: number,
    flags: number,
  ): number {
    const k = this.key;
    const w = k.words;
    w[0] = startLo;
    w[1] = startHi;
    w[2] = limitLo;
    w[3] = limitHi;
    w[4] = offsetLo;
    w[5] = offsetHi;
    k.filename = file;
    k.buildId = buildId;
    k.flags = flags;
    let h = hashMix(hashMix(hashMix(0, file), buildId), flags);
    for (let i = 0; i < 6; i++) h = hashMix(h, w[i]);
    h = hashFinish(h);
    let row = this.mappingIndex.find(h, this.matchesMapping);
    if (row < 0) {
      row = this.mappingFile.length;
      this.mappingStart.push(startLo, startHi);
      this.mappingLimit.push(limitLo, limitHi);
      this.mappingOffset.push(offsetLo, offsetHi);
      this.mappingFile.push(file);
      this.mappingBuildId.push(buildId);
      this.mappingFlags.push(flags);
      this.mappingIndex.add(h, row);
    }
    return row;
  }

  private readonly matchesMapping = (row: number): boolean => {
    const k = this.key;
    const w = k.words;
    return (
      this.mappingFile.array[row] === k.filename &&
      this.mappingBuildId.array[row] === k.buildId &&
      this.mappingFlags.array[row] === k.flags &&
      this.mappingStart.equals(row, w[0], w[1]) &&
      this.mappingLimit.equals(row, w[2], w[3]) &&
      this.mappingOffset.equals(row, w[4], w[5])
    );
  };

  private function(name: number, systemName: number, filename: number, startLine: number): number {
    const k = this.key;
    k.name = name;
    k.systemName = systemName;
    k.filename = filename;
    k.startLine = startLine;
    const h = hashFinish(hashMix(hashMix(hashMix(hashMix(0, name), systemName), filename), startLine | 0));
    let row = this.functionIndex.find(h, this.matchesFunction);
    if (row < 0) {
      row = this.functionName.length;
      this.functionName.push(name);
      this.functionSystemName.push(systemName);
      this.functionFilename.push(filename);
      this.functionStartLine.push(startLine);
      this.functionIndex.add(h, row);
    }
    return row;
  }

  private readonly matchesFunction = (row: number): boolean => {
    const k = this.key;
    return (
      this.functionName.array[row] === k.name &&
      this.functionSystemName.array[row] === k.systemName &&
      this.functionFilename.array[row] === k.filename &&
      this.functionStartLine.array[row] === k.startLine
    );
  };

  /** Location `l` of `key.profile`, whose functions are already remapped through `key.functionRemap`. */
  private location(l: number, mapping: number, addressLo: number, addressHi: number): number {
    const k = this.key;
    const p = k.profile!;
    const functionRemap = k.functionRemap;
    k.mapping = mapping;
    k.words[0] = addressLo;
    k.words[1] = addressHi;
    k.folded = p.locationIsFolded[l];
    k.lineStart = p.locationLineStart[l];
    k.lineEnd = p.locationLineStart[l + 1];
    let h = hashMix(hashMix(hashMix(hashMix(0, mapping), addressLo), addressHi), k.folded);
    for (let i = k.lineStart; i < k.lineEnd; i++) {
      const f = p.lineFunction[i];
      h = hashMix(hashMix(h, f < 0 ? -1 : functionRemap[f]), p.lineNumber[i] | 0);
    }
    h = hashFinish(h);
    let row = this.locationIndex.find(h, this.matchesLocation);
    if (row < 0) {
      row = this.locationMapping.length;
      this.locationMapping.push(mapping);
      this.locationAddress.push(addressLo, addressHi);
      this.locationFolded.push(k.folded);
      for (let i = k.lineStart; i < k.lineEnd; i++) {
        const f = p.lineFunction[i];
        this.lineFunction.push(f < 0 ? -1 : functionRemap[f]);
        this.lineNumber.push(p.lineNumber[i]);
      }
      this.locationLineStart.push(this.lineFunction.length);
      this.locationIndex.add(h, row);
    }
    return row;
  }

  private readonly matchesLocation = (row: number): boolean => {
    const k = this.key;
    const p = k.profile!;
    const lineStart = this.locationLineStart.array[row];
    if (
      this.locationMapping.array[row] !== k.mapping ||
      !this.locationAddress.equals(row, k.words[0], k.words[1]) ||
      this.locationFolded.array[row] !== k.folded ||
      this.locationLineStart.array[row + 1] - lineStart !== k.lineEnd - k.lineStart
    ) {
      return false;
    }
    for (let i = k.lineStart, j = lineStart; i < k.lineEnd; i++, j++) {
      const f = p.lineFunction[i];
      if (this.lineFunction.array[j] !== (f < 0 ? -1 : k.functionRemap[f])) return false;
      if (this.lineNumber.array[j] !== p.lineNumber[i]) return false;
    }
    return true;
  };

  /** A consistent snapshot (views of append-only storage) of the tables as they are now. */
  columns(): SymbolColumns {
    return {
      strings: this.strings,
      mappingStart: this.mappingStart.view(),
      mappingLimit: this.mappingLimit.view(),
      mappingOffset: this.mappingOffset.view(),
      mappingFile: this.mappingFile.view(),
      mappingBuildId: this.mappingBuildId.view(),
      mappingFlags: this.mappingFlags.view(),
      functionName: this.functionName.view(),
      functionSystemName: this.functionSystemName.view(),
      functionFilename: this.functionFilename.view(),
      functionStartLine: this.functionStartLine.view(),
      locationMapping: this.locationMapping.view(),
      locationAddress: this.locationAddress.view(),
      locationFolded: this.locationFolded.view(),
      locationLineStart: this.locationLineStart.view(),
      lineFunction: this.lineFunction.view(),
      lineNumber: this.lineNumber.view(),
    };
  }
}

export function encodeSymbols(c: SymbolColumns, w: ByteWriter): void {
  w.strings(c.strings);
  w.array(c.mappingStart);
  w.array(c.mappingLimit);
  w.array(c.mappingOffset);
  w.array(c.mappingFile);
  w.array(c.mappingBuildId);
  w.array(c.mappingFlags);
  w.array(c.functionName);
  w.array(c.functionSystemName);
  w.array(c.functionFilename);
  w.array(c.functionStartLine);
  w.array(c.locationMapping);
  w.array(c.locationAddress);
  w.array(c.locationFolded);
  w.array(c.locationLineStart);
  w.array(c.lineFunction);
  w.array(c.lineNumber);
}

export function decodeSymbols(r: ByteReader): SymbolColumns {
  return {
    strings: r.strings(),
    mappingStart: r.array(BigUint64Array),
    mappingLimit: r.array(BigUint64Array),
    mappingOffset: r.array(BigUint64Array),
    mappingFile: r.array(Uint32Array),
    mappingBuildId: r.array(Uint32Array),
    mappingFlags: r.array(Uint8Array),
    functionName: r.array(Uint32Array),
    functionSystemName: r.array(Uint32Array),
    functionFilename: r.array(Uint32Array),
    functionStartLine: r.array(Float64Array),
    locationMapping: r.array(Int32Array),
    locationAddress: r.array(BigUint64Array),
    locationFolded: r.array(Uint8Array),
    locationLineStart: r.array(Uint32Array),
    lineFunction: r.array(Int32Array),
    lineNumber: r.array(Float64Array),
  };
}

/** The frame names of every location, in the layout `StackValues` carries. */
export interface Frames {
  locFrameStart: Uint32Array;
  locFrameName: Uint32Array;
  names: readonly string[];
}

/**
 * Builds `Frames` from symbol columns, incrementally: locations are append-only, so a head's table
 * only processes the locations added since the previous call. `names` holds only frame names (not
 * file names or label strings) and is append-only, so indexes handed out earlier stay valid.
 */
export class FrameTable {
  private readonly frameStart = growableUint32();
  private readonly frameName = growableUint32();
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();

  constructor() {
    this.frameStart.push(0);
  }

  update(c: SymbolColumns): Frames {
    for (let l = this.frameStart.length - 1; l < c.locationMapping.length; l++) {
      const lineStart = c.locationLineStart[l];
      const lineEnd = c.locationLineStart[l + 1];
      if (lineStart === lineEnd && !isEmptyStackLocation(c, l))
        this.frameName.push(this.nameId(`0x${c.locationAddress[l].toString(16)}`));
      for (let i = lineStart; i < lineEnd; i++) {
        const f = c.lineFunction[i];
        const name = f < 0 ? `0x${c.locationAddress[l].toString(16)}` : c.strings[c.functionName[f]];
        this.frameName.push(this.nameId(name));
      }
      this.frameStart.push(this.frameName.length);
    }
    return { locFrameStart: this.frameStart.view(), locFrameName: this.frameName.view(), names: this.names };
  }

  private nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }
}
