export * from './builder.js';
export * from './decode.js';
export * from './encode.js';
export * from './errors.js';
export * from './profile.js';
