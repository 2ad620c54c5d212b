import { numSampleTypes, type Profile } from '@emberscope/pprof';

/**
 * Sample types of a cumulative profile that are counters. Go's allocs/heap profile carries both counters
 * (alloc_objects, alloc_space) and gauges (inuse_objects, inuse_space); mutex and block carry only
 * counters (contentions, delay). Unknown profiles marked cumulative have every type treated as a counter
 * unless they look like heap profiles.
 */
function counterTypes(profile: Profile): boolean[] {
  const n = numSampleTypes(profile);
  const names: string[] = [];
  for (let t = 0; t < n; t++) names.push(profile.strings[profile.sampleTypes[2 * t]]);
  const heap = names.some((name) => name.startsWith('inuse_'));
  return names.map((name) => !(heap && name.startsWith('inuse_')));
}

/**
 * Turns consecutive scrapes of a cumulative profile (Go's allocs, mutex, block) into deltas. Each stack
 * (its chain of function names, or addresses where there are no symbols, plus the sample's labels, such
 * as the heap's allocation size) keeps its last cumulative value per counter type. The first scrape only
 * sets the baseline; a value that went down means the process restarted and the new value is used as is.
 * Gauge types (inuse_*) are passed through unchanged.
 */
export class CumulativeDelta {
  private baseline: { types: number; totals: Map<string, Float64Array> } | undefined;

  /** The delta profile, or null for the first scrape (baseline only). */
  next(profile: Profile): Profile | null {
    const n = numSampleTypes(profile);
    const counters = counterTypes(profile);
    const keys = sampleKeys(profile);
    const totals = new Map<string, Float64Array>();
    for (let s = 0; s < profile.sampleCount; s++) {
      let total = totals.get(keys[s]);
      if (!total) {
        total = new Float64Array(n);
        totals.set(keys[s], total);
      }
      for (let t = 0; t < n; t++) total[t] += profile.values[s * n + t];
    }
    const last = this.baseline;
    this.baseline = { types: n, totals };
    // A changed set of sample types (another program behind the same address) starts a new baseline.
    if (!last || last.types !== n) return null;
    const previous = last.totals;
    const values = profile.values.slice();
    const written = new Set<string>();
    for (let s = 0; s < profile.sampleCount; s++) {
      const key = keys[s];
      const first = !written.has(key);
      written.add(key);
      const total = totals.get(key)!;
      const before = previous.get(key);
      for (let t = 0; t < n; t++) {
        if (!counters[t]) continue;
        // The delta of a stack goes to its first sample; the other samples of the same key become 0.
        let delta = 0;
        if (first) {
          const prev = before ? before[t] : 0;
          delta = total[t] >= prev ? total[t] - prev : total[t];
        }
        values[s * n + t] = delta;
      }
    }
    return { ...profile, values };
  }
}

/** Per sample: its stack, leaf first, as function names (addresses when unsymbolized), plus its labels. */
function sampleKeys(profile: Profile): string[] {
  const s = profile.strings;
  const frames: string[] = [];
  for (let loc = 0; loc < profile.locationCount; loc++) {
    const names: string[] = [];
    for (let line = profile.locationLineStart[loc]; line < profile.locationLineStart[loc + 1]; line++) {
      const fn = profile.lineFunction[line];
      names.push(fn < 0 ? '' : s[profile.functionName[fn]]);
    }
    frames.push(
      names.length > 0 && names.some((x) => x !== '')
        ? names.join('\u0001')
        : `0x${profile.locationAddress[loc].toString(16)}`,
    );
  }
  const keys: string[] = new Array(profile.sampleCount);
  for (let sample = 0; sample < profile.sampleCount; sample++) {
    let key = '';
    for (let i = profile.sampleLocStart[sample]; i < profile.sampleLocStart[sample + 1]; i++)
      key += `${frames[profile.sampleLocs[i]]}\u0000`;
    key += '\u0002';
    for (let l = profile.sampleLabelStart[sample]; l < profile.sampleLabelStart[sample + 1]; l++)
      key += `${s[profile.labelKey[l]]}=${profile.labelStr[l] ? s[profile.labelStr[l]] : profile.labelNum[l]}\u0000`;
    keys[sample] = key;
  }
  return keys;
}
