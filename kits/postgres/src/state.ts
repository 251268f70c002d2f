/**
 * The postgres kit's checkpoints. Positions are the server's own text output of the key columns
 * (JSON-safe and exact for every type: bigint, numeric, timestamps to the microsecond, text in any
 * collation); a read rebuilds them into literals cast to the column's type.
 */
import { DatakitError } from '@datakit/core';
import { z } from 'zod';

const partitionSpec = z.discriminatedUnion('by', [
  z.object({ by: z.literal('range'), lo: z.string().nullable(), hi: z.string().nullable(), empty: z.boolean().optional() }),
  z.object({ by: z.literal('hash') }),
]);

const fullState = z.object({
  mode: z.literal('full'),
  /** Text of the primary key columns of the last row stored, in key order. */
  lastPk: z.array(z.string()).min(1),
  /** The partition of a `--partition i/n` run, so a resume keeps its range. */
  partition: partitionSpec.optional(),
});

const incrementalState = z.object({
  mode: z.literal('incremental'),
  /** The cursor column the position belongs to. */
  field: z.string(),
  /** Text of the cursor of the last row stored. */
  cursor: z.string(),
  /** Text of its primary key columns (the tie-breaker; empty without a key). */
  pk: z.array(z.string()),
});

/** A full-refresh position: resume after `lastPk` (in a new snapshot). */
export type FullState = z.infer<typeof fullState>;
/** An incremental position: resume after `(cursor, pk…)`. */
export type IncrementalState = z.infer<typeof incrementalState>;
/** Either checkpoint. */
export type PostgresState = FullState | IncrementalState;

const stateSchema = z.discriminatedUnion('mode', [fullState, incrementalState]);

/** What the stream expects of a stored state. */
export interface StateShape {
  stream: string;
  /** `incremental` with its cursor column, or `full`. */
  mode: 'full' | 'incremental';
  cursorField?: string;
  /** Number of key texts the state must hold (pk columns; for incremental, the tie-breakers). */
  keys: number;
}

function corrupt(shape: StateShape, reason: string): DatakitError {
  return new DatakitError('STATE.CORRUPT', `stored state ${reason}`, {
    where: { kit: 'postgres', stream: shape.stream },
    fix: `reset it with \`run --state-reset ${shape.stream}\` (the stream reloads fully)`,
  });
}

/**
 * Validate a stored state against the stream as configured now; undefined when there is none.
 * Throws `STATE.CORRUPT` naming the mismatch (another cursor column, a changed key, garbage).
 */
export function parseState(state: unknown, shape: StateShape): PostgresState | undefined {
  if (state === undefined || state === null) return undefined;
  const parsed = stateSchema.safeParse(state);
  if (!parsed.success) throw corrupt(shape, 'is not a postgres position ({ mode: "full" | "incremental", … })');
  const s = parsed.data;
  if (s.mode !== shape.mode) {
    throw corrupt(shape, `is a ${s.mode === 'full' ? 'full-refresh' : 'incremental'} position but the stream is now ${shape.mode === 'full' ? 'a full refresh' : 'incremental'} (CURSOR_FIELDS changed?)`);
  }
  if (s.mode === 'incremental' && s.field !== shape.cursorField) {
    throw corrupt(shape, `belongs to cursor column ${JSON.stringify(s.field)}, not ${JSON.stringify(shape.cursorField)}`);
  }
  const keys = s.mode === 'full' ? s.lastPk.length : s.pk.length;
  if (keys !== shape.keys) throw corrupt(shape, `holds ${keys} key values but the stream's key has ${shape.keys} (the primary key changed?)`);
  return s;
}
