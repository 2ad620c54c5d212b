export * from './labels.js';
export * from './stacks.js';
