export * from './services/ports.ts';
export * from './services/postgres.ts';
export * from './services/s3.ts';
export * from './services/sftp.ts';
export * from './services/kafka.ts';
export * from './memory-target.ts';
export * from './read-back.ts';
export * from './contract/index.ts';
