import { unprocessable } from './errors.js';
import { decodeUtf8 } from './formats/text.js';

/**
 * One entry of the multipart `sample_type_config` part, keyed by pprof sample type name. Pyroscope v1
 * only reads `displayName` (to choose `__name__`); the other fields are OG metadata, parsed so a bad
 * part is reported, and kept for callers that echo OG metadata.
 */
export interface SampleTypeConfig {
  /** JSON `display-name`. */
  displayName?: string;
  units?: string;
  aggregation?: string;
  sampled?: boolean;
  cumulative?: boolean;
}

export type SampleTypeConfigs = ReadonlyMap<string, SampleTypeConfig>;

/** Pyroscope's `DefaultSampleTypeMapping`, used when a multipart upload has no `sample_type_config`. */
export const defaultSampleTypeConfigs: SampleTypeConfigs = new Map<string, SampleTypeConfig>([
  ['samples', { displayName: 'cpu', units: 'samples', sampled: true }],
  ['inuse_objects', { units: 'objects', aggregation: 'average' }],
  ['inuse_space', { units: 'bytes', aggregation: 'average' }],
  ['alloc_objects', { units: 'objects', cumulative: true }],
  ['alloc_space', { units: 'bytes', cumulative: true }],
  ['goroutine', { displayName: 'goroutines', units: 'goroutines', aggregation: 'average' }],
  ['contentions', { displayName: 'mutex_count', units: 'lock_samples', cumulative: true }],
  ['delay', { displayName: 'mutex_duration', units: 'lock_nanoseconds', cumulative: true }],
]);

const FIELDS = [
  ['display-name', 'displayName', 'string'],
  ['units', 'units', 'string'],
  ['aggregation', 'aggregation', 'string'],
  ['sampled', 'sampled', 'boolean'],
  ['cumulative', 'cumulative', 'boolean'],
] as const;

/** Parses the JSON of a `sample_type_config` part; 422 `bad_format` when it is not the expected shape. */
export function parseSampleTypeConfigs(bytes: Uint8Array): SampleTypeConfigs {
  let json: unknown;
  try {
    json = JSON.parse(decodeUtf8(bytes));
  } catch (error) {
    throw unprocessable('bad_format', `sample_type_config is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) {
    throw unprocessable('bad_format', 'sample_type_config must be a JSON object keyed by sample type name');
  }
  const configs = new Map<string, SampleTypeConfig>();
  for (const [sampleType, entry] of Object.entries(json)) {
    if (entry === null) continue; // Go unmarshals null into a nil entry
    if (!isObject(entry)) {
      throw unprocessable(
        'bad_format',
        `sample_type_config entry ${JSON.stringify(sampleType)} must be an object`,
      );
    }
    const config: Record<string, string | boolean> = {};
    for (const [jsonName, name, type] of FIELDS) {
      const value = entry[jsonName];
      if (value === undefined || value === null) continue;
      if (typeof value !== type) {
        throw unprocessable(
          'bad_format',
          `sample_type_config ${JSON.stringify(sampleType)}: "${jsonName}" must be a ${type}`,
        );
      }
      config[name] = value as string | boolean;
    }
    configs.set(sampleType, config as SampleTypeConfig);
  }
  return configs;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
