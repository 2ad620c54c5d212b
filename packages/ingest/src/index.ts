export { type ParsedAppName, parseAppName } from './app-name.js';
export { DeltaState, type DeltaStateOptions } from './delta.js';
export { type ConnectCode, IngestError, type IngestErrorReason } from './errors.js';
export {
  ingestLegacy,
  type LegacyFormat,
  type LegacyIngestRequest,
  selectLegacyFormat,
} from './legacy.js';
export { defaultIngestLimits, type IngestLimits } from './limits.js';
export { applyPushDeltas, type DecodedPush, decodePush, ingestPush, type PushSeries } from './push.js';
export { parseTime } from './time.js';
export type { DecodeContext, IngestContext, IngestedProfile, IngestedSeries } from './types.js';
