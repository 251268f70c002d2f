/**
 * The Postgres warehouse bronze target. Loaded lazily by `createTarget` (see `targets.ts`) so that a
 * Parquet run never loads `pg`.
 */
export { PostgresTarget, postgresTargetFromUrl, type PostgresTargetOptions } from './target.js';
export { columnSqlType } from './sql.js';
export { escapeCopyText } from './copy-text.js';
export { parseExactJson } from './state.js';
