/**
 * Staging generations in the warehouse: a table `<schema>."_stg_<bronze name>_<generation>"` that
 * readers do not query, swapped in for `br_<bronze name>` at the end of the read.
 *
 * Each staging table carries a comment naming its source and stream key, so a generation that was
 * abandoned (a run that failed before its first commit, or a `--state-reset` of a staging stream) is
 * found and dropped when the stream next starts a new generation — without parsing table names,
 * which {@link pgIdentifier} may have shortened with a hash.
 */
import { randomBytes } from 'node:crypto';
import { pgIdentifier } from '../../naming.js';
import { qualified, type Queryable } from './sql.js';

/** A new generation id: UTC time, sortable, plus a short random suffix (`20261124T090102Z-a1b2`). */
export function newGenerationId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** The staging table of a generation: `_stg_<bronze name>_<generation>` (≤ 63 bytes). */
export function stagingTableName(bronzeName: string, generation: string): string {
  return pgIdentifier(`_stg_${bronzeName}_${generation}`);
}

const TAG = 'datakit staging ';

/** The comment prefix shared by every staging table of one stream. */
function tagPrefix(source: string, stateKey: string): string {
  return `${TAG}${JSON.stringify({ source, stream: stateKey })} `;
}

/** The comment that marks a staging table. */
export function stagingComment(source: string, stateKey: string, generation: string): string {
  return `${tagPrefix(source, stateKey)}${generation}`;
}

/** `COMMENT ON TABLE … IS $literal` (COMMENT takes no bind parameters). */
export function commentSql(schema: string, table: string, comment: string | null): string {
  const lit = comment === null ? 'NULL' : `'${comment.replace(/'/g, "''")}'`;
  return `COMMENT ON TABLE ${qualified(schema, table)} IS ${lit}`;
}

/**
 * Drop the staging tables of a stream that no state points at any more. Call only when no staging
 * generation of the stream is being resumed. Returns the dropped table names.
 */
export async function dropAbandonedStaging(q: Queryable, schema: string, source: string, stateKey: string): Promise<string[]> {
  const r = await q.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' AND starts_with(coalesce(obj_description(c.oid, 'pg_class'), ''), $2)`,
    [schema, tagPrefix(source, stateKey)],
  );
  const dropped: string[] = [];
  for (const { relname } of r.rows) {
    await q.query(`DROP TABLE IF EXISTS ${qualified(schema, relname)}`);
    dropped.push(relname);
  }
  return dropped;
}
