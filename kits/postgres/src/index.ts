/**
 * `@datakit/kit-postgres`: PostgreSQL tables and views into bronze, exactly. See docs/kits/postgres.md.
 */
export { postgresKit, check } from './kit.js';
export { postgresConfig, streamSettings, SSL_MODES, type PostgresKitConfig, type SslMode, type StreamOptions, type StreamSettings } from './config.js';
export { discoverStreams, streamName, type StreamSource } from './discover.js';
export { readStream } from './read.js';
export { resolveTarget, tlsOptions, type ConnectionTarget } from './connect.js';
export { sourceError, type ErrorContext } from './errors.js';
export type { FullState, IncrementalState, PostgresState } from './state.js';
export type { PartitionSpec } from './partition.js';
