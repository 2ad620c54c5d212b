/**
 * The fuzz harness shared by every `*.fuzz.test.ts`: a target is a parser entry point with an oracle
 * (`check`) and generators (`properties`). `fuzzTarget` registers, per target, one Vitest test that
 * replays `regressions/<target>/*` and one test per property, run by fast-check. See README.md.
 *
 * Environment (all optional):
 * - FUZZ_SEED       fast-check seed; random per run otherwise, and printed on failure.
 * - FUZZ_RUNS       multiplies every property's run count (default 1: the bounded run of `npm test`).
 * - FUZZ_TARGET_MS  run each target's properties for this long instead (long runs; FUZZ_RUNS is ignored).
 * - FUZZ_LONG=1     bigger generated inputs (deeper nesting, longer lines, the large testdata profiles).
 * - FUZZ_SAVE=1     write each counterexample to regressions/<target>/<sha1>.<ext>.
 * - FUZZ_HANG_MS    a watchdog thread saves the input and kills the process when one synchronous check
 *                   runs longer than this (long runs only: tests never assert timings).
 * - FUZZ_PATH       with FUZZ_SEED, replays just the failing input a report names.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';

// ---------------------------------------------------------------------------------------------------------
// Configuration

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`${name} must be a positive number, got ${value}`);
  return n;
}

const env = process.env;
export const fuzzConfig = {
  seed: positiveNumber('FUZZ_SEED', env.FUZZ_SEED) ?? (Math.random() * 2 ** 31) | 0,
  runsFactor: positiveNumber('FUZZ_RUNS', env.FUZZ_RUNS) ?? 1,
  targetMs: positiveNumber('FUZZ_TARGET_MS', env.FUZZ_TARGET_MS),
  /** Bigger inputs: generators read this to scale depths, lengths and seed sets. */
  long: env.FUZZ_LONG === '1',
  save: env.FUZZ_SAVE === '1',
  hangMs: positiveNumber('FUZZ_HANG_MS', env.FUZZ_HANG_MS),
  /** With FUZZ_SEED, replays the one input of a failure (the `path` fast-check reports). */
  path: env.FUZZ_PATH || undefined,
};

/** `bounded` in `npm test`, `long` when FUZZ_LONG=1. */
export function scaled(bounded: number, long: number): number {
  return fuzzConfig.long ? long : bounded;
}

export const regressionsDir = fileURLToPath(new URL('./regressions/', import.meta.url));
const slowDir = fileURLToPath(new URL('./slow/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// Targets

/** How an input is stored as a regression file. */
export interface Codec<T> {
  ext: 'bin' | 'txt';
  encode(input: T): Uint8Array;
  decode(file: Uint8Array): T;
}

export const bytesCodec: Codec<Uint8Array> = {
  ext: 'bin',
  encode: (input) => input,
  decode: (file) => file,
};

export const textCodec: Codec<string> = {
  ext: 'txt',
  encode: (input) => Buffer.from(input, 'utf8'),
  decode: (file) => Buffer.from(file).toString('utf8'),
};

/** Inputs made of a few one-line strings and a body: stored as one line per field, then the body. */
export type Headed<K extends string> = Record<K, string> & { body: Uint8Array };

export function headedCodec<K extends string>(fields: readonly K[]): Codec<Headed<K>> {
  return {
    ext: 'bin',
    encode(input) {
      for (const f of fields) {
        if (/[\r\n]/.test(input[f])) throw new Error(`field ${f} of a headed input contains a line break`);
      }
      const head = fields.map((f) => `${input[f]}\n`).join('');
      return Buffer.concat([Buffer.from(head, 'utf8'), input.body]);
    },
    decode(file) {
      const buf = Buffer.from(file);
      const input: Record<string, string | Uint8Array> = {};
      let pos = 0;
      for (const f of fields) {
        const newline = buf.indexOf(0x0a, pos);
        if (newline < 0) throw new Error(`regression file ends before field ${f}`);
        input[f] = buf.toString('utf8', pos, newline);
        pos = newline + 1;
      }
      input.body = buf.subarray(pos);
      return input as Headed<K>;
    },
  };
}

export interface FuzzProperty<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Runs in the bounded run (`npm test`); multiplied by FUZZ_RUNS. */
  runs: number;
}

export interface FuzzTarget<T> {
  /** Also the directory of its regression fixtures. */
  name: string;
  codec: Codec<T>;
  /**
   * The oracle. Returns when the parser accepted the input and its output passed the invariants, or
   * refused it with its documented error; throws otherwise. Must be deterministic.
   */
  check(input: T): void | Promise<void>;
  /** Set when `check` returns a promise. */
  async?: boolean;
  properties: FuzzProperty<T>[];
}

/** Registers the regression replay and the properties of a target as Vitest tests. */
export function fuzzTarget<T>(target: FuzzTarget<T>): void {
  describe(target.name, () => {
    it('replays regressions', async () => {
      for (const file of regressionFiles(target.name)) {
        const bytes = readFileSync(`${regressionsDir}${target.name}/${file}`);
        try {
          await target.check(target.codec.decode(bytes));
        } catch (error) {
          throw new Error(`regression ${target.name}/${file} fails: ${summary(error)}`, {
            cause: error,
          });
        }
      }
    });
    for (const property of target.properties) {
      // Long runs are bounded by their budget and the hang watchdog, not by Vitest's test timeout.
      const long = fuzzConfig.targetMs !== undefined || fuzzConfig.runsFactor > 1;
      const timeout = long ? 24 * 3600_000 : undefined;
      it(property.name, () => runProperty(target, property), timeout);
    }
  });
}

export function regressionFiles(targetName: string): string[] {
  const dir = `${regressionsDir}${targetName}`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin') || f.endsWith('.txt'))
    .sort();
}

/**
 * Long runs go in chunks of a few seconds, each with its own seed, with a turn of the event loop in
 * between: a synchronous fast-check run blocks the worker, and Vitest's worker RPC times out after 60 s.
 */
const CHUNK_MS = 5000;

async function runProperty<T>(target: FuzzTarget<T>, property: FuzzProperty<T>): Promise<void> {
  const { seed, targetMs } = fuzzConfig;
  const budgetMs = targetMs === undefined ? undefined : targetMs / target.properties.length;
  const long = budgetMs !== undefined || fuzzConfig.runsFactor > 1;
  let runsLeft =
    budgetMs === undefined
      ? Math.max(1, Math.round(property.runs * fuzzConfig.runsFactor))
      : Number.MAX_SAFE_INTEGER;
  const progress = new Progress(target, property, long);
  const watchdog = !target.async && fuzzConfig.hangMs ? await Watchdog.get(fuzzConfig.hangMs) : undefined;
  watchdog?.begin(target.name, target.codec.ext);

  const predicate = (input: T) => {
    progress.tick();
    watchdog?.enter(target.codec.encode(input));
    const started = performance.now();
    let result: void | Promise<void>;
    try {
      result = target.check(input);
    } finally {
      watchdog?.leave();
    }
    if (result instanceof Promise) return result.then(() => progress.timed(input, started));
    progress.timed(input, started);
  };
  const fcProperty: fc.IRawProperty<[T]> = target.async
    ? fc.asyncProperty(property.arbitrary, async (input) => {
        await predicate(input);
      })
    : fc.property(property.arbitrary, (input) => {
        predicate(input);
      });

  const deadline = budgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + budgetMs;
  let totalRuns = 0;
  for (let chunk = 0; runsLeft > 0 && Date.now() < deadline; chunk++) {
    const timeLimit = long ? Math.min(CHUNK_MS, deadline - Date.now()) : undefined;
    const params: fc.Parameters<[T]> = {
      seed: chunk === 0 ? seed : (seed + chunk * 0x9e3779b1) | 0,
      numRuns: runsLeft,
      ...(fuzzConfig.path !== undefined && { path: fuzzConfig.path }),
      ...(timeLimit !== undefined && { plugins: [fc.interruptAfterTimeLimit(timeLimit)] }),
      ...(target.async && fuzzConfig.hangMs !== undefined && { timeout: fuzzConfig.hangMs }),
    };
    const details = await fc.check(fcProperty, params);
    totalRuns += details.numRuns;
    runsLeft -= details.numRuns;
    if (details.failed) {
      progress.done(totalRuns);
      throw failure(target, property, details);
    }
    if (!long || fuzzConfig.path !== undefined) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  progress.done(totalRuns);
}

function failure<T>(target: FuzzTarget<T>, property: FuzzProperty<T>, details: fc.RunDetails<[T]>): Error {
  const lines = [
    `fuzz target "${target.name}", property "${property.name}" failed after ${details.numRuns} runs ` +
      `(seed ${details.seed}, path "${details.counterexamplePath}", ${details.numShrinks} shrinks)`,
    `reproduce: FUZZ_SEED=${details.seed} FUZZ_PATH="${details.counterexamplePath}"${fuzzConfig.long ? ' FUZZ_LONG=1' : ''} ` +
      `npx vitest run test/fuzz -t "^${escapeRegExp(`${target.name} ${property.name}`)}$"`,
  ];
  if (details.counterexample) {
    const bytes = target.codec.encode(details.counterexample[0]);
    const sha1 = createHash('sha1').update(bytes).digest('hex');
    lines.push(`counterexample: ${bytes.length} bytes, sha1 ${sha1}: ${preview(bytes)}`);
    if (fuzzConfig.save) lines.push(`saved as ${saveRegression(target.name, sha1, target.codec.ext, bytes)}`);
    else lines.push('(FUZZ_SAVE=1 writes it to test/fuzz/regressions/)');
  }
  lines.push(`error: ${summary(details.errorInstance)}`);
  return new Error(lines.join('\n'), { cause: details.errorInstance });
}

export function saveRegression(targetName: string, sha1: string, ext: string, bytes: Uint8Array): string {
  mkdirSync(`${regressionsDir}${targetName}`, { recursive: true });
  const path = `${regressionsDir}${targetName}/${sha1}.${ext}`;
  writeFileSync(path, bytes);
  return path;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function summary(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (caused by ${summary(error.cause)})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/** The start of an input, printable: text when it mostly is, hex otherwise. */
function preview(bytes: Uint8Array, max = 240): string {
  const head = Buffer.from(bytes.subarray(0, max));
  const printable = head.filter((b) => b === 0x0a || b === 0x09 || (b >= 0x20 && b < 0x7f)).length;
  const more = bytes.length > max ? ` … (+${bytes.length - max} bytes)` : '';
  return printable > head.length * 0.9
    ? `${JSON.stringify(head.toString('latin1'))}${more}`
    : `hex ${head.toString('hex')}${more}`;
}

/**
 * Progress lines for long runs, written straight to stdout so they appear while the test runs, and the
 * slowest run of each property: timings are reported (and with FUZZ_SAVE the slowest input of a second or
 * more is kept under slow/, which git ignores), never asserted.
 */
class Progress<T> {
  private runs = 0;
  private readonly started = Date.now();
  private last = this.started;
  private slowestMs = 0;
  private slowest: T | undefined;

  constructor(
    private readonly target: FuzzTarget<T>,
    private readonly property: FuzzProperty<T>,
    private readonly enabled: boolean,
  ) {}

  tick(): void {
    this.runs++;
    if (!this.enabled || (this.runs & 63) !== 0) return;
    const now = Date.now();
    if (now - this.last < 15_000) return;
    this.last = now;
    this.print(`${this.runs} runs, ${Math.round((now - this.started) / 1000)} s`);
  }

  timed(input: T, startedMs: number): void {
    const ms = performance.now() - startedMs;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowest = input;
    }
  }

  done(runs: number): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    let slowest = '';
    if (this.slowest !== undefined) {
      const bytes = this.target.codec.encode(this.slowest);
      slowest = `; slowest run ${Math.round(this.slowestMs)} ms on ${bytes.length} bytes`;
      if (fuzzConfig.save && this.slowestMs >= 1000) {
        const sha1 = createHash('sha1').update(bytes).digest('hex');
        const dir = `${slowDir}${this.target.name}`;
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/${sha1}.${this.target.codec.ext}`, bytes);
        slowest += ` (kept as test/fuzz/slow/${this.target.name}/${sha1}.${this.target.codec.ext})`;
      }
    }
    this.print(`done: ${runs} runs in ${seconds} s${slowest}`);
  }

  private print(text: string): void {
    if (this.enabled) writeSync(1, `[fuzz] ${this.target.name} › ${this.property.name}: ${text}\n`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Hang watchdog (long runs)

const WATCHDOG_CAPACITY = 32 * 1024 * 1024;

/**
 * A synchronous parser that never returns blocks the event loop, so only another thread can notice it.
 * Before each run the input is copied into shared memory; the watchdog thread writes it out as a
 * regression fixture and kills the process when one run exceeds the limit.
 */
class Watchdog {
  private static instance: Promise<Watchdog> | undefined;
  /** [sequence, busy, length, truncated] */
  private readonly state = new Int32Array(new SharedArrayBuffer(16));
  private readonly bytes = new Uint8Array(new SharedArrayBuffer(WATCHDOG_CAPACITY));
  private readonly worker: Worker;

  static get(hangMs: number): Promise<Watchdog> {
    Watchdog.instance ??= Promise.resolve(new Watchdog(hangMs));
    return Watchdog.instance;
  }

  private constructor(hangMs: number) {
    this.worker = new Worker(new URL('./watchdog.mjs', import.meta.url), {
      workerData: { state: this.state, bytes: this.bytes, hangMs, dir: regressionsDir },
    });
    this.worker.unref();
    afterAll(() => this.worker.terminate());
  }

  begin(target: string, ext: string): void {
    this.worker.postMessage({ target, ext });
  }

  enter(input: Uint8Array): void {
    const length = Math.min(input.length, WATCHDOG_CAPACITY);
    this.bytes.set(input.subarray(0, length));
    Atomics.store(this.state, 2, length);
    Atomics.store(this.state, 3, length < input.length ? 1 : 0);
    Atomics.add(this.state, 0, 1);
    Atomics.store(this.state, 1, 1);
  }

  leave(): void {
    Atomics.store(this.state, 1, 0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Oracles

/** A function that threw something its documentation does not allow: always a bug. */
export class UndocumentedError extends Error {
  override name = 'UndocumentedError';
}

// biome-ignore lint/suspicious/noExplicitAny: any constructor of the documented error type.
type ErrorClass<E> = abstract new (...args: any[]) => E;

export type Outcome<R, E> = { ok: true; value: R } | { ok: false; error: E };

/**
 * Runs `fn` and returns its result, or the error when it is an instance of `documented` (after
 * `checkError` accepted it). Anything else thrown (TypeError, RangeError, a stack overflow, another
 * module's error) becomes an UndocumentedError that names it.
 */
export function outcome<R, E>(
  fn: () => R,
  documented: ErrorClass<E>,
  checkError?: (error: E) => void,
): Outcome<R, E> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return refused(error, documented, checkError);
  }
}

export async function asyncOutcome<R, E>(
  fn: () => Promise<R>,
  documented: ErrorClass<E>,
  checkError?: (error: E) => void,
): Promise<Outcome<R, E>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return refused(error, documented, checkError);
  }
}

function refused<E>(error: unknown, documented: ErrorClass<E>, checkError?: (error: E) => void) {
  if (!(error instanceof documented)) {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UndocumentedError(`threw ${name} instead of ${documented.name}: ${message}`, { cause: error });
  }
  checkError?.(error);
  return { ok: false as const, error };
}

/** Fails the run with `message` unless `condition` holds; cheaper than `expect` in hot oracles. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${typeof message === 'string' ? message : message()}`);
}
