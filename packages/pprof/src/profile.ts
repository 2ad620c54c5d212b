/**
 * A decoded `perftools.profiles.Profile` in columnar form.
 *
 * Hot paths (ingest, merge) must not allocate an object per sample, location or line, so every
 * repeated message is stored as parallel typed arrays. References between tables are resolved to
 * *indexes* (position in the table) at decode time; the original pprof ids are kept for export.
 * Strings are indexes into `strings` (index 0 is always "").
 *
 * int64 values are held as float64: exact up to 2^53, which covers sample values and ids in practice.
 * Addresses and mapping ranges use BigUint64Array because real kernel addresses exceed 2^53.
 *
 * `decodeProfile` returns columns that are views of a few shared ArrayBuffers: code that reaches for a
 * column's `.buffer` must use its `byteOffset` and `byteLength` too.
 */
export interface Profile {
  strings: string[];

  /** sample_type as pairs of string indexes: type = sampleTypes[2i], unit = sampleTypes[2i+1]. */
  sampleTypes: Uint32Array;

  // --- samples -------------------------------------------------------------------------------
  sampleCount: number;
  /** values[s * numSampleTypes + t]; numSampleTypes = sampleTypes.length / 2. */
  values: Float64Array;
  /** Locations of sample s are locs[sampleLocStart[s] .. sampleLocStart[s+1]), leaf first, as location indexes. */
  sampleLocStart: Uint32Array;
  sampleLocs: Uint32Array;
  /** Labels of sample s are label rows labelStart[s] .. labelStart[s+1]. */
  sampleLabelStart: Uint32Array;
  labelKey: Uint32Array;
  /** String index of the value, 0 for numeric labels. */
  labelStr: Uint32Array;
  labelNum: Float64Array;
  labelNumUnit: Uint32Array;

  // --- mappings ------------------------------------------------------------------------------
  mappingCount: number;
  mappingId: Float64Array;
  mappingStart: BigUint64Array;
  mappingLimit: BigUint64Array;
  mappingOffset: BigUint64Array;
  mappingFile: Uint32Array;
  mappingBuildId: Uint32Array;
  /** Bit flags, see MappingFlag. */
  mappingFlags: Uint8Array;

  // --- locations -----------------------------------------------------------------------------
  locationCount: number;
  locationId: Float64Array;
  /** Mapping index, or -1 when the location has no mapping (mapping_id 0). */
  locationMapping: Int32Array;
  locationAddress: BigUint64Array;
  locationIsFolded: Uint8Array;
  /** Lines of location l are rows locationLineStart[l] .. locationLineStart[l+1], innermost (inlined callee) first. */
  locationLineStart: Uint32Array;
  /** Function index of each line row, or -1 when function_id is 0. */
  lineFunction: Int32Array;
  lineNumber: Float64Array;
  lineColumn: Float64Array;

  // --- functions -----------------------------------------------------------------------------
  functionCount: number;
  functionId: Float64Array;
  functionName: Uint32Array;
  functionSystemName: Uint32Array;
  functionFilename: Uint32Array;
  functionStartLine: Float64Array;

  // --- scalars -------------------------------------------------------------------------------
  dropFrames: number;
  keepFrames: number;
  timeNanos: bigint;
  durationNanos: bigint;
  /** period_type as [type, unit] string indexes; [0, 0] when absent. */
  periodType: [number, number];
  period: number;
  comments: number[];
  defaultSampleType: number;
}

/**
 * `p` as an object of the one shape every decoded profile has: a profile assembled field by field (unpacked from
 * another thread) would otherwise be a dictionary-mode object in V8, whose every property read in the symbol and
 * sample loops is a hash lookup (appending such profiles took 1.4× as long), and would make those loops see
 * two shapes.
 */
export function profileOf(p: Profile): Profile {
  return {
    strings: p.strings,
    sampleTypes: p.sampleTypes,
    sampleCount: p.sampleCount,
    values: p.values,
    sampleLocStart: p.sampleLocStart,
    sampleLocs: p.sampleLocs,
    sampleLabelStart: p.sampleLabelStart,
    labelKey: p.labelKey,
    labelStr: p.labelStr,
    labelNum: p.labelNum,
    labelNumUnit: p.labelNumUnit,
    mappingCount: p.mappingCount,
    mappingId: p.mappingId,
    mappingStart: p.mappingStart,
    mappingLimit: p.mappingLimit,
    mappingOffset: p.mappingOffset,
    mappingFile: p.mappingFile,
    mappingBuildId: p.mappingBuildId,
    mappingFlags: p.mappingFlags,
    locationCount: p.locationCount,
    locationId: p.locationId,
    locationMapping: p.locationMapping,
    locationAddress: p.locationAddress,
    locationIsFolded: p.locationIsFolded,
    locationLineStart: p.locationLineStart,
    lineFunction: p.lineFunction,
    lineNumber: p.lineNumber,
    lineColumn: p.lineColumn,
    functionCount: p.functionCount,
    functionId: p.functionId,
    functionName: p.functionName,
    functionSystemName: p.functionSystemName,
    functionFilename: p.functionFilename,
    functionStartLine: p.functionStartLine,
    dropFrames: p.dropFrames,
    keepFrames: p.keepFrames,
    timeNanos: p.timeNanos,
    durationNanos: p.durationNanos,
    periodType: p.periodType,
    period: p.period,
    comments: p.comments,
    defaultSampleType: p.defaultSampleType,
  };
}

export const MappingFlag = {
  HasFunctions: 1,
  HasFilenames: 2,
  HasLineNumbers: 4,
  HasInlineFrames: 8,
} as const;

export function numSampleTypes(p: Profile): number {
  return p.sampleTypes.length >>> 1;
}
