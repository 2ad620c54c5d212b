import { LabelName, type Labels, labelValue, parseProfileType } from '@emberscope/model';
import type { Profile } from '@emberscope/pprof';
import type { TimeRange } from './engine.js';
import { growableFloat64, growableUint32 } from './growable.js';
import type { ProfilePart } from './queryable.js';
import { StackTree } from './stack-tree.js';
import { columnsAsSource, isEmptyStackLocation, PartitionSymbols } from './symbols.js';

/**
 * Builds one pprof `Profile` from merged parts (partitions of heads and blocks): their symbols are
 * imported into one table, deduplicated by content, and their stacks re-inserted into one stack tree,
 * so that every distinct stack becomes exactly one sample carrying the summed value. Only the
 * locations, functions, mappings and strings that samples reach are emitted. Returns null when no
 * sample has a non-zero value.
 */
export function buildMergedProfile(parts: readonly ProfilePart[], range: TimeRange): Profile | null {
  if (parts.length === 0) return null;
  const symbols = new PartitionSymbols();
  const tree = new StackTree();
  const sums = growableFloat64(4096);
  const periods = new Map<number, number>();
  for (const part of parts) {
    for (const [period, rows] of part.periods) periods.set(period, (periods.get(period) ?? 0) + rows);
    const { parent, location } = part.tree;
    const { values } = part;
    // Only nodes on the path of a non-zero stack are imported (parents precede children).
    const needed = new Uint8Array(parent.length);
    for (let n = parent.length - 1; n >= 0; n--) {
      if (values[n] !== 0) needed[n] = 1;
      if (needed[n] && parent[n] >= 0) needed[parent[n]] = 1;
    }
    const locationRemap = symbols.importSymbols(columnsAsSource(part.symbols));
    const nodeRemap = new Int32Array(parent.length);
    for (let n = 0; n < parent.length; n++) {
      if (!needed[n]) continue;
      const p = parent[n];
      const node = tree.child(p < 0 ? -1 : nodeRemap[p], locationRemap[location[n]]);
      nodeRemap[n] = node;
      if (node >= sums.length) {
        sums.reserve(node + 1);
        sums.array.fill(0, sums.length, node + 1);
        sums.length = node + 1;
      }
      sums.array[node] += values[n];
    }
  }

  const { parent, location } = tree.arrays();
  const c = symbols.columns();
  const out = new ProfileOutput(c.strings);
  const locationOut = new Int32Array(c.locationMapping.length).fill(-1);
  const functionOut = new Int32Array(c.functionName.length).fill(-1);
  const mappingOut = new Int32Array(c.mappingFile.length).fill(-1);
  const mapping = (m: number): number => {
    if (m < 0) return -1;
    if (mappingOut[m] < 0) {
      mappingOut[m] = out.mappingCount++;
      out.mappingStart.push(c.mappingStart[m]);
      out.mappingLimit.push(c.mappingLimit[m]);
      out.mappingOffset.push(c.mappingOffset[m]);
      out.mappingFile.push(out.string(c.mappingFile[m]));
      out.mappingBuildId.push(out.string(c.mappingBuildId[m]));
      out.mappingFlags.push(c.mappingFlags[m]);
    }
    return mappingOut[m];
  };
  const func = (f: number): number => {
    if (f < 0) return -1;
    if (functionOut[f] < 0) {
      functionOut[f] = out.functionName.length;
      out.functionName.push(out.string(c.functionName[f]));
      out.functionSystemName.push(out.string(c.functionSystemName[f]));
      out.functionFilename.push(out.string(c.functionFilename[f]));
      out.functionStartLine.push(c.functionStartLine[f]);
    }
    return functionOut[f];
  };
  const loc = (l: number): number => {
    if (locationOut[l] < 0) {
      locationOut[l] = out.locationMapping.length;
      out.locationMapping.push(mapping(c.locationMapping[l]));
      out.locationAddress.push(c.locationAddress[l]);
      out.locationFolded.push(c.locationFolded[l]);
      for (let i = c.locationLineStart[l]; i < c.locationLineStart[l + 1]; i++) {
        out.lineFunction.push(func(c.lineFunction[i]));
        out.lineNumber.push(c.lineNumber[i]);
      }
      out.locationLineStart.push(out.lineFunction.length);
    }
    return locationOut[l];
  };

  const values = growableFloat64(1024);
  const sampleLocStart = growableUint32(1024);
  const sampleLocs = growableUint32(4096);
  sampleLocStart.push(0);
  for (let node = 0; node < sums.length; node++) {
    const value = sums.array[node];
    if (value === 0) continue;
    values.push(value);
    for (let n = node; n >= 0; n = parent[n]) {
      if (!isEmptyStackLocation(c, location[n])) sampleLocs.push(loc(location[n]));
    }
    sampleLocStart.push(sampleLocs.length);
  }
  const sampleCount = values.length;
  if (sampleCount === 0) return null;

  const first = parts[0].labels;
  const types = sampleAndPeriodTypes(first);
  const sampleTypes = Uint32Array.of(out.string(types.sampleType), out.string(types.sampleUnit));
  const periodType: [number, number] =
    types.periodType || types.periodUnit
      ? [out.string(types.periodType), out.string(types.periodUnit)]
      : [0, 0];
  return out.finish({
    sampleTypes,
    sampleCount,
    values: values.view().slice(),
    sampleLocStart: sampleLocStart.view().slice(),
    sampleLocs: sampleLocs.view().slice(),
    timeNanos: BigInt(Math.floor(range.startMs)) * 1_000_000n,
    durationNanos: BigInt(Math.max(0, Math.floor(range.endMs - range.startMs))) * 1_000_000n,
    periodType,
    period: mostCommonPeriod(periods),
  });
}

/** The most common period over the merged rows; ties go to the larger one. */
function mostCommonPeriod(periods: Map<number, number>): number {
  let best = 0;
  let bestRows = -1;
  for (const [period, rows] of periods) {
    if (rows > bestRows || (rows === bestRows && period > best)) {
      best = period;
      bestRows = rows;
    }
  }
  return best;
}

/** Sample and period type of a series: its `__type__`/`__unit__`/… labels, else its profile type ID. */
export function sampleAndPeriodTypes(labels: Labels): {
  sampleType: string;
  sampleUnit: string;
  periodType: string;
  periodUnit: string;
} {
  let parsed = { sampleType: '', sampleUnit: '', periodType: '', periodUnit: '' };
  try {
    parsed = parseProfileType(labelValue(labels, LabelName.ProfileType));
  } catch {
    // No (valid) profile type: rely on the other labels.
  }
  return {
    sampleType: labelValue(labels, LabelName.Type) || parsed.sampleType,
    sampleUnit: labelValue(labels, LabelName.Unit) || parsed.sampleUnit,
    periodType: labelValue(labels, LabelName.PeriodType) || parsed.periodType,
    periodUnit: labelValue(labels, LabelName.PeriodUnit) || parsed.periodUnit,
  };
}

/** The tables of the exported profile, filled on demand with what samples reach. */
class ProfileOutput {
  private readonly strings = [''];
  private readonly stringIds = new Map<string, number>([['', 0]]);
  private readonly stringOut: Int32Array;
  mappingCount = 0;
  readonly mappingStart: bigint[] = [];
  readonly mappingLimit: bigint[] = [];
  readonly mappingOffset: bigint[] = [];
  readonly mappingFile = growableUint32(16);
  readonly mappingBuildId = growableUint32(16);
  readonly mappingFlags: number[] = [];
  readonly functionName = growableUint32();
  readonly functionSystemName = growableUint32();
  readonly functionFilename = growableUint32();
  readonly functionStartLine = growableFloat64();
  readonly locationMapping: number[] = [];
  readonly locationAddress: bigint[] = [];
  readonly locationFolded: number[] = [];
  readonly locationLineStart: number[] = [0];
  readonly lineFunction: number[] = [];
  readonly lineNumber: number[] = [];

  constructor(private readonly source: readonly string[]) {
    this.stringOut = new Int32Array(source.length).fill(-1);
  }

  /** Output index of a string of the merged symbol table. */
  string(i: number): number;
  /** Output index of a new string. */
  string(s: string): number;
  string(x: number | string): number {
    if (typeof x === 'number') {
      if (this.stringOut[x] < 0) this.stringOut[x] = this.intern(this.source[x]);
      return this.stringOut[x];
    }
    return this.intern(x);
  }

  private intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.push(s) - 1;
      this.stringIds.set(s, id);
    }
    return id;
  }

  finish(
    p: Pick<
      Profile,
      | 'sampleTypes'
      | 'sampleCount'
      | 'values'
      | 'sampleLocStart'
      | 'sampleLocs'
      | 'timeNanos'
      | 'durationNanos'
      | 'periodType'
      | 'period'
    >,
  ): Profile {
    const ids = (n: number) => Float64Array.from({ length: n }, (_, i) => i + 1);
    const locationCount = this.locationMapping.length;
    const functionCount = this.functionName.length;
    return {
      strings: this.strings,
      ...p,
      sampleLabelStart: new Uint32Array(p.sampleCount + 1),
      labelKey: new Uint32Array(0),
      labelStr: new Uint32Array(0),
      labelNum: new Float64Array(0),
      labelNumUnit: new Uint32Array(0),
      mappingCount: this.mappingCount,
      mappingId: ids(this.mappingCount),
      mappingStart: BigUint64Array.from(this.mappingStart),
      mappingLimit: BigUint64Array.from(this.mappingLimit),
      mappingOffset: BigUint64Array.from(this.mappingOffset),
      mappingFile: this.mappingFile.view().slice(),
      mappingBuildId: this.mappingBuildId.view().slice(),
      mappingFlags: Uint8Array.from(this.mappingFlags),
      locationCount,
      locationId: ids(locationCount),
      locationMapping: Int32Array.from(this.locationMapping),
      locationAddress: BigUint64Array.from(this.locationAddress),
      locationIsFolded: Uint8Array.from(this.locationFolded),
      locationLineStart: Uint32Array.from(this.locationLineStart),
      lineFunction: Int32Array.from(this.lineFunction),
      lineNumber: Float64Array.from(this.lineNumber),
      lineColumn: new Float64Array(this.lineFunction.length),
      functionCount,
      functionId: ids(functionCount),
      functionName: this.functionName.view().slice(),
      functionSystemName: this.functionSystemName.view().slice(),
      functionFilename: this.functionFilename.view().slice(),
      functionStartLine: this.functionStartLine.view().slice(),
      dropFrames: 0,
      keepFrames: 0,
      comments: [],
      defaultSampleType: 0,
    };
  }
}
