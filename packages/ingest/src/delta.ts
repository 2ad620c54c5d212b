import { LabelName, labelsKey, labelValue } from '@emberscope/model';
import { encodeProfile, numSampleTypes, type Profile } from '@emberscope/pprof';
import type { IngestedProfile, IngestedSeries } from './types.js';

export interface DeltaStateOptions {
  /** How many series keep a baseline; the least recently used one is forgotten beyond that. */
  maxSeries?: number;
}

/**
 * Server-side deltas for cumulative allocation profiles, as Pyroscope v1's ingester computes them:
 * series named `memory` with sample type `alloc_objects` or `alloc_space` sent through Push without
 * `__delta__="false"`. Each such series keeps, per stack, the last cumulative value; a new profile
 * stores the difference, or the new value where it went down (a process restart resets counters).
 * The first profile of a series only sets the baseline. Baselines live in memory, bounded to
 * `maxSeries` series; a forgotten series starts over with a new baseline.
 */
export class DeltaState {
  readonly maxSeries: number;
  /** Series key → stack key → last cumulative value. Map order is recency: least recently used first. */
  private readonly baselines = new Map<string, Map<string, number>>();

  constructor({ maxSeries = 10_000 }: DeltaStateOptions = {}) {
    this.maxSeries = maxSeries;
  }

  get size(): number {
    return this.baselines.size;
  }

  /**
   * Turns the cumulative series of `ingested` into deltas. Returns null when nothing is left to store
   * (only first profiles of cumulative series), `ingested` itself when no value changes, and otherwise a
   * copy whose profile has the new values and a re-encoded payload. Series seen for the first time are
   * left out.
   */
  subtract(ingested: IngestedProfile): IngestedProfile | null {
    if (!ingested.series.some(isCumulative)) return ingested;
    const { profile } = ingested;
    const typeCount = numSampleTypes(profile);
    const stacks = stackKeys(profile);
    const values = profile.values.slice();
    let changed = false;
    const series: IngestedSeries[] = [];
    for (const plan of ingested.series) {
      if (!isCumulative(plan)) {
        series.push(plan);
        continue;
      }
      // Samples of one stack add up (Go heap profiles have one sample per stack and allocation size).
      const totals = new Map<string, number>();
      forEachSample(plan, profile.sampleCount, (s) => {
        totals.set(stacks[s], (totals.get(stacks[s]) ?? 0) + values[s * typeCount + plan.sampleType]);
      });
      const baseline = this.touch(`${ingested.tenant}\u0000${labelsKey(plan.labels)}`);
      if (baseline.size > 0) {
        // The delta of a stack goes to its first sample, the others become 0.
        const written = new Set<string>();
        forEachSample(plan, profile.sampleCount, (s) => {
          const stack = stacks[s];
          let delta = 0;
          if (!written.has(stack)) {
            written.add(stack);
            const total = totals.get(stack)!;
            const previous = baseline.get(stack) ?? 0;
            delta = total >= previous ? total - previous : total;
          }
          const at = s * typeCount + plan.sampleType;
          changed ||= values[at] !== delta;
          values[at] = delta;
        });
        series.push(plan);
      }
      for (const [stack, total] of totals) baseline.set(stack, total);
    }
    if (series.length === 0) return null;
    if (!changed) return { ...ingested, series };
    const deltaProfile: Profile = { ...profile, values };
    return { ...ingested, profile: deltaProfile, payload: encodeProfile(deltaProfile), series };
  }

  /** The baseline of a series, marked most recently used; empty for a series seen for the first time. */
  private touch(seriesKey: string): Map<string, number> {
    const baseline = this.baselines.get(seriesKey) ?? new Map<string, number>();
    this.baselines.delete(seriesKey);
    this.baselines.set(seriesKey, baseline);
    if (this.baselines.size > this.maxSeries) this.baselines.delete(this.baselines.keys().next().value!);
    return baseline;
  }
}

const CUMULATIVE_MEMORY_TYPES = new Set(['alloc_objects', 'alloc_space']);

function isCumulative(series: IngestedSeries): boolean {
  return (
    labelValue(series.labels, LabelName.MetricName) === 'memory' &&
    CUMULATIVE_MEMORY_TYPES.has(labelValue(series.labels, LabelName.Type))
  );
}

function forEachSample(series: IngestedSeries, sampleCount: number, fn: (sample: number) => void): void {
  if (series.samples) for (const s of series.samples) fn(s);
  else for (let s = 0; s < sampleCount; s++) fn(s);
}

/** Each sample's stack as its frame names, leaf first (inlined frames included), joined by NUL. */
function stackKeys(profile: Profile): string[] {
  const s = profile.strings;
  const frameNames: string[] = [];
  for (let loc = 0; loc < profile.locationCount; loc++) {
    const names: string[] = [];
    for (let line = profile.locationLineStart[loc]; line < profile.locationLineStart[loc + 1]; line++) {
      const fn = profile.lineFunction[line];
      names.push(fn < 0 ? '' : s[profile.functionName[fn]]);
    }
    // A location without symbols is identified by its address.
    frameNames.push(
      names.length > 0 ? names.join('\u0000') : `0x${profile.locationAddress[loc].toString(16)}`,
    );
  }
  const keys: string[] = new Array(profile.sampleCount);
  for (let sample = 0; sample < profile.sampleCount; sample++) {
    let key = '';
    for (let i = profile.sampleLocStart[sample]; i < profile.sampleLocStart[sample + 1]; i++) {
      key += `${frameNames[profile.sampleLocs[i]]}\u0000`;
    }
    keys[sample] = key;
  }
  return keys;
}
