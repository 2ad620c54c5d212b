/**
 * Profile units and human names. Values arrive in the profile type's sample unit (pprof `sample_type.unit`):
 * nanoseconds for CPU/wall/mutex delay, bytes for memory, count for objects, goroutines and contentions.
 */

export type UnitKind = 'duration' | 'bytes' | 'count';

export interface ProfileTypeInfo {
  id: string;
  name: string;
  sampleType: string;
  sampleUnit: string;
  periodType: string;
  periodUnit: string;
}

/** `<name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>` */
export function parseProfileTypeId(id: string): ProfileTypeInfo {
  const [name = '', sampleType = '', sampleUnit = '', periodType = '', periodUnit = ''] = id.split(':');
  return { id, name, sampleType, sampleUnit, periodType, periodUnit };
}

export function unitKind(sampleUnit: string): UnitKind {
  switch (sampleUnit) {
    case 'nanoseconds':
    case 'microseconds':
    case 'milliseconds':
    case 'seconds':
      return 'duration';
    case 'bytes':
      return 'bytes';
    default:
      return 'count';
  }
}

const NS_PER: Record<string, number> = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 };

const HUMAN: Record<string, string> = {
  'process_cpu:cpu': 'CPU',
  'process_cpu:samples': 'CPU samples',
  'cpu:cpu': 'CPU',
  'memory:alloc_space': 'Allocated space',
  'memory:alloc_objects': 'Allocated objects',
  'memory:inuse_space': 'In-use space',
  'memory:inuse_objects': 'In-use objects',
  'goroutine:goroutine': 'Goroutines',
  'goroutines:goroutine': 'Goroutines',
  'mutex:contentions': 'Mutex contentions',
  'mutex:delay': 'Mutex wait',
  'block:contentions': 'Block contentions',
  'block:delay': 'Block wait',
  'wall:wall': 'Wall time',
  'wall:cpu': 'CPU (wall profiler)',
  'wall:samples': 'Wall samples',
  'exceptions:count': 'Exceptions',
};

/** "CPU", "Allocated space", "Goroutines", "Mutex wait", … with a readable fallback for unknown types. */
export function humanProfileType(id: string): string {
  const t = parseProfileTypeId(id);
  return HUMAN[`${t.name}:${t.sampleType}`] ?? `${t.name} · ${t.sampleType.replaceAll('_', ' ')}`;
}

/** Timeline title, as in Pyroscope: "Total CPU time", "Total allocated space", … */
export function timelineTitle(id: string): string {
  const t = parseProfileTypeId(id);
  const kind = unitKind(t.sampleUnit);
  const human = humanProfileType(id);
  if (kind === 'duration') return human === 'CPU' ? 'Total CPU time' : `Total ${human.toLowerCase()} time`;
  return `Total ${human.toLowerCase()}`;
}

/** Fixed decimals without trailing zeros after the point ("1.50" → "1.5", "2.00" → "2"; "70" stays "70"). */
function trim(n: number, digits: number): string {
  const s = n.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

export function formatDurationNs(ns: number): string {
  const a = Math.abs(ns);
  if (a === 0) return '0 s';
  if (a < 1e3) return `${trim(ns, 0)} ns`;
  if (a < 1e6) return `${trim(ns / 1e3, 2)} µs`;
  if (a < 1e9) return `${trim(ns / 1e6, 2)} ms`;
  if (a < 60e9) return `${trim(ns / 1e9, 2)} s`;
  if (a < 3600e9) return `${trim(ns / 60e9, 2)} min`;
  if (a < 86400e9) return `${trim(ns / 3600e9, 2)} h`;
  return `${trim(ns / 86400e9, 2)} d`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${trim(v, u === 0 ? 0 : 2)} ${BYTE_UNITS[u]}`;
}

const COUNT_UNITS = ['', 'k', 'M', 'G', 'T', 'P'];

export function formatCount(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < COUNT_UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const s = trim(v, u === 0 ? 0 : 2);
  return u === 0 ? s : `${s} ${COUNT_UNITS[u]}`;
}

/** A value in the profile's sample unit, formatted for people: "1.25 s", "3.5 MiB", "12.4 k". */
export function formatValue(value: number, sampleUnit: string): string {
  switch (unitKind(sampleUnit)) {
    case 'duration':
      return formatDurationNs(value * (NS_PER[sampleUnit] ?? 1));
    case 'bytes':
      return formatBytes(value);
    default:
      return formatCount(value);
  }
}

/** What one unit of the profile is, for tooltips: "CPU time", "bytes", "objects", "goroutines", … */
export function unitNoun(id: string): string {
  const t = parseProfileTypeId(id);
  if (t.sampleType === 'goroutine') return 'goroutines';
  if (t.sampleType.endsWith('_objects')) return 'objects';
  if (t.sampleType === 'contentions') return 'contentions';
  const kind = unitKind(t.sampleUnit);
  if (kind === 'duration') return t.name.includes('cpu') || t.sampleType === 'cpu' ? 'CPU time' : 'time';
  if (kind === 'bytes') return 'bytes';
  return 'samples';
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const p = (100 * part) / whole;
  if (p === 0) return '0%';
  if (p < 0.01) return '<0.01%';
  return `${trim(p, p < 10 ? 2 : 1)}%`;
}

/**
 * A frame name cut into the part that may be elided and the part that must stay visible when a table cell is too
 * narrow: the last path segment (`cart.(*Cart).Add` of `github.com/acme/shop/internal/cart.(*Cart).Add`), or, without
 * a path, what follows the last dot (`mallocgc` of `runtime.mallocgc`). The two parts concatenate to `name`.
 */
export function splitFrameName(name: string): [prefix: string, tail: string] {
  const slash = name.lastIndexOf('/');
  const cut = slash >= 0 ? slash + 1 : name.lastIndexOf('.') + 1;
  // A name ending in the separator keeps it whole: nothing would stay visible otherwise.
  return cut > 0 && cut < name.length ? [name.slice(0, cut), name.slice(cut)] : ['', name];
}
