import type { Profile } from '@emberscope/pprof';
import { invalidArgument } from './errors.js';
import type { SampleTypeConfigs } from './sample-type-config.js';

/** The series a text-format (folded, lines, trie, tree) upload becomes, from its name suffix. */
export interface TextProfileType {
  /** The app name without the suffix. */
  serviceName: string;
  /** The series `__name__`. */
  metric: string;
  sampleType: string;
  sampleUnit: string;
  /**
   * Nanoseconds per sample for cpu and wall uploads with a sample rate: values are multiplied by it and
   * the period type is `cpu/nanoseconds` (also for wall, as in Pyroscope). 0 when there is no period.
   */
  periodNanos: number;
}

type SuffixType = Pick<TextProfileType, 'metric' | 'sampleType' | 'sampleUnit'>;

const memory = (sampleType: string, sampleUnit: string): SuffixType => ({
  metric: 'memory',
  sampleType,
  sampleUnit,
});
const cpuSamples: SuffixType = { metric: 'process_cpu', sampleType: 'samples', sampleUnit: 'count' };
const wallSamples: SuffixType = { metric: 'wall', sampleType: 'samples', sampleUnit: 'count' };
const contentions = (metric: string): SuffixType => ({
  metric,
  sampleType: 'contentions',
  sampleUnit: 'count',
});
const delay = (metric: string): SuffixType => ({ metric, sampleType: 'delay', sampleUnit: 'nanoseconds' });

/** Pyroscope v1's `convertMetadata`: the part of the name after its last dot picks the series. */
const SUFFIX_TYPES: ReadonlyMap<string, SuffixType> = new Map([
  ['cpu', cpuSamples],
  ['itimer', cpuSamples],
  ['wall', wallSamples],
  ['seconds', wallSamples],
  ['milliseconds', wallSamples],
  ['microseconds', wallSamples],
  ['nanoseconds', wallSamples],
  ['inuse_objects', memory('inuse_objects', 'count')],
  ['alloc_objects', memory('alloc_objects', 'count')],
  ['inuse_space', memory('inuse_space', 'bytes')],
  ['alloc_space', memory('alloc_space', 'bytes')],
  ['goroutines', { metric: 'goroutine', sampleType: 'goroutines', sampleUnit: 'count' }],
  ['mutex_count', contentions('mutex')],
  ['mutex_duration', delay('mutex')],
  ['block_count', contentions('block')],
  ['block_duration', delay('block')],
  ['lock_count', contentions('block')],
  ['lock_duration', delay('block')],
  ['alloc_in_new_tlab_objects', memory('alloc_in_new_tlab_objects', 'count')],
  ['alloc_in_new_tlab_bytes', memory('alloc_in_new_tlab_bytes', 'bytes')],
  ['alloc_outside_tlab_objects', memory('alloc_outside_tlab_objects', 'count')],
  ['alloc_outside_tlab_bytes', memory('alloc_outside_tlab_bytes', 'bytes')],
  ['live', memory('live', 'count')],
  ['exceptions', { metric: 'exceptions', sampleType: 'samples', sampleUnit: 'count' }],
  ['bytes', memory('samples', 'bytes')],
]);

/**
 * Resolves the profile type of a text-format upload from the app name (`myapp.cpu`, `my.app.alloc_space`;
 * no dot means cpu). Throws 400 `bad_name` for an unknown suffix, so `my.app` without a known suffix fails.
 */
export function textProfileType(appName: string, sampleRate: number): TextProfileType {
  const dot = appName.lastIndexOf('.');
  const suffix = dot < 0 ? 'cpu' : appName.slice(dot + 1);
  const type = SUFFIX_TYPES.get(suffix);
  if (type === undefined) {
    throw invalidArgument(
      'bad_name',
      `unknown profile type ${JSON.stringify(suffix)} in name ${JSON.stringify(appName)}: text formats ` +
        `take the profile type from the part after the last dot (known: ${[...SUFFIX_TYPES.keys()].join(', ')})`,
    );
  }
  const serviceName = dot < 0 ? appName : appName.slice(0, dot);
  const timed = type.metric === 'process_cpu' || type.metric === 'wall';
  if (!timed || sampleRate <= 0) return { serviceName, ...type, periodNanos: 0 };
  return {
    serviceName,
    metric: type.metric,
    sampleType: type.metric === 'wall' ? 'wall' : 'cpu',
    sampleUnit: 'nanoseconds',
    // Integer division as in Go; at least 1 ns so that absurd rates do not zero every value.
    periodNanos: Math.max(1, Math.trunc(1e9 / sampleRate)),
  };
}

/**
 * Chooses `__name__` for a pprof sent to `/ingest` from its sample types, as Pyroscope v1 does: any type
 * named `wall` gives `wall`; otherwise the first type whose display name (from `sample_type_config`,
 * else the type name) contains `cpu` gives `process_cpu`, `alloc_`/`inuse_` or equal to `space`/`objects`
 * gives `memory`, `mutex_` gives `mutex`, `block_` gives `block`, `goroutines` gives `goroutines`. Go
 * mutex and block profiles have identical sample types and differ only in their display names. With no
 * match the last display name is used.
 */
export function pprofMetricName(profile: Profile, configs: SampleTypeConfigs): string {
  const typeNames = sampleTypeNames(profile);
  if (typeNames.includes('wall')) return 'wall';
  let displayName = '';
  for (const typeName of typeNames) {
    displayName = configs.get(typeName)?.displayName || typeName;
    if (displayName.includes('cpu')) return 'process_cpu';
    if (
      displayName.includes('alloc_') ||
      displayName.includes('inuse_') ||
      displayName === 'space' ||
      displayName === 'objects'
    ) {
      return 'memory';
    }
    if (displayName.includes('mutex_')) return 'mutex';
    if (displayName.includes('block_')) return 'block';
    if (displayName.includes('goroutines')) return 'goroutines';
  }
  return displayName;
}

export function sampleTypeNames(profile: Profile): string[] {
  const names: string[] = [];
  for (let i = 0; i < profile.sampleTypes.length; i += 2) names.push(profile.strings[profile.sampleTypes[i]]);
  return names;
}
