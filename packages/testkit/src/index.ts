export * from './services/ports.ts';
export * from './services/postgres.ts';
export * from './memory-target.ts';
