import { type Label, LabelName } from './labels.js';

/** The parts of a profile type ID `<name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>`. */
export interface ProfileTypeParts {
  /** The series `__name__`, e.g. `process_cpu`. */
  name: string;
  /** From the pprof `sample_type`, e.g. `cpu` / `nanoseconds`. */
  sampleType: string;
  sampleUnit: string;
  /** From the pprof `period_type`; both empty when the profile has none (IDs ending in `::`). */
  periodType: string;
  periodUnit: string;
}

/** A profile type with its canonical five-part ID, as in `types.v1.ProfileType`. */
export interface ProfileType extends ProfileTypeParts {
  id: string;
}

export class ProfileTypeError extends Error {
  override name = 'ProfileTypeError';
}

/**
 * Parses a profile type ID. A sixth part (`:delta`, sent by some clients) is tolerated and dropped, so
 * `id` is always the five-part form stored in `__profile_type__`.
 */
export function parseProfileType(id: string): ProfileType {
  const parts = id.split(':');
  if (parts.length !== 5 && parts.length !== 6) {
    throw new ProfileTypeError(
      `invalid profile type ID ${JSON.stringify(id)}: expected ` +
        `<name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>, got ${parts.length} part(s)`,
    );
  }
  const [name, sampleType, sampleUnit, periodType, periodUnit] = parts;
  if (name === '' || sampleType === '') {
    throw new ProfileTypeError(`invalid profile type ID ${JSON.stringify(id)}: empty name or sample type`);
  }
  const type = { name, sampleType, sampleUnit, periodType, periodUnit };
  return { id: formatProfileTypeId(type), ...type };
}

export function formatProfileTypeId(type: ProfileTypeParts): string {
  const parts = [type.name, type.sampleType, type.sampleUnit, type.periodType, type.periodUnit];
  if (parts.some((part) => part.includes(':'))) {
    throw new ProfileTypeError(`profile type parts must not contain ':': ${JSON.stringify(parts)}`);
  }
  return parts.join(':');
}

/**
 * The private series labels of a profile type, sorted by name. Empty values are left out: with
 * Prometheus semantics a label with an empty value does not exist.
 */
export function profileTypeLabels(type: ProfileTypeParts): Label[] {
  const labels: Label[] = [
    { name: LabelName.PeriodType, value: type.periodType },
    { name: LabelName.PeriodUnit, value: type.periodUnit },
    { name: LabelName.ProfileType, value: formatProfileTypeId(type) },
    { name: LabelName.Type, value: type.sampleType },
    { name: LabelName.Unit, value: type.sampleUnit },
  ];
  return labels.filter((label) => label.value !== '');
}

// Keyed by `<name>:<sample_type>` where the sample type alone is ambiguous (Go mutex vs block), else by
// the sample type. Covers the IDs the Go, Java, Node.js and .NET clients send.
const HUMAN_NAMES = new Map([
  ['cpu', 'CPU'],
  ['samples', 'CPU samples'],
  ['wall', 'Wall time'],
  ['wall:samples', 'Wall samples'],
  ['alloc_objects', 'Allocated objects'],
  ['alloc_space', 'Allocated space'],
  ['inuse_objects', 'In-use objects'],
  ['inuse_space', 'In-use space'],
  ['goroutine', 'Goroutines'],
  ['mutex:contentions', 'Mutex contentions'],
  ['mutex:delay', 'Mutex wait'],
  ['block:contentions', 'Block contentions'],
  ['block:delay', 'Block wait'],
  ['alloc_in_new_tlab_objects', 'Allocated objects (in TLAB)'],
  ['alloc_in_new_tlab_bytes', 'Allocated space (in TLAB)'],
  ['alloc_outside_tlab_objects', 'Allocated objects (outside TLAB)'],
  ['alloc_outside_tlab_bytes', 'Allocated space (outside TLAB)'],
  ['alloc_sample_objects', 'Allocated objects'],
  ['alloc_sample_bytes', 'Allocated space'],
  ['live', 'Live objects'],
  ['malloc_objects', 'Malloc objects'],
  ['malloc_bytes', 'Malloc space'],
  ['alloc_samples', 'Allocations'],
  ['alloc_size', 'Allocated space'],
  ['exception', 'Exceptions'],
  ['lock_count', 'Lock contentions'],
  ['lock_time', 'Lock wait'],
]);

/** A short name for the UI, e.g. "CPU" or "Mutex wait"; unknown types read `<name> - <sample_type>` as in Grafana. */
export function humanProfileTypeName(type: Pick<ProfileTypeParts, 'name' | 'sampleType'>): string {
  return (
    HUMAN_NAMES.get(`${type.name}:${type.sampleType}`) ??
    HUMAN_NAMES.get(type.sampleType) ??
    `${type.name} - ${type.sampleType}`
  );
}
