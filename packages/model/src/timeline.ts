import { parseProfileType } from './profile-type.js';

/** Pyroscope's `/pyroscope/render` asks for at most this many timeline points. */
const TIMELINE_POINTS = 1500;
const MIN_STEP_SEC = 15;

/**
 * Grafana's `roundInterval`, which Pyroscope's `CalcPointInterval` uses: an interval up to `upToMs` ms
 * rounds to `stepSec`. A nearest-nice rounding, not a ceiling: 1.6 s becomes 2 s but 1.4 s becomes 1 s.
 */
const NICE_INTERVALS: readonly (readonly [upToMs: number, stepSec: number])[] = [
  [1_500, 1],
  [3_500, 2],
  [7_500, 5],
  [12_500, 10],
  [17_500, 15],
  [25_000, 20],
  [45_000, 30],
  [90_000, 60],
  [210_000, 120],
  [450_000, 300],
  [750_000, 600],
  [1_050_000, 900],
  [1_500_000, 1_200],
  [2_700_000, 1_800],
  [5_400_000, 3_600],
  [9_000_000, 7_200],
  [16_200_000, 10_800],
  [32_400_000, 21_600],
  [86_400_000, 43_200],
  [172_800_000, 86_400],
  [604_800_000, 86_400],
  [1_814_400_000, 604_800],
];
const MONTH_SEC = 2_592_000;
const YEAR_SEC = 31_536_000;
/** Below this (6 weeks), an interval rounds to 30 days, above to a year. */
const MONTH_UP_TO_MS = 3_628_800_000;

/**
 * The timeline step, in seconds, of `/pyroscope/render` for a range (Pyroscope's `CalcPointInterval`):
 * the range divided into 1500 points, rounded to a nice interval by Grafana's rule (see NICE_INTERVALS),
 * and at least 15 s. So 1 h gives 15 s and 24 h gives 60 s.
 */
export function calcPointIntervalSec(fromMs: number, untilMs: number): number {
  // Go divides integer nanoseconds.
  const intervalMs = Math.trunc(((untilMs - fromMs) * 1e6) / TIMELINE_POINTS) / 1e6;
  if (intervalMs < MIN_STEP_SEC * 1000) return MIN_STEP_SEC;
  for (const [upToMs, stepSec] of NICE_INTERVALS) if (intervalMs <= upToMs) return stepSec;
  return intervalMs < MONTH_UP_TO_MS ? MONTH_SEC : YEAR_SEC;
}

/** The legacy flamebearer timeline. */
export interface FlamebearerTimeline {
  /** Start of the first step, in seconds: `from` snapped down to a multiple of the step. */
  startTime: number;
  /** One value per step. */
  samples: number[];
  /** The step, in seconds. */
  durationDelta: number;
  watermarks: null;
}

/** Points of a series: timestamps in ms, ascending, with their values. */
export interface TimelinePoints {
  timestampsMs: Float64Array;
  values: Float64Array;
}

/**
 * The timeline of `/pyroscope/render` from a series (Pyroscope's `timeline.New`): `from` and `until` are
 * snapped down to multiples of the step, and there is one sample per step in [from, until), zero where
 * no point falls. A point goes to the step its second falls in; points outside the range are ignored,
 * points in the same step add up. Values are truncated to integers, as Pyroscope's uint64 samples are.
 */
export function buildTimeline(
  points: TimelinePoints,
  fromMs: number,
  untilMs: number,
  stepSec: number,
): FlamebearerTimeline {
  if (!(stepSec > 0) || !Number.isInteger(stepSec)) {
    throw new RangeError(`timeline step must be a positive whole number of seconds, not ${stepSec}`);
  }
  const stepMs = stepSec * 1000;
  const startMs = Math.floor(fromMs / stepMs) * stepMs;
  const endMs = Math.floor(untilMs / stepMs) * stepMs;
  const startTime = startMs / 1000;
  const count = Math.max(0, (endMs - startMs) / stepMs);
  const samples = new Array<number>(count).fill(0);
  const { timestampsMs, values } = points;
  for (let i = 0; i < timestampsMs.length; i++) {
    const ts = timestampsMs[i];
    if (ts < startMs || ts >= endMs) continue;
    const index = Math.floor((Math.floor(ts / 1000) - startTime) / stepSec);
    samples[index] += values[i];
  }
  for (let i = 0; i < count; i++) samples[i] = Math.max(0, Math.trunc(samples[i]));
  return { startTime, samples, durationDelta: stepSec, watermarks: null };
}

/** The `metadata` object of a flamebearer response. */
export interface FlamebearerMetadata {
  format: 'single' | 'double';
  spyName: string;
  sampleRate: number;
  units: string;
  /** The sample type, e.g. `cpu` or `alloc_space`. */
  name: string;
}

/**
 * The flamebearer metadata of a profile type, with Pyroscope v1's quirky mapping
 * (`ExportToFlamebearer`): the units are the sample unit, except "objects" for the sample types
 * inuse_objects, alloc_objects, goroutine and samples, and "samples" for cpu, whose sample rate is 1e9
 * (values are nanoseconds, so OG-style UIs that divide by the rate show seconds); otherwise the sample
 * rate is 100. Use format "double" for a diff.
 */
export function flamebearerMetadata(
  profileTypeId: string,
  format: 'single' | 'double' = 'single',
): FlamebearerMetadata {
  const { sampleType, sampleUnit } = parseProfileType(profileTypeId);
  let units = sampleUnit;
  let sampleRate = 100;
  switch (sampleType) {
    case 'inuse_objects':
    case 'alloc_objects':
    case 'goroutine':
    case 'samples':
      units = 'objects';
      break;
    case 'cpu':
      units = 'samples';
      sampleRate = 1_000_000_000;
      break;
  }
  return { format, spyName: '', sampleRate, units, name: sampleType };
}
