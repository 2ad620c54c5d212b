import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMatcher, type Label, type Matcher, type MatchOp, type StackValues } from '@emberscope/model';
import { decodeProfile, encodeProfile, type Profile, ProfileBuilder } from '@emberscope/pprof';
import type { AppendRequest, SeriesPoints } from '../src/index.js';

export const CPU_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
export const ALL_TIME = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER };

export interface TestProfile {
  tenant?: string;
  service?: string;
  timeMs: number;
  /** Root-first stacks with their value ("a;b;c" → 5). */
  samples: Record<string, number>;
  labels?: Record<string, string>;
  profileType?: string;
  gzip?: boolean;
  /** pprof period (period type cpu/nanoseconds); none when absent. */
  period?: number;
}

/** Series labels as ingest would make them: sorted, with __name__, __profile_type__ and service_name. */
export function seriesLabels(
  service: string,
  profileType: string,
  extra: Record<string, string> = {},
): Label[] {
  const all: Record<string, string> = {
    __name__: profileType.split(':')[0],
    __profile_type__: profileType,
    service_name: service,
    ...extra,
  };
  return Object.keys(all)
    .sort()
    .map((name) => ({ name, value: all[name] }));
}

export function request(p: TestProfile): AppendRequest {
  const builder = new ProfileBuilder({
    sampleTypes: [['cpu', 'nanoseconds']],
    timeNanos: BigInt(p.timeMs) * 1_000_000n,
    ...(p.period === undefined ? {} : { periodType: ['cpu', 'nanoseconds'] as const, period: p.period }),
  });
  for (const [stack, value] of Object.entries(p.samples)) builder.addSample(stack.split(';'), [value]);
  const payload = encodeProfile(builder.build(), { gzip: p.gzip ?? true });
  const service = p.service ?? 'svc';
  return {
    tenant: p.tenant ?? 'anonymous',
    partition: service,
    profile: decodeProfile(payload),
    payload,
    timeNanos: BigInt(p.timeMs) * 1_000_000n,
    durationNanos: 10_000_000_000n,
    series: [{ labels: seriesLabels(service, p.profileType ?? CPU_TYPE, p.labels), sampleType: 0 }],
  };
}

/** Merged values by root-first folded stack ("a;b;c"), summed over partitions. */
export function folded(parts: readonly StackValues[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sv of parts) {
    for (let node = 0; node < sv.values.length; node++) {
      if (sv.values[node] === 0) continue;
      const leafFirst: string[] = [];
      for (let n = node; n >= 0; n = sv.parent[n]) {
        const loc = sv.location[n];
        for (let i = sv.locFrameStart[loc]; i < sv.locFrameStart[loc + 1]; i++) {
          leafFirst.push(sv.names[sv.locFrameName[i]]);
        }
      }
      const key = leafFirst.reverse().join(';');
      out[key] = (out[key] ?? 0) + sv.values[node];
    }
  }
  return out;
}

export function sumOf(...maps: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export const m = (name: string, op: MatchOp, value: string): Matcher => createMatcher(name, op, value);

const tempDirs: string[] = [];

/** A fresh directory, removed by `removeTempDirs` (call it in afterEach). */
export async function tempDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'emberscope-storage-'));
  tempDirs.push(path);
  return path;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A logger that records what it is told, for asserting on warnings. */
export function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Plain points for readable expectations: [labels, [[ts, value], …]]. */
export function plain(series: SeriesPoints[]): [Record<string, string>, [number, number][]][] {
  return series.map((s) => [
    Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
    [...s.timestampsMs].map((ts, i) => [ts, s.values[i]]),
  ]);
}

/** Root-first folded stacks of a profile's samples, "name" or "name@file:line(start n)" per frame. */
export function foldedSamples(p: Profile): Record<string, number> {
  const out: Record<string, number> = {};
  for (let s = 0; s < p.sampleCount; s++) {
    const frames: string[] = [];
    for (let i = p.sampleLocStart[s + 1] - 1; i >= p.sampleLocStart[s]; i--) {
      const loc = p.sampleLocs[i];
      const lines: string[] = [];
      for (let l = p.locationLineStart[loc]; l < p.locationLineStart[loc + 1]; l++) {
        const f = p.lineFunction[l];
        const file = p.strings[p.functionFilename[f]];
        lines.push(
          file
            ? `${p.strings[p.functionName[f]]}@${file}:${p.lineNumber[l]}(start ${p.functionStartLine[f]})`
            : p.strings[p.functionName[f]],
        );
      }
      if (lines.length === 0) lines.push(`kernel@0x${p.locationAddress[loc].toString(16)}`);
      frames.push(lines.join(';'));
    }
    const key = frames.join(';');
    out[key] = (out[key] ?? 0) + p.values[s];
  }
  return out;
}
