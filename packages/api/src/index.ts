export * from './connect-error.js';
/** pprof as a protobuf message (google.v1 = perftools.profiles); namespaced, its names clash with types.v1. */
export * as pprofProto from './gen/google/v1/profile_pb.js';
export * from './gen/push/v1/push_pb.js';
export * from './gen/querier/v1/querier_pb.js';
export * from './gen/types/v1/types_pb.js';
