import { LabelName, profileTypeLabels, sortLabels } from '@emberscope/model';
import { numSampleTypes, type Profile } from '@emberscope/pprof';
import { invalidArgument } from './errors.js';
import type { SeriesLabels } from './labels.js';
import type { IngestLimits } from './limits.js';
import type { IngestedProfile, IngestedSeries } from './types.js';

/** A decoded profile with the series labels it was sent with, on its way to storage. */
export interface ProfileToNormalize {
  tenant: string;
  profile: Profile;
  payload: Uint8Array;
  /** Series labels including `__name__` and `service_name`; `__delta__` already consumed. */
  labels: SeriesLabels;
  timeNanos: bigint;
  limits: IngestLimits;
}

/**
 * The common last step of every ingestion path: validates the profile and plans its series. pprof
 * string sample labels become series labels: samples are grouped by their label set (ignoring
 * `span_id`, `trace_id` and `profile_id`, which stay on the samples for span profiles) and each group
 * gets the sample labels merged over the series labels. Each group then yields one series per sample
 * type, with `__profile_type__` and its parts. Returns null for a profile without samples, which
 * Pyroscope drops silently.
 */
export function normalizeProfile(input: ProfileToNormalize): IngestedProfile | null {
  const { profile, limits } = input;
  validateProfile(profile, limits);
  if (profile.sampleCount === 0) return null;

  const groups = groupSamplesByLabels(profile);
  const series: IngestedSeries[] = [];
  for (let group = 0; group < groups.firsts.length; group++) {
    const labels = input.labels.clone();
    forEachGroupingLabel(profile, groups.firsts[group], (name, value) => labels.set(name, value));
    const groupLabels = labels.toLabels(limits);
    const samples = groups.samples?.[group];
    for (let type = 0; type < numSampleTypes(profile); type++) {
      const seriesLabels = [...groupLabels, ...profileTypeLabels(profileType(profile, type, labels))];
      series.push({ labels: sortLabels(seriesLabels), sampleType: type, ...(samples && { samples }) });
    }
  }
  return {
    tenant: input.tenant,
    partition: input.labels.get(LabelName.ServiceName) ?? '',
    profile,
    payload: input.payload,
    timeNanos: input.timeNanos,
    durationNanos: profile.durationNanos,
    series,
  };
}

function profileType(profile: Profile, type: number, labels: SeriesLabels) {
  const s = profile.strings;
  return {
    name: labels.get(LabelName.MetricName) ?? '',
    sampleType: s[profile.sampleTypes[2 * type]],
    sampleUnit: s[profile.sampleTypes[2 * type + 1]],
    periodType: s[profile.periodType[0]],
    periodUnit: s[profile.periodType[1]],
  };
}

/**
 * Pyroscope's profile checks that the decoder does not already make (it guarantees one value per sample
 * type and valid references), plus what a profile type ID needs: no ':' in any of its parts.
 */
function validateProfile(profile: Profile, limits: IngestLimits): void {
  if (numSampleTypes(profile) === 0) throw invalidArgument('bad_profile', 'profile has no sample types');
  const s = profile.strings;
  for (let type = 0; type < numSampleTypes(profile); type++) {
    const name = s[profile.sampleTypes[2 * type]];
    const unit = s[profile.sampleTypes[2 * type + 1]];
    if (name === '' || name.includes('-') || name.includes(':') || unit.includes(':')) {
      throw invalidArgument(
        'bad_profile',
        `sample type ${type} (${JSON.stringify(name)}, unit ${JSON.stringify(unit)}) is invalid: ` +
          `the name must be non-empty and neither may contain '-' or ':'`,
      );
    }
  }
  const [periodType, periodUnit] = [s[profile.periodType[0]], s[profile.periodType[1]]];
  if (periodType.includes(':') || periodUnit.includes(':')) {
    throw invalidArgument(
      'bad_profile',
      `period type ${JSON.stringify(periodType)}/${JSON.stringify(periodUnit)} must not contain ':'`,
    );
  }
  if (profile.sampleCount > limits.maxSamplesPerProfile) {
    throw invalidArgument(
      'limit_samples',
      `profile has ${profile.sampleCount} samples, more than the limit of ${limits.maxSamplesPerProfile}`,
    );
  }
}

/** Sample labels that identify a span, not a series. Pyroscope renames `profile_id` to `span_id`. */
const SPAN_LABELS = new Set(['span_id', 'trace_id', 'profile_id']);

/** Calls `fn` with the string labels of sample `s` that split series (empty values do not). */
function forEachGroupingLabel(profile: Profile, s: number, fn: (name: string, value: string) => void): void {
  for (let row = profile.sampleLabelStart[s]; row < profile.sampleLabelStart[s + 1]; row++) {
    if (isGroupingLabel(profile, row))
      fn(profile.strings[profile.labelKey[row]], profile.strings[profile.labelStr[row]]);
  }
}

function isGroupingLabel(profile: Profile, row: number): boolean {
  return profile.labelStr[row] !== 0 && !SPAN_LABELS.has(profile.strings[profile.labelKey[row]]);
}

interface SampleGroups {
  /** The first sample of each group; its labels stand for the group. */
  firsts: number[];
  /** The samples of each group, in order; absent when there is a single group. */
  samples?: Uint32Array[];
}

/**
 * Groups samples by their grouping-label set without an object per sample: an order-independent hash
 * of the (key, value) string indexes finds candidate groups, and the label rows are compared to confirm.
 */
function groupSamplesByLabels(profile: Profile): SampleGroups {
  const n = profile.sampleCount;
  if (profile.labelKey.length === 0) return { firsts: [0] };

  const groupOf = new Uint32Array(n);
  const firsts: number[] = [];
  const labelCounts: number[] = [];
  const groupByHash = new Map<number, number>();
  const nextWithSameHash: number[] = [];
  for (let s = 0; s < n; s++) {
    let hash = 0;
    let labelCount = 0;
    for (let row = profile.sampleLabelStart[s]; row < profile.sampleLabelStart[s + 1]; row++) {
      if (!isGroupingLabel(profile, row)) continue;
      hash = (hash + mixPair(profile.labelKey[row], profile.labelStr[row])) | 0; // a sum ignores label order
      labelCount++;
    }
    let group = groupByHash.get(hash) ?? -1;
    while (group >= 0 && !(labelCounts[group] === labelCount && hasAllLabels(profile, s, firsts[group]))) {
      group = nextWithSameHash[group];
    }
    if (group < 0) {
      group = firsts.length;
      firsts.push(s);
      labelCounts.push(labelCount);
      nextWithSameHash.push(groupByHash.get(hash) ?? -1);
      groupByHash.set(hash, group);
    }
    groupOf[s] = group;
  }
  if (firsts.length === 1) return { firsts };

  const sizes = new Uint32Array(firsts.length);
  for (const group of groupOf) sizes[group]++;
  const samples = Array.from(sizes, (size) => new Uint32Array(size));
  const filled = new Uint32Array(firsts.length);
  for (let s = 0; s < n; s++) samples[groupOf[s]][filled[groupOf[s]]++] = s;
  return { firsts, samples };
}

/** Whether `sample` carries every grouping label of `ofSample`. */
function hasAllLabels(profile: Profile, sample: number, ofSample: number): boolean {
  const start = profile.sampleLabelStart[sample];
  const end = profile.sampleLabelStart[sample + 1];
  for (let row = profile.sampleLabelStart[ofSample]; row < profile.sampleLabelStart[ofSample + 1]; row++) {
    if (!isGroupingLabel(profile, row)) continue;
    let found = false;
    for (let other = start; other < end && !found; other++) {
      found =
        profile.labelKey[other] === profile.labelKey[row] &&
        profile.labelStr[other] === profile.labelStr[row];
    }
    if (!found) return false;
  }
  return true;
}

function mixPair(key: number, value: number): number {
  let h = Math.imul(key, 0x9e3779b1) ^ Math.imul(value + 0x632be5ab, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae3d);
  return h ^ (h >>> 13);
}
