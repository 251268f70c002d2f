/**
 * Read one stream as batches, inside one `REPEATABLE READ READ ONLY` snapshot, with binary COPY.
 *
 * - **Full refresh, with a primary key**: keyset chunks `WHERE (pk…) > (last…) ORDER BY pk… LIMIT
 *   chunkRows`; every batch's checkpoint is the key of its last row, so a run resumes after it (in a new
 *   snapshot).
 * - **Full refresh, without a key**: one COPY of the relation; batches carry no checkpoint (a stopped
 *   run starts the stream over).
 * - **Incremental, with a key**: the upper bound `max(cursor)` is fixed when the run starts; chunks
 *   `WHERE (cursor, pk…) > (last…) AND cursor <= upper ORDER BY cursor, pk…`, so rows tied on the
 *   cursor are never skipped; rows whose cursor is NULL are never read.
 * - **Incremental, without a key**: one COPY ordered by the cursor; a checkpoint is placed only after
 *   the last row of a group of equal cursor values (the server flags it), so `cursor > last` on resume
 *   never skips a tie.
 *
 * Every row carries the text of its key columns after the stream's columns (stripped before it is
 * yielded): the next chunk's lower bound and the checkpoint.
 */
import { DatakitError, type Batch, type Context, type Stream, type StreamState } from '@datakit/core';
import { decodeBinaryCopy, type FieldDecoder } from './copy-decoder.js';
import { streamSettings, type PostgresKitConfig } from './config.js';
import { openSession, type Session } from './connect.js';
import { decodeBool, decodeText } from './decoders.js';
import type { StreamSource } from './discover.js';
import { sourceError } from './errors.js';
import { partitionPredicate, rangeBounds, rangeable, type PartitionOf, type PartitionSpec } from './partition.js';
import { ALIAS, baseTypname, col, copySql, literal, quoteIdent, relationName, rowCompare, selectSql } from './sql.js';
import { parseState, type FullState, type IncrementalState } from './state.js';
import { buildSelect, mapColumn, quoteLiteral, type PgColumnInfo } from './type-map.js';

/** Everything a read needs, resolved from the stream and the settings. */
interface Plan {
  stream: Stream;
  relation: string;
  /** The stream's select list (see `buildSelect`). */
  select: string;
  decoders: FieldDecoder[];
  width: number;
  pk: PgColumnInfo[];
  cursor: PgColumnInfo | undefined;
  lookback: string | undefined;
  chunkRows: number;
  partitionBy: PostgresKitConfig['partitionBy'];
}

function sourceOf(stream: Stream): StreamSource {
  const s = stream.source as Partial<StreamSource> | undefined;
  if (!s || typeof s.schema !== 'string' || typeof s.table !== 'string' || !Array.isArray(s.columns)) {
    throw new DatakitError('INTERNAL.ERROR', 'the stream was not discovered by the postgres kit (stream.source is missing)', { where: { kit: 'postgres', stream: stream.name } });
  }
  return s as StreamSource;
}

function plan(config: PostgresKitConfig, stream: Stream): Plan {
  const src = sourceOf(stream);
  const byName = new Map(src.columns.map((c) => [c.name, c]));
  const find = (name: string, what: string): PgColumnInfo => {
    const info = byName.get(name);
    if (!info) throw new DatakitError('CONFIG.INVALID', `${what} column ${JSON.stringify(name)} is not a column of the stream`, { where: { kit: 'postgres', stream: stream.name }, fix: 'run discover again' });
    return info;
  };
  const mapped = src.columns.map((c) => mapColumn(c));
  const settings = streamSettings(config, [stream.name, `${src.schema}.${src.table}`]);
  const cursorName = stream.syncMode === 'incremental' ? stream.cursorField?.[0] ?? settings.cursorField : undefined;
  if (stream.syncMode === 'incremental' && !cursorName) {
    throw new DatakitError('CONFIG.INVALID', 'the stream is incremental but has no cursor column', { where: { kit: 'postgres', stream: stream.name }, fix: 'set CURSOR_FIELDS' });
  }
  return {
    stream,
    relation: relationName(src.schema, src.table),
    select: buildSelect(mapped, src.columns.map((c) => quoteIdent(c.name))),
    decoders: mapped.map((m) => m.decode),
    width: src.columns.length,
    pk: (stream.primaryKey ?? []).map((n) => find(n, 'primary key')),
    cursor: cursorName ? find(cursorName, 'cursor') : undefined,
    lookback: settings.lookback,
    chunkRows: settings.chunkRows,
    partitionBy: config.partitionBy,
  };
}

/** `cursor > (last - lookback)`: re-reads recent rows on purpose (late commits, clock skew). */
function lookbackBound(p: Plan, cursor: PgColumnInfo, last: string): string {
  const t = baseTypname(cursor);
  const amount = ['timestamp', 'timestamptz', 'date'].includes(t) ? `${quoteLiteral(p.lookback!)}::interval` : `${quoteLiteral(p.lookback!)}::${cursor.baseFormattedType ?? cursor.formattedType}`;
  return `${col(cursor.name)} > (${literal(last, cursor)} - ${amount})`;
}

/**
 * Keyset chunks over `key` (the stream's select list plus each key column's text), each a COPY of at
 * most `chunkRows` rows; yields decoded batches and the key text of each batch's last row.
 */
async function* keysetChunks(
  ctx: Context,
  session: Session,
  p: Plan,
  key: PgColumnInfo[],
  where: string[],
  start: { after?: string[]; firstBound?: string },
): AsyncGenerator<{ rows: unknown[][]; last: string[] }> {
  const keyCols = key.map((k) => col(k.name));
  const select = `${p.select}, ${keyCols.map((c) => `${c}::text`).join(', ')}`;
  const decoders = [...p.decoders, ...key.map(() => decodeText)];
  let after = start.after;
  for (let chunk = 1; ; chunk++) {
    const bound = chunk === 1 && start.firstBound ? [start.firstBound] : after ? [rowCompare(keyCols, '>', after.map((t, i) => literal(t, key[i]!)))] : [];
    const sql = copySql(selectSql({ select, relation: p.relation, where: [...where, ...bound], orderBy: keyCols, limit: p.chunkRows }));
    let rows = 0;
    for await (const batch of decodeBinaryCopy(session.copyOut(sql), decoders, ctx.batchSize)) {
      const last = batch[batch.length - 1]!.slice(p.width) as string[];
      for (const row of batch) row.length = p.width;
      rows += batch.length;
      after = last;
      yield { rows: batch, last };
    }
    ctx.logger.debug({ chunk, rows }, 'chunk read');
    if (rows < p.chunkRows) return;
  }
}

async function* readFull(ctx: Context, session: Session, p: Plan, state: FullState | undefined): AsyncGenerator<Batch> {
  const part = ctx.partition && ctx.partition.count > 1 ? ctx.partition : undefined;
  let spec: PartitionSpec | undefined = state?.partition;
  if (part && !spec) {
    if (p.partitionBy === 'auto' && rangeable(p.pk)) {
      const k = col(p.pk[0]!.name);
      const [r] = await session.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${p.relation} AS ${ALIAS}`);
      spec = rangeBounds(r?.lo ?? null, r?.hi ?? null, part.index, part.count);
    } else spec = { by: 'hash' };
  }
  const where = part && spec ? [partitionPredicate(spec, part, p.pk)].filter((w): w is string => !!w) : [];
  logStart(ctx, p, 'full_refresh', !!state, part, spec);
  if (!p.pk.length) {
    const sql = copySql(selectSql({ select: p.select, relation: p.relation, where }));
    for await (const rows of decodeBinaryCopy(session.copyOut(sql), p.decoders, ctx.batchSize)) yield { rows };
    return;
  }
  for await (const { rows, last } of keysetChunks(ctx, session, p, p.pk, where, state ? { after: state.lastPk } : {})) {
    const checkpoint: FullState = { mode: 'full', lastPk: last, ...(spec ? { partition: spec } : {}) };
    yield { rows, checkpoint };
  }
}

async function* readIncremental(ctx: Context, session: Session, p: Plan, cursor: PgColumnInfo, state: IncrementalState | undefined): AsyncGenerator<Batch> {
  const part = ctx.partition && ctx.partition.count > 1 ? ctx.partition : undefined;
  const c = col(cursor.name);
  const [top] = await session.query<{ upper: string }>(`SELECT ${c}::text AS upper FROM ${p.relation} AS ${ALIAS} WHERE ${c} IS NOT NULL ORDER BY ${c} DESC LIMIT 1`);
  const spec: PartitionSpec | undefined = part ? { by: 'hash' } : undefined;
  logStart(ctx, p, 'incremental', !!state, part, spec);
  if (!top) return;
  const where = [`${c} <= ${literal(top.upper, cursor)}`, ...(part && spec ? [partitionPredicate(spec, part, p.pk)!] : [])];
  const ties = p.pk.filter((k) => k.name !== cursor.name);
  const lower = state && p.lookback !== undefined ? lookbackBound(p, cursor, state.cursor) : undefined;
  const checkpoint = (last: string[]): IncrementalState => ({ mode: 'incremental', field: cursor.name, cursor: last[0]!, pk: last.slice(1) });

  if (p.pk.length) {
    const start = lower ? { firstBound: lower } : state ? { after: [state.cursor, ...state.pk] } : {};
    for await (const { rows, last } of keysetChunks(ctx, session, p, [cursor, ...ties], where, start)) yield { rows, checkpoint: checkpoint(last) };
    return;
  }
  // no key: one COPY ordered by the cursor; `boundary` marks the last row of each group of equal cursors
  if (state) where.push(lower ?? `${c} > ${literal(state.cursor, cursor)}`);
  const select = `${p.select}, ${c}::text, (lead(${c}) OVER (ORDER BY ${c})) IS DISTINCT FROM ${c}`;
  const sql = copySql(selectSql({ select, relation: p.relation, where, orderBy: [c] }));
  let pending: unknown[][] = [];
  let cut = 0;
  let cutCursor = '';
  for await (const batch of decodeBinaryCopy(session.copyOut(sql), [...p.decoders, decodeText, decodeBool], ctx.batchSize)) {
    for (const row of batch) {
      const text = row[p.width] as string;
      const boundary = row[p.width + 1] === true;
      row.length = p.width;
      pending.push(row);
      if (boundary) {
        cut = pending.length;
        cutCursor = text;
      }
      if (pending.length < ctx.batchSize) continue;
      if (cut > 0) {
        yield { rows: pending.slice(0, cut), checkpoint: checkpoint([cutCursor]) };
        pending = pending.slice(cut);
      } else {
        // a group of equal cursor values longer than a batch: no resume point inside it
        yield { rows: pending };
        pending = [];
      }
      cut = 0;
    }
  }
  if (pending.length) yield { rows: pending, ...(cut === pending.length ? { checkpoint: checkpoint([cutCursor]) } : {}) };
}

function logStart(ctx: Context, p: Plan, mode: string, resume: boolean, part: PartitionOf | undefined, spec: PartitionSpec | undefined): void {
  ctx.logger.info(
    {
      mode,
      resume,
      chunkRows: p.chunkRows,
      keyed: p.pk.length > 0,
      ...(part ? { partition: `${part.index}/${part.count}`, partitionBy: spec?.by } : {}),
      // integer key bounds are positions, not row contents
      ...(spec?.by === 'range' ? { rangeFrom: spec.lo, rangeTo: spec.hi, emptyAtStart: spec.empty ?? false } : {}),
    },
    'reading',
  );
}

/**
 * Read a stream discovered by this kit. Batches hold at most `ctx.batchSize` rows in stream column
 * order. On abort the running statement is cancelled and the generator returns; whatever ends the
 * read (end, error, abort, the consumer's `break`) closes the connection.
 */
export async function* readStream(ctx: Context, config: PostgresKitConfig, stream: Stream, state: StreamState | undefined): AsyncGenerator<Batch> {
  const p = plan(config, stream);
  const ties = p.cursor ? p.pk.filter((k) => k.name !== p.cursor!.name).length : p.pk.length;
  const parsed = parseState(state, { stream: stream.name, mode: p.cursor ? 'incremental' : 'full', ...(p.cursor ? { cursorField: p.cursor.name } : {}), keys: ties });
  if (ctx.signal.aborted) return;
  let session: Session;
  try {
    session = await openSession(ctx, config, stream.name);
  } catch (e) {
    if (ctx.signal.aborted) return;
    throw e;
  }
  const onAbort = (): void => session.interrupt();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const batches = p.cursor ? readIncremental(ctx, session, p, p.cursor, parsed as IncrementalState | undefined) : readFull(ctx, session, p, parsed as FullState | undefined);
    for await (const batch of batches) {
      yield batch;
      // rows already decoded from the last network chunk are not worth a batch after an abort
      if (ctx.signal.aborted) break;
    }
    if (ctx.signal.aborted) ctx.logger.info('read stopped: aborted');
    else await session.query('COMMIT');
  } catch (e) {
    if (ctx.signal.aborted) {
      ctx.logger.info('read stopped: aborted');
      return;
    }
    throw sourceError(e, session.errorContext);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await session.close();
  }
}
