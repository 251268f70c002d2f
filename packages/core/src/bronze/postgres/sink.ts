/**
 * One stream written into the warehouse. A `write` with a checkpoint is one transaction: `COPY` of
 * its rows, then the state row upsert, then `COMMIT` — data and state move together or not at all.
 *
 * Rows written without a checkpoint are not a resume point: their `COPY` runs inside a transaction
 * that stays open until the next checkpoint (or `commit()`/`finish()`) commits it together with the
 * state, so a crash in between loses them instead of storing rows that a re-read would double.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { DatakitError, isDatakitError } from '../../errors.js';
import { quoteIdent } from '../../naming.js';
import type { Column, Row, StreamState } from '../../types.js';
import type { OpenStreamParams, SinkResult, StoredStreamState, StreamSink } from '../types.js';
import { copyEncoders, copyTextChunks, COPY_CHUNK_BYTES, type FieldEncoder } from './copy-text.js';
import { isConnectionError, mapCopyError, mapPgError, type Scrub } from './errors.js';
import { commentSql } from './generation.js';
import { addColumnsSql, columnIdent, copySql, displayName, qualified } from './sql.js';
import { upsertState } from './state.js';

/** Everything {@link PostgresStreamSink} needs, prepared by the target's `openStream`. */
export interface PostgresSinkSetup {
  pool: pg.Pool;
  schema: string;
  scrub: Scrub;
  params: OpenStreamParams;
  /** The table rows go to: the staging table, or the live table when appending. */
  table: string;
  /** The live table (`br_<bronze name>`). */
  live: string;
  generation: string;
  /** Commits already in the generation (resumed or appended), else 0. */
  seq: number;
  /** The checkpoint the generation resumes from. */
  kit: StreamState | undefined;
  /** Staging table created by this sink (dropped by `abort()` when nothing was committed into it). */
  created: boolean;
  /** Called once the sink is finished or aborted. */
  onDone: () => void;
}

/** The warehouse {@link StreamSink}: see the module comment for the transaction rules. */
export class PostgresStreamSink implements StreamSink {
  private columns: Column[];
  private encoders: FieldEncoder[];
  /** The client of the open transaction holding rows without a checkpoint. */
  private client: pg.PoolClient | undefined;
  private seq: number;
  private kit: StreamState | undefined;
  private stored: StoredStreamState | undefined;
  private committedRows = 0;
  private pendingRows = 0;
  private committedBytes = 0;
  private pendingBytes = 0;
  private done = false;
  private readonly output: string;
  private readonly staged: boolean;

  constructor(private readonly s: PostgresSinkSetup) {
    this.columns = [...s.params.columns];
    this.encoders = copyEncoders(this.columns);
    this.seq = s.seq;
    this.kit = s.kit;
    this.stored = s.params.stored;
    this.staged = s.params.staged;
    this.output = displayName(s.schema, s.live);
  }

  async write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean): Promise<void> {
    this.assertOpen();
    if (!rows.length && !hasCheckpoint) return;
    // copied now: the kit may reuse its checkpoint object for the next batch
    const next = hasCheckpoint ? { kit: structuredClone(checkpoint) } : undefined;
    const client = this.client ?? (await this.begin());
    if (rows.length) {
      try {
        await this.copy(client, rows);
      } catch (e) {
        await this.rollback(e);
        throw mapCopyError(e, this.s.scrub, displayName(this.s.schema, this.s.table), this.columns.map(columnIdent));
      }
      this.pendingRows += rows.length;
    }
    if (next) await this.commitTransaction(this.staged ? 'staging' : 'live', next);
  }

  async evolve(columns: Column[]): Promise<void> {
    this.assertOpen();
    const known = new Set(this.columns.map((c) => c.name));
    const added = columns.filter((c) => !known.has(c.name));
    if (added.length) {
      // inside the open transaction, if any: another connection's ALTER would wait for it forever
      const q = this.client ?? this.s.pool;
      try {
        await q.query(addColumnsSql(this.s.schema, this.s.table, added));
      } catch (e) {
        if (this.client) await this.rollback(e);
        throw mapPgError(e, this.s.scrub, `adding columns to ${displayName(this.s.schema, this.s.table)}`);
      }
    }
    this.columns = [...columns];
    this.encoders = copyEncoders(this.columns);
  }

  async commit(): Promise<void> {
    this.assertOpen();
    if (this.client) await this.commitTransaction(this.staged ? 'staging' : 'live', {});
  }

  async finish(): Promise<SinkResult> {
    this.assertOpen();
    if (!this.staged) {
      if (this.client) await this.commitTransaction('live', {});
    } else {
      const client = this.client ?? (await this.begin());
      const { schema, table, live } = this.s;
      await this.commitTransaction('live', {}, async () => {
        // one transaction: readers block on the lock, then see the new table — never none, never half
        await client.query(`DROP TABLE IF EXISTS ${qualified(schema, live)}`);
        await client.query(`ALTER TABLE ${qualified(schema, table)} RENAME TO ${quoteIdent(live)}`);
        await client.query(commentSql(schema, live, null));
      });
    }
    this.end();
    return this.result();
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.end();
    if (this.client) {
      // destroying the connection rolls the transaction back on the server and cannot hang on a dead socket
      this.client.release(true);
      this.client = undefined;
    }
    this.pendingRows = 0;
    this.pendingBytes = 0;
    if (this.s.created && this.stored?.generation !== this.s.generation) {
      await this.s.pool.query(`DROP TABLE IF EXISTS ${qualified(this.s.schema, this.s.table)}`).catch(() => undefined);
    }
  }

  result(): SinkResult {
    return {
      rows: this.committedRows + this.pendingRows,
      bytes: this.committedBytes + this.pendingBytes,
      outputs: [this.output],
      ...(this.stored ? { stored: this.stored } : {}),
    };
  }

  private assertOpen(): void {
    if (this.done) throw new DatakitError('INTERNAL.ERROR', `stream sink for ${this.output} used after finish() or abort()`);
  }

  private end(): void {
    this.done = true;
    this.s.onDone();
  }

  private async begin(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.s.pool.connect();
    } catch (e) {
      throw mapPgError(e, this.s.scrub, 'connecting to the warehouse');
    }
    try {
      await client.query('BEGIN');
    } catch (e) {
      client.release(true);
      throw mapPgError(e, this.s.scrub, 'starting a transaction');
    }
    this.client = client;
    return client;
  }

  private async copy(client: pg.PoolClient, rows: Row[]): Promise<void> {
    const { schema, table } = this.s;
    const sql = copySql(schema, table, this.columns);
    const label = displayName(schema, table);
    const chunks = copyTextChunks(rows, this.columns, this.encoders, label, (n) => (this.pendingBytes += n));
    const source = Readable.from(chunks, { objectMode: false, highWaterMark: COPY_CHUNK_BYTES });
    await pipeline(source, client.query(copyStreams.from(sql)));
  }

  /**
   * Upsert the state (after `before`, if given) with the new checkpoint (if given), COMMIT, release
   * the client. The sink's checkpoint and counters move only once COMMIT succeeded.
   */
  private async commitTransaction(phase: StoredStreamState['phase'], next: { kit?: StreamState }, before?: () => Promise<void>): Promise<void> {
    const client = this.client ?? (await this.begin());
    const kit = 'kit' in next ? next.kit : this.kit;
    // every commit counts, except a swap that carries no rows
    const seq = this.seq + (this.pendingRows > 0 || !before ? 1 : 0);
    const state: StoredStreamState = {
      ...(kit !== undefined ? { kit } : {}),
      generation: this.s.generation,
      phase,
      seq,
      runId: this.s.params.run.runId,
      updatedAt: new Date().toISOString(),
      columns: this.columns.map((c) => c.name),
    };
    try {
      if (before) await before();
      await upsertState(client, this.s.schema, this.s.params.run.source, this.s.params.stateKey, state);
      await client.query('COMMIT');
    } catch (e) {
      await this.rollback(e);
      throw isDatakitError(e) ? e : mapPgError(e, this.s.scrub, `committing ${this.output}`);
    }
    client.release();
    this.client = undefined;
    this.seq = seq;
    this.kit = kit;
    this.stored = state;
    this.committedRows += this.pendingRows;
    this.committedBytes += this.pendingBytes;
    this.pendingRows = 0;
    this.pendingBytes = 0;
  }

  /** Roll the open transaction back and forget its rows; a broken connection is discarded. */
  private async rollback(cause?: unknown): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.pendingRows = 0;
    this.pendingBytes = 0;
    if (!client) return;
    if (cause !== undefined && isConnectionError(cause)) {
      client.release(true);
      return;
    }
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch {
      client.release(true);
    }
  }
}
