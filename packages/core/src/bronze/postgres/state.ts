/**
 * Stream state in the warehouse: one row per (source, stream key) in `<schema>._datakit_state`.
 *
 * The whole {@link StoredStreamState} is the `state` jsonb, written with {@link stringifyExact} so a
 * bigint in a kit checkpoint is stored as an exact JSON number (jsonb keeps numbers as `numeric`).
 * It is read back as `state::text` and parsed with {@link parseExactJson}: integers beyond 2^53 come
 * back as `bigint`, every other number as a `number`. Kits that need a big integer in a checkpoint
 * should still prefer a string (portable across targets); a bigint round-trips exactly here.
 */
import { DatakitError } from '../../errors.js';
import { quoteIdent } from '../../naming.js';
import { stringifyExact } from '../../values.js';
import type { SourceState, StoredStreamState } from '../types.js';
import { qualified, type Queryable } from './sql.js';

/** The state table's name inside the target schema. */
export const STATE_TABLE = '_datakit_state';

/** `CREATE TABLE IF NOT EXISTS` of the state table. */
export function createStateTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, STATE_TABLE)} (
    source text NOT NULL,
    stream text NOT NULL,
    state jsonb NOT NULL,
    run_id text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream))`;
}

/** Context of JSON.parse's reviver (ES2025 "JSON.parse source text access", Node ≥ 21). */
interface ReviverContext {
  source?: string;
}

/** JSON.parse that keeps integers beyond 2^53 exact, as `bigint`. */
export function parseExactJson(text: string): unknown {
  return JSON.parse(text, function (_key: string, value: unknown, context?: ReviverContext) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    return value;
  });
}

function corrupt(stream: string, reason: string, cause?: unknown): DatakitError {
  return new DatakitError('STATE.CORRUPT', `stored state of stream ${stream} in the warehouse is unreadable: ${reason}`, {
    ...(cause !== undefined ? { cause } : {}),
    where: { stream },
    fix: `run --state-reset ${stream}`,
  });
}

/** Parse and validate one stored state (`STATE.CORRUPT` when it is not one). */
export function parseStoredState(text: string, stream: string): StoredStreamState {
  let v: unknown;
  try {
    v = parseExactJson(text);
  } catch (e) {
    throw corrupt(stream, 'not JSON', e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(stream, 'not an object');
  const s = v as Record<string, unknown>;
  if (typeof s.generation !== 'string' || !s.generation) throw corrupt(stream, '"generation" is not a string');
  if (s.phase !== 'staging' && s.phase !== 'live') throw corrupt(stream, '"phase" is not "staging" or "live"');
  if (typeof s.seq !== 'number' || !Number.isSafeInteger(s.seq) || s.seq < 0) throw corrupt(stream, '"seq" is not a count');
  if (typeof s.runId !== 'string') throw corrupt(stream, '"runId" is not a string');
  if (typeof s.updatedAt !== 'string') throw corrupt(stream, '"updatedAt" is not a string');
  if (s.columns !== undefined && !(Array.isArray(s.columns) && s.columns.every((c) => typeof c === 'string'))) throw corrupt(stream, '"columns" is not a list of names');
  return s as unknown as StoredStreamState;
}

/** Every stored state of a source, by stream key. */
export async function loadStates(q: Queryable, schema: string, source: string): Promise<SourceState> {
  const r = await q.query<{ stream: string; state: string }>(`SELECT stream, state::text AS state FROM ${qualified(schema, STATE_TABLE)} WHERE source = $1 ORDER BY stream`, [source]);
  const out: SourceState = {};
  for (const row of r.rows) out[row.stream] = parseStoredState(row.state, row.stream);
  return out;
}

/** Insert or replace one stream's state. */
export async function upsertState(q: Queryable, schema: string, source: string, key: string, state: StoredStreamState): Promise<void> {
  await q.query(
    `INSERT INTO ${qualified(schema, STATE_TABLE)} (source, stream, state, run_id, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5::timestamptz)
     ON CONFLICT (source, stream) DO UPDATE SET state = excluded.state, run_id = excluded.run_id, updated_at = excluded.updated_at`,
    [source, key, stringifyExact(state), state.runId, state.updatedAt],
  );
}

/** Delete the states of these stream keys. */
export async function deleteStates(q: Queryable, schema: string, source: string, keys: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM ${qualified(schema, STATE_TABLE)} WHERE source = $1 AND stream = ANY($2::text[])`, [source, [...keys]]);
}

/** `CREATE SCHEMA IF NOT EXISTS` (only run when the schema is missing: it needs CREATE on the database). */
export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
}
