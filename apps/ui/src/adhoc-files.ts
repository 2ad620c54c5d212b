import { AdhocError, type AdhocProfile, collapsedStacks, parsePprof } from './adhoc.js';
import { isSpeedscope, parseSpeedscope } from './speedscope.js';

/**
 * A dropped file's format, told by its content (not its name): speedscope JSON, collapsed text or pprof.
 * The gzip of `.pb.gz` is undone by the caller.
 */
export function readAdhocFile(bytes: Uint8Array): AdhocProfile {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096));
  if (/^\s*\{/.test(head)) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // Not JSON after all: a collapsed line may start with "{".
    }
    if (json !== undefined) {
      if (isSpeedscope(json)) return parseSpeedscope(json);
      throw new AdhocError(
        'a JSON file, but not a speedscope profile (neither its "$schema" nor "shared.frames" and "profiles")',
      );
    }
  }
  const fromPprof = (): AdhocProfile => {
    const pprof = parsePprof(bytes);
    const i = pprof.sampleTypes.length - 1; // pprof's default sample type is the last one
    return { ...pprof.sampleTypes[i], stacks: pprof.stacks(i) };
  };
  const looksText = !head.includes('\u0000') && /\S\s+\d+\s*$/m.test(head);
  if (!looksText) return fromPprof();
  try {
    return { type: 'samples', unit: 'count', stacks: collapsedStacks(new TextDecoder().decode(bytes)) };
  } catch {
    return fromPprof();
  }
}
