import {
  type DecodeContext,
  type DecodedPush,
  decodePush,
  IngestError,
  ingestLegacy,
  type PushSeries,
} from '@emberscope/ingest';
import {
  buildFunctionTree,
  compareUtf8,
  diffTable,
  encodeTree,
  type FunctionTree,
  filterCallSite,
  focusSubtree,
  functionTable,
  type StackValues,
  sandwich,
  toCollapsed,
  toDiffFlameGraph,
  toDot,
  toFlameGraph,
} from '@emberscope/model';
import { encodeWalRecord, stringHashes } from '@emberscope/storage';
import { type PackedProfiles, packProfiles, unpackProfiles, type WalFramedProfile } from './profile-wire.js';

/** The merged stacks of one query, optionally restricted to a call site (stack_trace_selector). */
export interface StacksInput {
  parts: StackValues[];
  /** Root-first function names every kept stack starts with; empty = all stacks. */
  callSite?: string[];
}

function tree(input: StacksInput) {
  const parts = input.callSite?.length ? filterCallSite(input.parts, input.callSite) : input.parts;
  return buildFunctionTree(parts);
}

/** A decoded Push profile with its strings' hashes (see `AppendRequest.stringHashes`). */
type HashedPush = DecodedPush & { ingested: WalFramedProfile };

/** A `/ingest` request as a worker receives it (URLSearchParams do not cross threads). */
export interface LegacyInput {
  query: string;
  contentType: string;
  body: Uint8Array;
  ctx: DecodeContext;
}

/**
 * CPU-heavy steps of queries and of ingestion (inflating, decoding and validating uploads), as pure
 * functions of structured-cloneable inputs, so that the same code runs inline for small inputs and in a
 * worker thread for large ones.
 */
export const tasks = {
  /**
   * Also frames each profile as its WAL record and hashes its strings: copying the payload, its crc32 and
   * hashing symbol names leave the event loop too.
   */
  ingestLegacy: (input: LegacyInput): WalFramedProfile[] =>
    ingestLegacy(
      { query: new URLSearchParams(input.query), contentType: input.contentType, body: input.body },
      input.ctx,
    ).map((p) => ({ ...p, walRecord: encodeWalRecord(p), stringHashes: stringHashes(p.profile.strings) })),
  decodePush: (input: { series: PushSeries[]; ctx: DecodeContext }): HashedPush[] =>
    decodePush(input.series, input.ctx).map((d) => ({
      ...d,
      ingested: { ...d.ingested, stringHashes: stringHashes(d.ingested.profile.strings) },
    })),
  flameGraph: (input: StacksInput & { maxNodes: number }) => toFlameGraph(tree(input), input.maxNodes),
  treeBytes: (input: StacksInput & { maxNodes: number }) => encodeTree(tree(input), input.maxNodes),
  dot: (input: StacksInput & { maxNodes: number }) => toDot(tree(input), input.maxNodes),
  collapsed: (input: StacksInput) => toCollapsed(tree(input)),
  diff: (input: { left: StacksInput; right: StacksInput; maxNodes: number }) =>
    toDiffFlameGraph(tree(input.left), tree(input.right), input.maxNodes),
  /** The flame graph of the subtree at `path` (root-first function names), cut to maxNodes after focusing. */
  focusFlameGraph: (input: StacksInput & { path: string[]; maxNodes: number }) =>
    toFlameGraph(focusSubtree(tree(input), input.path), input.maxNodes),
  /** Callers and callees of one function (within the focused subtree when `focus` is set), as flame graphs. */
  sandwich: (input: StacksInput & { function: string; focus?: string[]; maxNodes: number }) => {
    const halves = sandwich(focused(tree(input), input.focus), input.function);
    return {
      callers: toFlameGraph(halves.callers, input.maxNodes),
      callees: toFlameGraph(halves.callees, input.maxNodes),
    };
  },
  /** Per-function self and total, by self (or total) descending; `limit` > 0 keeps the first rows. */
  functionTable: (input: StacksInput & { sort: 'self' | 'total'; limit: number }) => {
    const t = tree(input);
    const rows = functionTable(t);
    if (input.sort === 'total')
      rows.sort((a, b) => b.total - a.total || b.self - a.self || compareUtf8(a.name, b.name));
    return { total: t.total[0], count: rows.length, functions: limited(rows, input.limit) };
  },
  /** Per-function comparison of two queries, biggest change first; `limit` > 0 keeps the first rows. */
  diffTable: (input: { left: StacksInput; right: StacksInput; normalize: boolean; limit: number }) => {
    const left = tree(input.left);
    const right = tree(input.right);
    const rows = diffTable(left, right, { normalize: input.normalize });
    return {
      leftTicks: left.total[0],
      rightTicks: right.total[0],
      count: rows.length,
      rows: limited(rows, input.limit),
    };
  },
};

function focused(t: FunctionTree, path: readonly string[] | undefined): FunctionTree {
  return path?.length ? focusSubtree(t, path) : t;
}

function limited<T>(rows: T[], limit: number): T[] {
  return limit > 0 && rows.length > limit ? rows.slice(0, limit) : rows;
}

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
export type TaskInput<T extends TaskName> = Parameters<Tasks[T]>[0];
export type TaskOutput<T extends TaskName> = ReturnType<Tasks[T]>;

export function runTask<T extends TaskName>(task: T, input: TaskInput<T>): TaskOutput<T> {
  return (tasks[task] as (input: TaskInput<T>) => TaskOutput<T>)(input);
}

/** How a task's output crosses back from a worker when structured cloning it would be slow. */
interface OutputWire<T> {
  pack(output: T): { message: unknown; transfer: ArrayBuffer[] };
  unpack(message: unknown): T;
}

export const outputWires: { [T in TaskName]?: OutputWire<TaskOutput<T>> } = {
  ingestLegacy: {
    pack(output) {
      const packed = packProfiles(output);
      return { message: packed, transfer: [packed.buffer] };
    },
    unpack: (message) => unpackProfiles(message as PackedProfiles),
  },
  decodePush: {
    pack(output) {
      const packed = packProfiles(output.map((d) => d.ingested));
      return {
        message: { packed, cumulative: output.map((d) => d.mayBeCumulative) },
        transfer: [packed.buffer],
      };
    },
    unpack(message) {
      const { packed, cumulative } = message as { packed: PackedProfiles; cumulative: boolean[] };
      return unpackProfiles(packed).map(
        (ingested, i): HashedPush => ({ ingested, mayBeCumulative: cumulative[i] }),
      );
    },
  },
};

/** Inputs smaller than this run inline: a message round trip to a worker would cost more. */
const INLINE_BELOW_NODES = 50_000;
const INLINE_BELOW_BYTES = 8 * 1024;

/** Whether a task is small enough to run on the calling thread. */
export function runsInline<T extends TaskName>(task: T, input: TaskInput<T>): boolean {
  if (task === 'ingestLegacy') return (input as LegacyInput).body.length < INLINE_BELOW_BYTES;
  if (task === 'decodePush') {
    let bytes = 0;
    for (const s of (input as { series: PushSeries[] }).series)
      for (const sample of s.samples) bytes += sample.rawProfile.length;
    return bytes < INLINE_BELOW_BYTES;
  }
  const stacks = input as Partial<StacksInput & { left: StacksInput; right: StacksInput }>;
  let nodes = 0;
  for (const part of [stacks, stacks.left, stacks.right])
    for (const p of part?.parts ?? []) nodes += p.parent.length;
  return nodes < INLINE_BELOW_NODES;
}

/** A task's error as it crosses back from a worker: ingestion errors keep their status and reason. */
export interface TaskError {
  message: string;
  ingest?: { status: number; code: IngestError['code']; reason: IngestError['reason'] };
}

export function taskError(err: unknown): TaskError {
  const message = (err as Error)?.message ?? String(err);
  if (!(err instanceof IngestError)) return { message };
  return { message, ingest: { status: err.status, code: err.code, reason: err.reason } };
}

export function errorFromTask(e: TaskError): Error {
  return e.ingest
    ? new IngestError(e.ingest.status, e.ingest.code, e.ingest.reason, e.message)
    : new Error(e.message);
}
