export * from './types.js';
export * from './errors.js';
export * from './values.js';
export * from './config.js';
export * from './naming.js';
export type * from './bronze/types.js';
