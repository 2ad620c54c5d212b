import type { Profile } from './profile.js';

/** A (type, unit) pair such as ['cpu', 'nanoseconds']. */
export type ValueTypeNames = readonly [type: string, unit: string];

export interface ProfileBuilderOptions {
  /** One entry per value column, e.g. [['samples', 'count'], ['cpu', 'nanoseconds']]. */
  sampleTypes: readonly ValueTypeNames[];
  periodType?: ValueTypeNames;
  period?: number;
  timeNanos?: bigint;
  durationNanos?: bigint;
}

/**
 * Builds a `Profile` from stacks of function names, for tests and converters of folded text. Strings
 * and functions are interned; each function gets exactly one location with one line, so function i and
 * location i describe the same frame and both have id i + 1. There are no mappings or addresses.
 */
export class ProfileBuilder {
  private readonly strings = [''];
  private readonly stringIndex = new Map<string, number>([['', 0]]);
  /** Function index by name string index. */
  private readonly functionByName = new Map<number, number>();
  private readonly functionNames: number[] = [];
  private readonly sampleTypes: number[] = [];
  private readonly values: number[] = [];
  private readonly sampleLocStart = [0];
  private readonly sampleLocs: number[] = [];
  private readonly sampleLabelStart = [0];
  private readonly labelKey: number[] = [];
  private readonly labelStr: number[] = [];
  private readonly periodType: [number, number];

  constructor(private readonly opts: ProfileBuilderOptions) {
    if (opts.sampleTypes.length === 0) throw new RangeError('a profile needs at least one sample type');
    for (const [type, unit] of opts.sampleTypes) this.sampleTypes.push(this.intern(type), this.intern(unit));
    const [periodType, periodUnit] = opts.periodType ?? ['', ''];
    this.periodType = [this.intern(periodType), this.intern(periodUnit)];
  }

  /**
   * Adds one sample. `stackRootFirst` lists the frames from the outermost caller to the leaf, as folded
   * text and flame graphs do (pprof itself stores leaf first); `values` has one integer per sample type.
   */
  addSample(
    stackRootFirst: readonly string[],
    values: readonly number[],
    labels?: Readonly<Record<string, string>>,
  ): this {
    if (values.length !== this.opts.sampleTypes.length) {
      throw new RangeError(`got ${values.length} values, expected ${this.opts.sampleTypes.length}`);
    }
    const notInteger = values.find((value) => !Number.isSafeInteger(value));
    if (notInteger !== undefined) throw new RangeError(`sample values must be integers, got ${notInteger}`);
    this.values.push(...values);
    for (let i = stackRootFirst.length - 1; i >= 0; i--) {
      this.sampleLocs.push(this.functionOf(stackRootFirst[i]));
    }
    this.sampleLocStart.push(this.sampleLocs.length);
    for (const key in labels) {
      this.labelKey.push(this.intern(key));
      this.labelStr.push(this.intern(labels[key]));
    }
    this.sampleLabelStart.push(this.labelKey.length);
    return this;
  }

  build(): Profile {
    const functionCount = this.functionNames.length;
    const sampleCount = this.sampleLocStart.length - 1;
    const labelCount = this.labelKey.length;
    // Function i and location i are the same frame, so both tables are numbered 1..n.
    const ids = Float64Array.from({ length: functionCount }, (_, i) => i + 1);
    return {
      strings: [...this.strings],
      sampleTypes: Uint32Array.from(this.sampleTypes),
      sampleCount,
      values: Float64Array.from(this.values),
      sampleLocStart: Uint32Array.from(this.sampleLocStart),
      sampleLocs: Uint32Array.from(this.sampleLocs),
      sampleLabelStart: Uint32Array.from(this.sampleLabelStart),
      labelKey: Uint32Array.from(this.labelKey),
      labelStr: Uint32Array.from(this.labelStr),
      labelNum: new Float64Array(labelCount),
      labelNumUnit: new Uint32Array(labelCount),
      mappingCount: 0,
      mappingId: new Float64Array(0),
      mappingStart: new BigUint64Array(0),
      mappingLimit: new BigUint64Array(0),
      mappingOffset: new BigUint64Array(0),
      mappingFile: new Uint32Array(0),
      mappingBuildId: new Uint32Array(0),
      mappingFlags: new Uint8Array(0),
      locationCount: functionCount,
      locationId: ids,
      locationMapping: new Int32Array(functionCount).fill(-1),
      locationAddress: new BigUint64Array(functionCount),
      locationIsFolded: new Uint8Array(functionCount),
      locationLineStart: Uint32Array.from({ length: functionCount + 1 }, (_, i) => i),
      lineFunction: Int32Array.from({ length: functionCount }, (_, i) => i),
      lineNumber: new Float64Array(functionCount),
      lineColumn: new Float64Array(functionCount),
      functionCount,
      functionId: ids.slice(),
      functionName: Uint32Array.from(this.functionNames),
      functionSystemName: Uint32Array.from(this.functionNames),
      functionFilename: new Uint32Array(functionCount),
      functionStartLine: new Float64Array(functionCount),
      dropFrames: 0,
      keepFrames: 0,
      timeNanos: this.opts.timeNanos ?? 0n,
      durationNanos: this.opts.durationNanos ?? 0n,
      periodType: [this.periodType[0], this.periodType[1]],
      period: this.opts.period ?? 0,
      comments: [],
      defaultSampleType: 0,
    };
  }

  private intern(text: string): number {
    let index = this.stringIndex.get(text);
    if (index === undefined) {
      index = this.strings.push(text) - 1;
      this.stringIndex.set(text, index);
    }
    return index;
  }

  private functionOf(name: string): number {
    const nameIndex = this.intern(name);
    let index = this.functionByName.get(nameIndex);
    if (index === undefined) {
      index = this.functionNames.push(nameIndex) - 1;
      this.functionByName.set(nameIndex, index);
    }
    return index;
  }
}
