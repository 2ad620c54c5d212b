import { compareUtf8, parseProfileType } from '@emberscope/model';

/**
 * Application names of the original Pyroscope (v0.37), such as `myapp.cpu` or `myapp.alloc_space`, and
 * the v1 series they stand for: `<service>.<suffix>` selects `service_name=<service>` and one profile
 * type of that service, chosen by the suffix among the profile types the service has.
 *
 * The mapping runs both ways and both directions use the same assignment, so a name listed by
 * `/label-values?label=__name__` or `/api/apps` always resolves back to the profile type it was made
 * from. The assignment depends only on the set of profile types of the service:
 *
 * 1. Each known suffix (cpu, alloc_space, goroutines, mutex_duration, …) goes to the first of its
 *    candidate (`__name__`, sample type) pairs that the service has; among several profile types with the
 *    same pair (different units or periods) the first ID in byte order wins.
 * 2. Every profile type left over gets `<__name__>_<sample type>` (e.g. `process_cpu_samples` for Go's
 *    sample-count column next to `cpu`, `wall_cpu` for Node.js's CPU time in its wall profile), made
 *    unique by appending the sample unit, then the period, then a counter.
 *
 * Aliases that Pyroscope accepted in names but that this mapping never produces (`itimer`, `seconds`,
 * `lock_count`, …) resolve to their candidates too.
 */

type Candidate = readonly [metric: string, sampleType: string];

const memory = (sampleType: string): Candidate[] => [['memory', sampleType]];
const goroutines: Candidate[] = [
  ['goroutines', 'goroutine'],
  ['goroutine', 'goroutine'],
  ['goroutine', 'goroutines'],
  ['goroutines', 'goroutines'],
];

/** Known suffixes, in the order they are assigned, with their candidate (`__name__`, sample type) pairs. */
const SUFFIXES: ReadonlyMap<string, readonly Candidate[]> = new Map<string, Candidate[]>([
  // Go: OG stored the pprof `samples` column as `.cpu`; v1 keeps `cpu` (ns) and `samples` (count).
  [
    'cpu',
    [
      ['process_cpu', 'cpu'],
      ['process_cpu', 'samples'],
    ],
  ],
  [
    'wall',
    [
      ['wall', 'wall'],
      ['wall', 'samples'],
    ],
  ],
  ['alloc_objects', memory('alloc_objects')],
  ['alloc_space', memory('alloc_space')],
  ['inuse_objects', memory('inuse_objects')],
  ['inuse_space', memory('inuse_space')],
  ['goroutines', goroutines],
  ['mutex_count', [['mutex', 'contentions']]],
  ['mutex_duration', [['mutex', 'delay']]],
  ['block_count', [['block', 'contentions']]],
  ['block_duration', [['block', 'delay']]],
  ['alloc_in_new_tlab_objects', memory('alloc_in_new_tlab_objects')],
  ['alloc_in_new_tlab_bytes', memory('alloc_in_new_tlab_bytes')],
  ['alloc_outside_tlab_objects', memory('alloc_outside_tlab_objects')],
  ['alloc_outside_tlab_bytes', memory('alloc_outside_tlab_bytes')],
  ['live', memory('live')],
  [
    'exceptions',
    [
      ['exceptions', 'samples'],
      ['exception', 'exception'],
    ],
  ],
  ['bytes', memory('samples')],
]);

/** Suffixes Pyroscope accepted that resolve like another suffix (never produced by the reverse mapping). */
const ALIASES: ReadonlyMap<string, readonly Candidate[]> = new Map<string, readonly Candidate[]>([
  ['itimer', SUFFIXES.get('cpu')!],
  ['seconds', SUFFIXES.get('wall')!],
  ['milliseconds', SUFFIXES.get('wall')!],
  ['microseconds', SUFFIXES.get('wall')!],
  ['nanoseconds', SUFFIXES.get('wall')!],
  ['goroutine', goroutines],
  [
    'lock_count',
    [
      ['block', 'contentions'],
      ['mutex', 'contentions'],
    ],
  ],
  [
    'lock_duration',
    [
      ['block', 'delay'],
      ['mutex', 'delay'],
    ],
  ],
]);

/** The suffix that names a service's profile type, for every profile type of the service. */
export function ogSuffixes(profileTypeIds: Iterable<string>): Map<string, string> {
  const types = [...new Set(profileTypeIds)]
    .flatMap((id) => {
      try {
        return [parseProfileType(id)];
      } catch {
        return [];
      }
    })
    .sort((a, b) => compareUtf8(a.id, b.id));
  const suffixOf = new Map<string, string>();
  const used = new Set<string>();
  for (const [suffix, candidates] of SUFFIXES) {
    const type = firstMatch(types, candidates, suffixOf);
    if (type === undefined) continue;
    suffixOf.set(type.id, suffix);
    used.add(suffix);
  }
  const reserved = (name: string) => used.has(name) || SUFFIXES.has(name) || ALIASES.has(name);
  for (const t of types) {
    if (suffixOf.has(t.id)) continue;
    const base = sanitize(`${t.name}_${t.sampleType}`);
    const tries = [
      base,
      sanitize(`${base}_${t.sampleUnit}`),
      sanitize(`${base}_${t.sampleUnit}_${t.periodType}_${t.periodUnit}`),
    ];
    let name = tries.find((n) => !reserved(n));
    for (let i = 2; name === undefined; i++) if (!reserved(`${base}_${i}`)) name = `${base}_${i}`;
    suffixOf.set(t.id, name);
    used.add(name);
  }
  return suffixOf;
}

/**
 * The profile type a suffix names among a service's profile types, or undefined when the service has
 * none of that kind.
 */
export function resolveOgSuffix(profileTypeIds: Iterable<string>, suffix: string): string | undefined {
  const ids = [...profileTypeIds];
  for (const [id, s] of ogSuffixes(ids)) if (s === suffix) return id;
  const aliased = ALIASES.get(suffix);
  if (aliased === undefined) return undefined;
  const types = ids
    .flatMap((id) => {
      try {
        return [parseProfileType(id)];
      } catch {
        return [];
      }
    })
    .sort((a, b) => compareUtf8(a.id, b.id));
  return firstMatch(types, aliased, new Map())?.id;
}

/**
 * The ways an OG application name splits into a service and a suffix, most likely first: at the last
 * dot (`my.app.cpu` → `my.app` + `cpu`), then, as Pyroscope's ingestion treats a name without a known
 * suffix, the whole name as the service with `cpu`.
 */
export function splitOgName(appName: string): { serviceName: string; suffix: string }[] {
  const dot = appName.lastIndexOf('.');
  const whole = { serviceName: appName, suffix: 'cpu' };
  if (dot <= 0 || dot === appName.length - 1) return [whole];
  return [{ serviceName: appName.slice(0, dot), suffix: appName.slice(dot + 1) }, whole];
}

export function ogName(serviceName: string, suffix: string): string {
  return `${serviceName}.${suffix}`;
}

function firstMatch<T extends { id: string; name: string; sampleType: string }>(
  types: readonly T[],
  candidates: readonly Candidate[],
  taken: ReadonlyMap<string, string>,
): T | undefined {
  for (const [metric, sampleType] of candidates) {
    const type = types.find((t) => t.name === metric && t.sampleType === sampleType && !taken.has(t.id));
    if (type !== undefined) return type;
  }
  return undefined;
}

/** Suffixes keep to the characters OG names allow. */
function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
