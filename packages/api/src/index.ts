export * from './connect-error.js';
export * from './gen/push/v1/push_pb.js';
export * from './gen/querier/v1/querier_pb.js';
export * from './gen/types/v1/types_pb.js';
