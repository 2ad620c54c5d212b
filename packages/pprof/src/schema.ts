/**
 * Tags (field number << 3 | wire type) of perftools.profiles, as in pprof's profile.proto. The decoder
 * switches on them and the encoder writes them, so the two cannot disagree on a field number.
 * Repeated scalars have two tags: writers may send them packed (one length-delimited run) or one by one.
 * `lastField` is the highest field number a message defines: a field at or below it with another
 * wire type is malformed, anything above it is an extension to skip.
 */
export const WireType = { Varint: 0, Fixed64: 1, Len: 2, StartGroup: 3, EndGroup: 4, Fixed32: 5 } as const;

export interface MessageSchema {
  name: string;
  lastField: number;
}

const varint = (field: number) => (field << 3) | WireType.Varint;
const len = (field: number) => (field << 3) | WireType.Len;

export const ProfileTag = {
  SampleType: len(1),
  Sample: len(2),
  Mapping: len(3),
  Location: len(4),
  Function: len(5),
  StringTable: len(6),
  DropFrames: varint(7),
  KeepFrames: varint(8),
  TimeNanos: varint(9),
  DurationNanos: varint(10),
  PeriodType: len(11),
  Period: varint(12),
  Comment: varint(13),
  CommentPacked: len(13),
  DefaultSampleType: varint(14),
  name: 'Profile',
  lastField: 14,
} as const;

export const ValueTypeTag = { Type: varint(1), Unit: varint(2), name: 'ValueType', lastField: 2 } as const;

export const SampleTag = {
  LocationId: varint(1),
  LocationIdPacked: len(1),
  Value: varint(2),
  ValuePacked: len(2),
  Label: len(3),
  name: 'Sample',
  lastField: 3,
} as const;

export const LabelTag = {
  Key: varint(1),
  Str: varint(2),
  Num: varint(3),
  NumUnit: varint(4),
  name: 'Label',
  lastField: 4,
} as const;

export const MappingTag = {
  Id: varint(1),
  MemoryStart: varint(2),
  MemoryLimit: varint(3),
  FileOffset: varint(4),
  Filename: varint(5),
  BuildId: varint(6),
  HasFunctions: varint(7),
  HasFilenames: varint(8),
  HasLineNumbers: varint(9),
  HasInlineFrames: varint(10),
  name: 'Mapping',
  lastField: 10,
} as const;

export const LocationTag = {
  Id: varint(1),
  MappingId: varint(2),
  Address: varint(3),
  Line: len(4),
  IsFolded: varint(5),
  name: 'Location',
  lastField: 5,
} as const;

export const LineTag = {
  FunctionId: varint(1),
  Line: varint(2),
  Column: varint(3),
  name: 'Line',
  lastField: 3,
} as const;

export const FunctionTag = {
  Id: varint(1),
  Name: varint(2),
  SystemName: varint(3),
  Filename: varint(4),
  StartLine: varint(5),
  name: 'Function',
  lastField: 5,
} as const;
