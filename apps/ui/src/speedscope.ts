import { AdhocError, type AdhocProfile, inNanoseconds, type Stack } from './adhoc.js';

/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json) for ad-hoc mode: frames shared
 * by every profile, and profiles that are either `sampled` (stacks of frame indices, root first, with weights)
 * or `evented` (open/close events; a frame's time is its close minus its open).
 *
 * All profiles of a file are merged into one flame graph: a file usually holds one profile per thread, and the
 * merge is the whole process, as a pprof profile of the same program would be. Profiles in different duration
 * units are merged in nanoseconds; profiles of different kinds (time and bytes) cannot be merged and are refused.
 */

/** speedscope units → the units format.ts formats. */
const UNITS: Record<string, string> = {
  nanoseconds: 'nanoseconds',
  microseconds: 'microseconds',
  milliseconds: 'milliseconds',
  seconds: 'seconds',
  bytes: 'bytes',
  none: 'count',
};

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The speedscope `$schema`, or the shape of one when the schema is missing. */
export function isSpeedscope(json: unknown): boolean {
  if (!isObject(json)) return false;
  if (typeof json.$schema === 'string' && json.$schema.includes('speedscope')) return true;
  return isObject(json.shared) && Array.isArray(json.shared.frames) && Array.isArray(json.profiles);
}

export function parseSpeedscope(json: unknown): AdhocProfile {
  if (!isObject(json)) throw new AdhocError('speedscope: the file is not a JSON object');
  const frames = isObject(json.shared) ? json.shared.frames : undefined;
  if (!Array.isArray(frames)) throw new AdhocError('speedscope: shared.frames is missing');
  const names = frames.map((f, i) => {
    if (!isObject(f) || typeof f.name !== 'string')
      throw new AdhocError(`speedscope: frame ${i} has no name`);
    return f.name;
  });
  if (!Array.isArray(json.profiles) || json.profiles.length === 0)
    throw new AdhocError('speedscope: the file has no profiles');
  const profiles = json.profiles.map((p, k): AdhocProfile => {
    const what = isObject(p) && typeof p.name === 'string' ? `profile ${k} ("${p.name}")` : `profile ${k}`;
    if (!isObject(p)) throw new AdhocError(`speedscope: ${what} is not an object`);
    const unit = typeof p.unit === 'string' ? UNITS[p.unit] : undefined;
    if (unit === undefined)
      throw new AdhocError(`speedscope: ${what} has an unknown unit ${JSON.stringify(p.unit)}`);
    const stacks = new StackSums(names, what);
    if (p.type === 'sampled') sampled(p, stacks, what);
    else if (p.type === 'evented') evented(p, stacks, what, names);
    else throw new AdhocError(`speedscope: ${what} has an unknown type ${JSON.stringify(p.type)}`);
    return { type: typeOf(unit), unit, stacks: stacks.list() };
  });
  return merge(profiles);
}

function typeOf(unit: string): string {
  return unit === 'bytes' ? 'space' : unit === 'count' ? 'samples' : 'time';
}

function merge(profiles: AdhocProfile[]): AdhocProfile {
  const units = [...new Set(profiles.map((p) => p.unit))];
  if (units.length === 1) return { ...profiles[0], stacks: profiles.flatMap((p) => p.stacks) };
  const ns = profiles.map(inNanoseconds);
  if (ns.every((p) => p !== undefined))
    return { type: 'time', unit: 'nanoseconds', stacks: ns.flatMap((p) => p.stacks) };
  throw new AdhocError(`speedscope: the profiles are in units that cannot be merged: ${units.join(', ')}`);
}

/** Values summed per distinct stack of frame indices. */
class StackSums {
  private readonly sums = new Map<string, { frames: number[]; value: number }>();
  constructor(
    private readonly names: readonly string[],
    private readonly what: string,
  ) {}

  frame(v: unknown, where: string): number {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= this.names.length)
      throw new AdhocError(
        `speedscope: ${this.what}, ${where}: frame ${JSON.stringify(v)} is not an index into shared.frames (${this.names.length} frames)`,
      );
    return v as number;
  }

  add(frames: readonly number[], value: number): void {
    const key = frames.join(',');
    const s = this.sums.get(key);
    if (s) s.value += value;
    else this.sums.set(key, { frames: frames.slice(), value });
  }

  list(): Stack[] {
    return [...this.sums.values()].map((s) => [s.frames.map((f) => this.names[f]), s.value] as const);
  }
}

function sampled(p: Obj, stacks: StackSums, what: string): void {
  const { samples, weights } = p;
  if (!Array.isArray(samples)) throw new AdhocError(`speedscope: ${what} has no samples`);
  if (!Array.isArray(weights) || weights.length !== samples.length)
    throw new AdhocError(`speedscope: ${what} needs one weight per sample (${samples.length} samples)`);
  samples.forEach((s, i) => {
    if (!Array.isArray(s)) throw new AdhocError(`speedscope: ${what}, sample ${i} is not an array of frames`);
    const w = weights[i];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new AdhocError(`speedscope: ${what}, sample ${i} has weight ${JSON.stringify(w)}`);
    stacks.add(
      s.map((f) => stacks.frame(f, `sample ${i}`)),
      w,
    );
  });
}

/** The time between two consecutive events belongs to the frames open in between (innermost gets self time). */
function evented(p: Obj, stacks: StackSums, what: string, names: readonly string[]): void {
  if (!Array.isArray(p.events)) throw new AdhocError(`speedscope: ${what} has no events`);
  const open: number[] = [];
  const openedAt: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  p.events.forEach((e, i) => {
    if (!isObject(e) || (e.type !== 'O' && e.type !== 'C'))
      throw new AdhocError(`speedscope: ${what}, event ${i} is not an "O" (open) or "C" (close) event`);
    const frame = stacks.frame(e.frame, `event ${i}`);
    const at = e.at;
    if (typeof at !== 'number' || !Number.isFinite(at))
      throw new AdhocError(`speedscope: ${what}, event ${i} has no time ("at")`);
    if (at < last)
      throw new AdhocError(
        `speedscope: ${what}, event ${i} at ${at} comes before the previous event at ${last}: events must be in time order`,
      );
    if (open.length > 0 && at > last) stacks.add(open, at - last);
    last = at;
    if (e.type === 'O') {
      open.push(frame);
      openedAt.push(at);
      return;
    }
    if (open.length === 0)
      throw new AdhocError(
        `speedscope: ${what}, event ${i} closes "${names[frame]}" at ${at}, but no frame is open (unbalanced events)`,
      );
    const top = open[open.length - 1];
    if (top !== frame)
      throw new AdhocError(
        `speedscope: ${what}, event ${i} closes "${names[frame]}" at ${at}, but the innermost open frame is "${names[top]}" (events must nest)`,
      );
    open.pop();
    openedAt.pop();
  });
  if (open.length > 0)
    throw new AdhocError(
      `speedscope: ${what}: "${names[open[open.length - 1]]}" opened at ${openedAt[openedAt.length - 1]} is never closed (unbalanced events)`,
    );
}
