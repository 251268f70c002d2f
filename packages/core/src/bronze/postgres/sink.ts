/**
 * One stream written into the warehouse. Data and state move together or not at all: a transaction
 * holds one `COPY` of its rows, then the state row upsert, then `COMMIT`.
 *
 * The `COPY` stays open across batches: each `write` streams its rows into it (with the socket's
 * backpressure), and the transaction commits — ending the `COPY`, upserting the state with the last
 * checkpoint, `COMMIT` — once a checkpointed batch brings it to `commitRows` rows or `commitMs` of
 * age, and at `commit()`/`finish()`. The default (`commitRows` 1) commits every checkpointed batch;
 * fewer, longer transactions cut the time this side waits for the server to drain each `COPY`
 * (2.4 s → 1.0 s of idle over 2M rows at 100,000 rows per transaction).
 *
 * Quarantined rows (`write`'s `quarantine`) are held until the transaction commits, then copied into
 * the quarantine table (`br_<stream>__quarantine`, or its staging twin, created on first use) in the
 * same transaction. They are few, and held for one transaction at most (one batch by default).
 *
 * Rows written since the last commit are not stored: a crash loses them with the open transaction
 * and the next run re-reads them from the stored checkpoint, so nothing doubles. When this sink
 * fails, it rolls the transaction back and `result().rows` drops to what is committed; the runner
 * then resumes from the stored checkpoint.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { DatakitError, isDatakitError } from '../../errors.js';
import { quoteIdent } from '../../naming.js';
import type { Column, Row, StreamState } from '../../types.js';
import type { OpenStreamParams, SinkResult, StoredStreamState, StreamSink } from '../types.js';
import { copyFormat, type CopyFormat } from './copy-format.js';
import { isConnectionError, mapCopyError, mapPgError, type Scrub } from './errors.js';
import { commentSql, stagingComment } from './generation.js';
import { addColumnsSql, addMissingColumns, columnIdent, copySql, createTableSql, displayName, qualified, tableColumns } from './sql.js';
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
  /** The quarantine table rows set aside go to (staging or live, like `table`), and its live name. */
  quarantine: { table: string; live: string };
  generation: string;
  /** Commits already in the generation (resumed or appended), else 0. */
  seq: number;
  /** The checkpoint the generation resumes from. */
  kit: StreamState | undefined;
  /** Staging table created by this sink (dropped by `abort()` when nothing was committed into it). */
  created: boolean;
  /** Rows after which a checkpointed batch commits the transaction. */
  commitRows: number;
  /** Age (ms) after which a checkpointed batch commits the transaction. */
  commitMs: number;
  /** `text` forces the COPY text format (see `copy-format.ts`). */
  copyFormat: 'auto' | 'text';
  /** Called once the sink is finished or aborted. */
  onDone: () => void;
}

/** Errors of a connection between statements: the next statement on it fails and says why. */
const ignoreIdleError = (): void => undefined;

/** The transaction's open `COPY`: rows stream into it until the commit ends it. */
interface OpenCopy {
  stream: Writable;
  format: CopyFormat;
  /** Settles when the server has answered the end of the COPY (or it failed). */
  ended: Promise<void>;
  /** Set once the COPY failed. */
  failed?: { error: unknown };
  /** Rows written into it, and how many of them came before the batch being written. */
  rows: number;
  batchStart: number;
}

/** The warehouse {@link StreamSink}: see the module comment for the transaction rules. */
export class PostgresStreamSink implements StreamSink {
  private columns: Column[];
  private format: CopyFormat;
  /** The client of the open transaction (rows not committed yet). */
  private client: pg.PoolClient | undefined;
  private copying: OpenCopy | undefined;
  /** When the open transaction began (ms). */
  private began = 0;
  private seq: number;
  /** The last checkpoint committed. */
  private kit: StreamState | undefined;
  /** The checkpoint the open transaction commits with, when a batch brought one. */
  private next: { kit: StreamState | undefined } | undefined;
  private stored: StoredStreamState | undefined;
  private committedRows = 0;
  private pendingRows = 0;
  private committedBytes = 0;
  private pendingBytes = 0;
  /** Quarantined rows of the open transaction, copied at its commit. */
  private held: Row[] = [];
  private quarantined = 0;
  /** The quarantine table exists with every quarantine column. */
  private quarantineReady = false;
  /** The quarantine's COPY failed half-way: the transaction's connection is mid-protocol. */
  private midCopy = false;
  private done = false;
  private readonly output: string;
  private readonly staged: boolean;

  constructor(private readonly s: PostgresSinkSetup) {
    this.columns = [...s.params.columns];
    this.format = copyFormat(this.columns, this.s.copyFormat === 'text');
    this.seq = s.seq;
    this.kit = s.kit;
    this.stored = s.params.stored;
    this.staged = s.params.staged;
    this.output = displayName(s.schema, s.live);
  }

  async write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean, quarantine?: Row[]): Promise<void> {
    this.assertOpen();
    if (!rows.length && !hasCheckpoint && !quarantine?.length) return;
    // copied now: the kit may reuse its checkpoint object for the next batch
    const next = hasCheckpoint ? { kit: structuredClone(checkpoint) } : undefined;
    const client = this.client ?? (await this.begin());
    if (rows.length) {
      try {
        await this.copy(client, rows);
      } catch (e) {
        const error = this.copyError(e, this.copying);
        await this.rollback(e);
        throw error;
      }
      this.pendingRows += rows.length;
    }
    if (quarantine?.length) {
      if (!this.s.params.quarantineColumns) throw new DatakitError('INTERNAL.ERROR', `stream ${this.s.params.stateKey} has no quarantine columns`);
      for (const r of quarantine) this.held.push(r);
    }
    if (next) {
      this.next = next;
      if (this.pendingRows >= this.s.commitRows || Date.now() - this.began >= this.s.commitMs || !rows.length) {
        await this.commitTransaction(this.staged ? 'staging' : 'live');
      }
    }
  }

  async evolve(columns: Column[]): Promise<void> {
    this.assertOpen();
    const known = new Set(this.columns.map((c) => c.name));
    const added = columns.filter((c) => !known.has(c.name));
    if (added.length) {
      // inside the open transaction, if any: another connection's ALTER would wait for it forever
      const q = this.client ?? this.s.pool;
      try {
        await this.endCopy();
        await q.query(addColumnsSql(this.s.schema, this.s.table, added));
      } catch (e) {
        if (this.client) await this.rollback(e);
        throw mapPgError(e, this.s.scrub, `adding columns to ${displayName(this.s.schema, this.s.table)}`);
      }
    }
    this.columns = [...columns];
    this.format = copyFormat(this.columns, this.s.copyFormat === 'text');
  }

  async commit(): Promise<void> {
    this.assertOpen();
    if (this.client) await this.commitTransaction(this.staged ? 'staging' : 'live');
  }

  async finish(): Promise<SinkResult> {
    this.assertOpen();
    if (!this.staged) {
      if (this.client) await this.commitTransaction('live');
    } else {
      const client = this.client ?? (await this.begin());
      const { schema, table, live } = this.s;
      await this.commitTransaction('live', async () => {
        // one transaction: readers block on the lock, then see the new table — never none, never half
        await client.query(`DROP TABLE IF EXISTS ${qualified(schema, live)}`);
        await client.query(`ALTER TABLE ${qualified(schema, table)} RENAME TO ${quoteIdent(live)}`);
        await client.query(commentSql(schema, live, null));
        // the quarantine is replaced with the stream: by the generation's, or by none
        const q = this.s.quarantine;
        await client.query(`DROP TABLE IF EXISTS ${qualified(schema, q.live)}`);
        if (await tableColumns(client, schema, q.table)) {
          await client.query(`ALTER TABLE ${qualified(schema, q.table)} RENAME TO ${quoteIdent(q.live)}`);
          await client.query(commentSql(schema, q.live, null));
        }
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
      this.release(this.client, true);
      this.client = undefined;
    }
    this.copying = undefined;
    this.next = undefined;
    this.pendingRows = 0;
    this.pendingBytes = 0;
    this.held = [];
    if (this.s.created && this.stored?.generation !== this.s.generation) {
      for (const table of [this.s.table, this.s.quarantine.table]) await this.s.pool.query(`DROP TABLE IF EXISTS ${qualified(this.s.schema, table)}`).catch(() => undefined);
    }
  }

  result(): SinkResult {
    return {
      rows: this.committedRows + this.pendingRows,
      quarantined: this.quarantined + this.held.length,
      bytes: this.committedBytes + this.pendingBytes,
      outputs: this.quarantined + this.held.length ? [this.output, displayName(this.s.schema, this.s.quarantine.live)] : [this.output],
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
    // the transaction stays open while the next batch is read: a connection lost in between is
    // reported by the next statement, not as an 'error' event nobody listens to
    client.on('error', ignoreIdleError);
    this.client = client;
    this.began = Date.now();
    return client;
  }

  /** Give the client back to the pool (`destroy` when its connection is unusable). */
  private release(client: pg.PoolClient, destroy = false): void {
    client.off('error', ignoreIdleError);
    client.release(destroy);
  }

  /** Stream `rows` into the transaction's COPY (opened on first use), waiting out backpressure. */
  private async copy(client: pg.PoolClient, rows: Row[]): Promise<void> {
    const { schema, table } = this.s;
    let open = this.copying;
    if (!open) {
      const { format } = this;
      const stream: Writable = client.query(copyStreams.from(copySql(schema, table, this.columns, format.binary)));
      const ended = finished(stream);
      const copy: OpenCopy = { stream, format, ended, rows: 0, batchStart: 0 };
      // awaited by endCopy(); the failure is also kept, since pg-copy-streams emits it without
      // destroying the stream (a later write would then hit a closed connection)
      ended.catch((e: unknown) => (copy.failed ??= { error: e }));
      open = this.copying = copy;
      if (format.header) {
        stream.write(format.header);
        this.pendingBytes += format.header.length;
      }
    }
    const { stream, ended } = open;
    open.batchStart = open.rows;
    for (const chunk of open.format.chunks(rows, displayName(schema, table), (n) => (this.pendingBytes += n))) {
      if (open.failed) break;
      if (!stream.write(chunk)) await Promise.race([new Promise((resolve) => stream.once('drain', resolve)), ended]);
    }
    // the server's answer to an earlier chunk (a value it refused, a lost connection)
    if (open.failed) throw open.failed.error;
    open.rows += rows.length;
  }

  /** A failure of `open` as the error to throw (a refused value becomes `DATA.INVALID_RECORD`, located in the batch). */
  private copyError(e: unknown, open: OpenCopy | undefined): DatakitError {
    return mapCopyError(e, this.s.scrub, displayName(this.s.schema, this.s.table), this.columns.map(columnIdent), open?.batchStart ?? 0);
  }

  /** End the open COPY and wait for the server to accept it. */
  private async endCopy(): Promise<void> {
    const open = this.copying;
    if (!open) return;
    this.copying = undefined;
    if (open.format.trailer && !open.failed) {
      open.stream.end(open.format.trailer);
      this.pendingBytes += open.format.trailer.length;
    } else open.stream.end();
    try {
      await open.ended;
    } catch (e) {
      throw this.copyError(e, open);
    }
  }

  /**
   * End the COPY, upsert the state (after `before`, if given) with the latest checkpoint, COMMIT,
   * release the client. The sink's checkpoint and counters move only once COMMIT succeeded.
   */
  private async commitTransaction(phase: StoredStreamState['phase'], before?: () => Promise<void>): Promise<void> {
    const client = this.client ?? (await this.begin());
    const kit = this.next ? this.next.kit : this.kit;
    // every commit counts, except a swap that carries no rows
    const seq = this.seq + (this.pendingRows > 0 || this.held.length > 0 || !before ? 1 : 0);
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
      await this.endCopy();
      if (this.held.length) await this.copyQuarantine(client);
      if (before) await before();
      await upsertState(client, this.s.schema, this.s.params.run.source, this.s.params.stateKey, state);
      await client.query('COMMIT');
    } catch (e) {
      await this.rollback(e);
      throw isDatakitError(e) ? e : mapPgError(e, this.s.scrub, `committing ${this.output}`);
    }
    this.release(client);
    this.client = undefined;
    this.next = undefined;
    this.seq = seq;
    this.kit = kit;
    this.stored = state;
    this.committedRows += this.pendingRows;
    this.committedBytes += this.pendingBytes;
    this.quarantined += this.held.length;
    this.held = [];
    this.pendingRows = 0;
    this.pendingBytes = 0;
  }

  /** Copy the held quarantined rows into the quarantine table (created on first use) in the open transaction. */
  private async copyQuarantine(client: pg.PoolClient): Promise<void> {
    const { schema } = this.s;
    const { table } = this.s.quarantine;
    const columns = this.s.params.quarantineColumns!;
    if (!this.quarantineReady) {
      const have = await tableColumns(client, schema, table);
      if (have) await addMissingColumns(client, schema, table, have, columns);
      else {
        await client.query(createTableSql(schema, table, columns));
        // a staging table is dropped with its generation when that is abandoned
        if (table !== this.s.quarantine.live) await client.query(commentSql(schema, table, stagingComment(this.s.params.run.source, this.s.params.stateKey, this.s.generation)));
      }
      this.quarantineReady = true;
    }
    const format = copyFormat(columns, this.s.copyFormat === 'text');
    const stream: Writable = client.query(copyStreams.from(copySql(schema, table, columns, format.binary)));
    const ended = finished(stream);
    // the failure surfaces through `ended`; a write after it must not throw on its own
    ended.catch(() => undefined);
    const count = (n: number): void => void (this.pendingBytes += n);
    try {
      if (format.header) stream.write(format.header);
      for (const chunk of format.chunks(this.held, displayName(schema, table), count)) {
        if (!stream.write(chunk)) await Promise.race([new Promise((resolve) => stream.once('drain', resolve)), ended]);
      }
      stream.end(format.trailer);
      await ended;
    } catch (e) {
      // a value refused on this side leaves the COPY open: the connection cannot take a ROLLBACK
      this.midCopy = true;
      throw mapCopyError(e, this.s.scrub, displayName(schema, table), columns.map(columnIdent));
    }
  }

  /** Roll the open transaction back and forget its rows; a broken connection is discarded. */
  private async rollback(cause?: unknown): Promise<void> {
    const client = this.client;
    const copying = this.copying;
    this.client = undefined;
    this.copying = undefined;
    this.next = undefined;
    this.pendingRows = 0;
    this.pendingBytes = 0;
    this.held = [];
    // a rolled-back CREATE TABLE is gone again
    this.quarantineReady = false;
    if (!client) return;
    const midCopy = this.midCopy;
    this.midCopy = false;
    // a COPY still open (or failed half-way) leaves the connection mid-protocol: drop it
    if (copying || midCopy || (cause !== undefined && isConnectionError(cause))) {
      this.release(client, true);
      return;
    }
    try {
      await client.query('ROLLBACK');
      this.release(client);
    } catch {
      this.release(client, true);
    }
  }
}
