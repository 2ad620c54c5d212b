export * from './flamegraph.js';
export * from './labels.js';
export * from './profile-type.js';
export * from './selector.js';
export * from './stacks.js';
export * from './testing.js';
