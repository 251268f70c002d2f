/**
 * The postgres kit: exact, streaming, incremental and resumable extraction of PostgreSQL tables and
 * views into bronze. See docs/kits/postgres.md.
 */
import { createRequire } from 'node:module';
import { DatakitError, defineKit, type Context } from '@datakit/core';
import { postgresConfig, type PostgresKitConfig } from './config.js';
import { openSession } from './connect.js';
import { discoverStreams } from './discover.js';
import { readStream } from './read.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

interface SchemaAccess {
  schema: string;
  exists: boolean;
  usage: boolean;
}

/**
 * Connect, run `SELECT 1`, and prove the user has USAGE on every configured schema.
 * Throws `SOURCE.NOT_FOUND` (naming SOURCE_SCHEMAS) for a missing schema, `SOURCE.PERMISSION_DENIED`
 * for one without USAGE, and the connection errors of `errors.ts`.
 */
export async function check(ctx: Context, config: PostgresKitConfig): Promise<void> {
  const session = await openSession(ctx, config);
  try {
    await session.query('SELECT 1');
    const rows = await session.query<SchemaAccess>(
      `SELECT s.name AS "schema", n.oid IS NOT NULL AS "exists", coalesce(pg_catalog.has_schema_privilege(n.oid, 'USAGE'), false) AS "usage"
       FROM unnest($1::text[]) AS s(name) LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name`,
      [config.schemas],
    );
    const where = { kit: 'postgres' };
    const missing = rows.filter((r) => !r.exists).map((r) => r.schema);
    if (missing.length) {
      throw new DatakitError('SOURCE.NOT_FOUND', `schema ${missing.map((s) => JSON.stringify(s)).join(', ')} does not exist in database ${JSON.stringify(session.target.database)}`, { where, fix: 'check SOURCE_SCHEMAS' });
    }
    const denied = rows.filter((r) => !r.usage).map((r) => r.schema);
    if (denied.length) {
      throw new DatakitError('SOURCE.PERMISSION_DENIED', `user ${JSON.stringify(session.target.user)} has no USAGE on schema ${denied.map((s) => JSON.stringify(s)).join(', ')}`, {
        where,
        fix: `GRANT USAGE ON SCHEMA … TO ${JSON.stringify(session.target.user)}, or remove it from SOURCE_SCHEMAS`,
      });
    }
    ctx.logger.info({ schemas: rows.length }, 'check: connected, schemas readable');
  } finally {
    await session.close();
  }
}

/** The postgres kit. */
export const postgresKit = defineKit<PostgresKitConfig>({
  name: 'postgres',
  version,
  config: postgresConfig,
  check,
  discover: discoverStreams,
  read: readStream,
});
