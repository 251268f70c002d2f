/**
 * Discover: the tables, partitioned tables, views and materialized views of the configured schemas
 * that the user may read, with their columns (through the type map), primary key, cursor candidates,
 * row estimate and the sync mode their settings ask for. Leaf partitions are not listed: their parent
 * is. Four catalog round trips whatever the number of relations.
 */
import { DatakitError, type Context, type Stream } from '@datakit/core';
import { configuredStreamNames, streamSettings, type PostgresKitConfig } from './config.js';
import { openSession, type Session } from './connect.js';
import { baseTypname } from './sql.js';
import { mapColumn, pgColumnInfoQuery, type PgColumnInfo } from './type-map.js';

/** What `read` needs about a stream's relation; kept in `stream.source` (core never reads it). */
export interface StreamSource {
  schema: string;
  table: string;
  /** `r` table, `p` partitioned table, `v` view, `m` materialized view. */
  relkind: string;
  oid: number;
  columns: PgColumnInfo[];
}

interface RelationRow {
  oid: number;
  schema: string;
  table: string;
  relkind: string;
  estimate: number | null;
  readable: boolean;
  populated: boolean;
}

const RELATIONS_SQL = `SELECT c.oid AS "oid", n.nspname::text AS "schema", c.relname::text AS "table", c.relkind::text AS "relkind",
  CASE WHEN c.relkind = 'p' THEN (
    SELECT CASE WHEN bool_or(l.reltuples >= 0) THEN sum(greatest(l.reltuples, 0)) END
    FROM pg_catalog.pg_partition_tree(c.oid) pt JOIN pg_catalog.pg_class l ON l.oid = pt.relid WHERE pt.isleaf)
  WHEN c.relkind = 'v' THEN NULL
  WHEN c.reltuples >= 0 THEN c.reltuples END::float8 AS "estimate",
  pg_catalog.has_table_privilege(c.oid, 'SELECT') AS "readable",
  c.relispopulated AS "populated"
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
ORDER BY n.nspname, c.relname`;

const PRIMARY_KEYS_SQL = `SELECT i.indrelid AS "oid", array_agg(a.attname::text ORDER BY k.ord) AS "columns"
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
GROUP BY i.indrelid`;

/** {@link pgColumnInfoQuery} for many relations at once, each row tagged with its relation. */
function columnsSql(): string {
  const one = pgColumnInfoQuery();
  if (!one.includes('$1::oid')) throw new Error('pgColumnInfoQuery() no longer takes the relation as $1::oid');
  return `SELECT r.oid AS "relid", q.* FROM unnest($1::oid[]) AS r(oid)
CROSS JOIN LATERAL (${one.split('$1::oid').join('r.oid')}) AS q
ORDER BY r.oid, q."attnum"`;
}

/** The stream name of a relation: the table name in `public`, else `schema.table`. */
export function streamName(schema: string, table: string): string {
  return schema === 'public' ? table : `${schema}.${table}`;
}

const TEMPORAL = new Set(['timestamp', 'timestamptz', 'date']);
const NUMERIC = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);
const CURSOR_NAME = /^(id|(updated|modified|changed|last_modified|last_updated|created|inserted)(_?(at|on|time|date|ts))?)$/i;

/** True for a column whose values can bound an incremental read (scalar, ordered). */
function orderableScalar(info: PgColumnInfo): boolean {
  const t = baseTypname(info);
  return info.typcategory !== 'A' && info.typtype !== 'c' && !['json', 'jsonb', 'xml', 'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle'].includes(t);
}

/** Cursor candidates: timestamps, dates and integers, plus other ordered columns named like `updated_at` or `id`. */
export function cursorCandidates(columns: readonly PgColumnInfo[]): string[] {
  return columns
    .filter((c) => TEMPORAL.has(baseTypname(c)) || ['int2', 'int4', 'int8'].includes(baseTypname(c)) || (CURSOR_NAME.test(c.name) && orderableScalar(c)))
    .map((c) => c.name);
}

/**
 * `CONFIG.INVALID` unless the cursor column exists, is ordered, and fits the lookback. True when the
 * lookback is an interval the server must still parse.
 */
function checkCursor(name: string, columns: readonly PgColumnInfo[], cursorField: string, lookback: string | undefined): boolean {
  const info = columns.find((c) => c.name === cursorField);
  const fail = (msg: string, fix: string): never => {
    throw new DatakitError('CONFIG.INVALID', `CURSOR_FIELDS: stream ${JSON.stringify(name)} ${msg}`, { where: { kit: 'postgres', stream: name }, fix });
  };
  if (!info) fail(`has no column ${JSON.stringify(cursorField)}`, `use one of its columns: ${columns.map((c) => c.name).slice(0, 30).join(', ')}`);
  if (!orderableScalar(info!)) fail(`cannot use ${JSON.stringify(cursorField)} (${info!.formattedType}) as a cursor`, 'pick a timestamp, date or number column');
  if (lookback === undefined) return false;
  const t = baseTypname(info!);
  if (NUMERIC.has(t) ? !/^\d+(\.\d+)?$/.test(lookback) || (t.startsWith('int') && lookback.includes('.')) : !TEMPORAL.has(t)) {
    throw new DatakitError('CONFIG.INVALID', `CURSOR_LOOKBACK: stream ${JSON.stringify(name)}: a ${info!.formattedType} cursor takes ${NUMERIC.has(t) ? 'a non-negative number' : 'no lookback'}`, {
      where: { kit: 'postgres', stream: name },
      fix: 'use an interval (10 minutes) for timestamp/date cursors and a number for numeric ones',
    });
  }
  return TEMPORAL.has(t);
}

/** `CONFIG.INVALID` unless the server reads each lookback as an interval. */
async function checkIntervals(session: Session, lookbacks: Map<string, string>): Promise<void> {
  for (const [lookback, name] of lookbacks) {
    try {
      await session.query('SELECT $1::interval', [lookback]);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new DatakitError('CONFIG.INVALID', `CURSOR_LOOKBACK: stream ${JSON.stringify(name)}: ${reason}`, {
        where: { kit: 'postgres', stream: name },
        fix: "use a PostgreSQL interval such as '10 minutes' or 'P1D'",
      });
    }
  }
}

/** List the streams over an open session (see {@link discoverStreams}). */
export async function listStreams(ctx: Context, config: PostgresKitConfig, session: Session): Promise<Stream[]> {
  const relations = await session.query<RelationRow>(RELATIONS_SQL, [config.schemas]);
  const skipped = relations.filter((r) => !r.readable || !r.populated);
  if (skipped.length) {
    ctx.logger.warn(
      { count: skipped.length, relations: skipped.slice(0, 20).map((r) => `${r.schema}.${r.table}${r.readable ? ' (not populated)' : ''}`) },
      'skipping relations the user cannot SELECT from, and unpopulated materialized views',
    );
  }
  const rels = relations.filter((r) => r.readable && r.populated);
  const oids = rels.map((r) => r.oid);
  const [columnRows, keyRows] = oids.length
    ? await Promise.all([session.query<PgColumnInfo & { relid: number }>(columnsSql(), [oids]), session.query<{ oid: number; columns: string[] }>(PRIMARY_KEYS_SQL, [oids])])
    : [[], []];
  const columnsOf = new Map<number, PgColumnInfo[]>();
  for (const { relid, ...info } of columnRows) {
    const list = columnsOf.get(relid) ?? [];
    list.push(info);
    columnsOf.set(relid, list);
  }
  const keyOf = new Map(keyRows.map((k) => [k.oid, k.columns]));

  const known = new Set<string>();
  const streams: Stream[] = [];
  const intervals = new Map<string, string>();
  for (const rel of rels) {
    const name = streamName(rel.schema, rel.table);
    if (known.has(name)) {
      ctx.logger.warn({ stream: name }, 'two relations map to the same stream name; keeping the first');
      continue;
    }
    known.add(name);
    known.add(`${rel.schema}.${rel.table}`);
    const infos = columnsOf.get(rel.oid) ?? [];
    const settings = streamSettings(config, [name, `${rel.schema}.${rel.table}`]);
    if (settings.cursorField && checkCursor(name, infos, settings.cursorField, settings.lookback)) intervals.set(settings.lookback!, name);
    const primaryKey = rel.relkind === 'v' ? undefined : keyOf.get(rel.oid);
    const source: StreamSource = { schema: rel.schema, table: rel.table, relkind: rel.relkind, oid: rel.oid, columns: infos };
    streams.push({
      name,
      namespace: rel.schema,
      columns: infos.map((i) => mapColumn(i).column),
      ...(primaryKey?.length ? { primaryKey } : {}),
      cursorCandidates: cursorCandidates(infos),
      syncMode: settings.cursorField ? 'incremental' : 'full_refresh',
      ...(settings.cursorField ? { cursorField: [settings.cursorField] } : {}),
      ...(rel.estimate !== null ? { rowEstimate: Math.round(rel.estimate) } : {}),
      source: source as unknown as Record<string, unknown>,
    });
  }
  for (const { setting, name } of configuredStreamNames(config)) {
    if (!known.has(name)) {
      throw new DatakitError('CONFIG.INVALID', `${setting} names stream ${JSON.stringify(name)}, which is not in schemas ${config.schemas.join(', ')} (or not readable)`, {
        where: { kit: 'postgres' },
        fix: 'run discover to list the streams; check SOURCE_SCHEMAS',
      });
    }
  }
  await checkIntervals(session, intervals);
  ctx.logger.info({ streams: streams.length, schemas: config.schemas.length }, 'discovered');
  return streams;
}

/**
 * Discover the streams of the configured schemas.
 * Throws `CONFIG.INVALID` when `CURSOR_FIELDS` names a missing stream or column.
 */
export async function discoverStreams(ctx: Context, config: PostgresKitConfig): Promise<Stream[]> {
  const session = await openSession(ctx, config);
  try {
    return await listStreams(ctx, config, session);
  } finally {
    await session.close();
  }
}
