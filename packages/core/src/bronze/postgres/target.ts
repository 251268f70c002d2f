/**
 * The Postgres warehouse bronze target: schema `bronze`, one table `br_<stream>` per stream, loaded
 * with `COPY … FROM STDIN`, and the state of every stream in `bronze._datakit_state`, committed in the
 * same transaction as the rows it covers.
 *
 * A stream's quarantine output (`Batch.quarantine`) is the table `br_<stream>__quarantine`, staged and
 * swapped with the stream's table.
 *
 * Full refreshes (and first loads) write a staging table that replaces the live one atomically at the
 * end; incremental runs append to the live table. A swap drops the old table, so grants made on it
 * are lost: give readers `ALTER DEFAULT PRIVILEGES IN SCHEMA bronze GRANT SELECT ON TABLES TO …`.
 */
import pg from 'pg';
import { DatakitError } from '../../errors.js';
import { quarantineTableName, warehouseTableName } from '../../naming.js';
import type { BronzeTarget, OpenStreamParams, SourceState, StreamSink } from '../types.js';
import { isConnectionError, mapPgError, scrubberFor, type Scrub } from './errors.js';
import { commentSql, dropAbandonedStaging, newGenerationId, stagingComment, stagingTableName } from './generation.js';
import { PostgresStreamSink } from './sink.js';
import { addMissingColumns, createTableSql, displayName, schemaExists, tableColumns, type Queryable } from './sql.js';
import { createSchemaSql, createStateTableSql, deleteStates, loadStates, STATE_TABLE } from './state.js';

/** Options of {@link PostgresTarget}. */
export interface PostgresTargetOptions {
  /** Schema of the bronze tables and the state table. @default 'bronze' */
  schema?: string;
  /** `application_name` of the connections (visible in `pg_stat_activity`). @default 'datakit' */
  applicationName?: string;
  /** How long to wait for a connection before `BRONZE.UNREACHABLE`. @default 10000 */
  connectTimeoutMs?: number;
  /** Rows after which a checkpointed batch commits its transaction (see the sink). @default 1 (every checkpointed batch) */
  commitRows?: number;
  /** Seconds after which a checkpointed batch commits its transaction. @default 10 */
  commitSeconds?: number;
  /** `auto`: binary COPY when every column has a binary form, else text; `text`: always text. @default 'auto' */
  copyFormat?: 'auto' | 'text';
}

/** SQLSTATEs of a concurrent `CREATE … IF NOT EXISTS` that lost the race: the object exists. */
const CREATE_RACE = new Set(['23505', '42P06', '42P07']);

/**
 * A bronze target in a PostgreSQL warehouse.
 *
 * @example
 * const target = new PostgresTarget('postgres://etl:secret@warehouse:5432/dw');
 * await target.open('postgres');
 * const states = await target.loadState('postgres');
 */
export class PostgresTarget implements BronzeTarget {
  readonly kind = 'postgres';
  /** The URL with its password replaced by `***`. */
  readonly location: string;
  private readonly url: string;
  private readonly schema: string;
  private readonly applicationName: string;
  private readonly connectTimeoutMs: number;
  private readonly commitRows: number;
  private readonly copyFormat: 'auto' | 'text';
  private readonly commitMs: number;
  private readonly scrub: Scrub;
  private pool: pg.Pool | undefined;
  private readonly sinks = new Set<PostgresStreamSink>();

  constructor(url: string, options: PostgresTargetOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatakitError('CONFIG.INVALID', 'the warehouse URL is not a valid URL', { fix: 'use postgres://user:password@host:5432/database in WAREHOUSE_DATABASE_URL / BRONZE_URL' });
    }
    if (!/^postgres(ql)?:$/i.test(parsed.protocol)) {
      throw new DatakitError('CONFIG.INVALID', `the warehouse URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
    }
    const queryPassword = parsed.searchParams.get('password') ?? undefined;
    this.scrub = (text) => scrubberFor(queryPassword)(scrubberFor(parsed.password)(text));
    this.url = url;
    if (parsed.password) parsed.password = '***';
    if (queryPassword !== undefined) parsed.searchParams.set('password', '***');
    this.location = parsed.toString();
    this.schema = options.schema ?? 'bronze';
    this.applicationName = options.applicationName ?? 'datakit';
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.commitRows = options.commitRows ?? 1;
    this.copyFormat = options.copyFormat ?? 'auto';
    this.commitMs = (options.commitSeconds ?? 10) * 1000;
  }

  /** Connect, and create the schema and the state table when they are missing. */
  async open(_source: string): Promise<void> {
    if (!this.pool) {
      const pool = new pg.Pool({
        connectionString: this.url,
        max: 2,
        application_name: this.applicationName,
        connectionTimeoutMillis: this.connectTimeoutMs,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
      });
      // an idle client that dies is dropped by the pool; the next query reconnects or fails mapped
      pool.on('error', () => undefined);
      this.pool = pool;
    }
    try {
      await this.withClient('preparing the warehouse', async (c) => {
        // check first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists
        if (!(await schemaExists(c, this.schema))) await ignoreRace(c.query(createSchemaSql(this.schema)));
        if (!(await tableColumns(c, this.schema, STATE_TABLE))) await ignoreRace(c.query(createStateTableSql(this.schema)));
      });
    } catch (e) {
      const pool = this.pool;
      this.pool = undefined;
      await pool?.end().catch(() => undefined);
      throw e;
    }
  }

  async loadState(source: string): Promise<SourceState> {
    return this.withClient('reading state', (c) => loadStates(c, this.schema, source));
  }

  /** Delete the states and drop the staging tables of these streams. */
  async resetState(source: string, keys: string[]): Promise<void> {
    await this.withClient('resetting state', async (c) => {
      await deleteStates(c, this.schema, source, keys);
      for (const key of keys) await dropAbandonedStaging(c, this.schema, source, key);
    });
  }

  async openStream(params: OpenStreamParams): Promise<StreamSink> {
    const pool = this.requirePool();
    const { stored, stateKey, columns } = params;
    const source = params.run.source;
    const live = warehouseTableName(params.bronzeName);
    const fix = `run --state-reset ${stateKey}`;
    const setup = await this.withClient(`opening ${displayName(this.schema, live)}`, async (c) => {
      if (params.staged && stored?.phase === 'staging') {
        const table = stagingTableName(params.bronzeName, stored.generation);
        const have = await tableColumns(c, this.schema, table);
        if (!have) throw new DatakitError('STATE.CORRUPT', `the state resumes staging generation ${stored.generation} but its table ${displayName(this.schema, table)} is missing`, { where: { stream: stateKey }, fix });
        await addMissingColumns(c, this.schema, table, have, columns);
        return { table, generation: stored.generation, seq: stored.seq, kit: stored.kit, created: false };
      }
      if (params.staged) {
        const generation = newGenerationId();
        const table = stagingTableName(params.bronzeName, generation);
        await dropAbandonedStaging(c, this.schema, source, stateKey);
        await inTransaction(c, async () => {
          await c.query(createTableSql(this.schema, table, columns));
          await c.query(commentSql(this.schema, table, stagingComment(source, stateKey, generation)));
        });
        return { table, generation, seq: 0, kit: undefined, created: true };
      }
      if (stored && stored.phase !== 'live') {
        throw new DatakitError('INTERNAL.ERROR', `stream ${stateKey}: append requested but generation ${stored.generation} is still staging`);
      }
      const have = await tableColumns(c, this.schema, live);
      if (!have && stored) throw new DatakitError('STATE.CORRUPT', `the state appends to ${displayName(this.schema, live)} but the table is missing`, { where: { stream: stateKey }, fix });
      if (have) await addMissingColumns(c, this.schema, live, have, columns);
      else await ignoreRace(c.query(createTableSql(this.schema, live, columns)));
      return { table: live, generation: stored?.generation ?? newGenerationId(), seq: stored?.seq ?? 0, kit: stored?.kit, created: false };
    });
    const quarantine = { table: quarantineTableName(setup.table === live ? live : stagingTableName(params.bronzeName, setup.generation)), live: quarantineTableName(live) };
    const sink: PostgresStreamSink = new PostgresStreamSink({ pool, schema: this.schema, scrub: this.scrub, params, live, quarantine, commitRows: this.commitRows, commitMs: this.commitMs, copyFormat: this.copyFormat, ...setup, onDone: () => this.sinks.delete(sink) });
    this.sinks.add(sink);
    return sink;
  }

  /** Abort any unfinished stream and close the connections. */
  async close(): Promise<void> {
    for (const sink of [...this.sinks]) await sink.abort();
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  private requirePool(): pg.Pool {
    if (!this.pool) throw new DatakitError('INTERNAL.ERROR', 'the postgres target is not open: call open() first');
    return this.pool;
  }

  /** Run `fn` on a pooled client; `pg` errors become DatakitErrors without the password. */
  private async withClient<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = this.requirePool();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw mapPgError(e, this.scrub, what);
    }
    let broken = false;
    try {
      return await fn(client);
    } catch (e) {
      broken = isConnectionError(e);
      throw mapPgError(e, this.scrub, what);
    } finally {
      client.release(broken);
    }
  }
}

async function ignoreRace(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!CREATE_RACE.has((e as { code?: string }).code ?? '')) throw e;
  }
}

async function inTransaction(c: Queryable, fn: () => Promise<void>): Promise<void> {
  await c.query('BEGIN');
  try {
    await fn();
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The warehouse target for a `postgres://` or `postgresql://` URL (what `BRONZE_URL` selects). */
export function postgresTargetFromUrl(url: string, options: PostgresTargetOptions = {}): PostgresTarget {
  return new PostgresTarget(url, options);
}
