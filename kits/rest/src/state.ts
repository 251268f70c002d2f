/**
 * The stream checkpoint: plain JSON, stored by core only after the rows it covers are durable.
 *
 * ```json
 * { "v": 1,
 *   "cursor": "2024-05-01T10:00:00Z", "keys": ["42"],          // root stream: cursor + PKs at it
 *   "parents": { "7": { "cursor": "2024-05-01T09:00:00Z" } },   // child stream: per-parent cursors
 *   "pass": "b51c0f2e",                                         // unfinished pass over the parents
 *   "progress": { "key": "7", "page": { "token": "abc" }, "pages": 3, "max": "…" },  // mid-partition
 *   "columns": [["id", "int64", "json:integer"], …] }           // inferred columns, in order
 * ```
 */
import { DatakitError } from '@datakit/core';
import { z } from 'zod';
import type { StoredColumn } from './columns.js';
import type { PagePosition } from './paginate.js';

/** A cursor and the primary keys of the records exactly at it (so ties are neither lost nor doubled). */
export interface CursorState {
  cursor?: string;
  keys?: string[];
}

/** Where an unfinished partition (the root, or one parent) stands. */
export interface Progress {
  /** The parent's key (child streams). */
  key?: string;
  /** The range start sent on this pass (non-windowed incremental). */
  from?: string;
  /** Windowed: the end of the last window of this pass, and the start of the current one (ISO). */
  until?: string;
  window?: string;
  /** The next page to request. */
  page?: PagePosition;
  /** Pages read so far in this partition. */
  pages?: number;
  /** Highest cursor value seen in this pass, and the primary keys at it. */
  max?: string;
  maxKeys?: string[];
}

/** The rest kit's checkpoint of a stream. */
export interface RestState extends CursorState {
  v: 1;
  columns?: StoredColumn[];
  parents?: Record<string, CursorState & { pass?: string }>;
  pass?: string;
  progress?: Progress;
}

const position = z.union([
  z.object({ offset: z.number() }),
  z.object({ page: z.number(), seen: z.number().optional() }),
  z.object({ token: z.string() }),
  z.object({ url: z.string() }),
]);
const cursorState = { cursor: z.string().optional(), keys: z.array(z.string()).optional() };
const stateSchema = z.object({
  v: z.literal(1),
  ...cursorState,
  columns: z.array(z.tuple([z.string(), z.string(), z.string()])).optional(),
  parents: z.record(z.string(), z.object({ ...cursorState, pass: z.string().optional() })).optional(),
  pass: z.string().optional(),
  progress: z
    .object({
      key: z.string().optional(),
      from: z.string().optional(),
      until: z.string().optional(),
      window: z.string().optional(),
      page: position.optional(),
      pages: z.number().optional(),
      max: z.string().optional(),
      maxKeys: z.array(z.string()).optional(),
    })
    .optional(),
});

/** Read a stored checkpoint (undefined → a fresh state); throws `STATE.CORRUPT` when it is not ours. */
export function parseState(stream: string, stored: unknown): RestState {
  if (stored === undefined || stored === null) return { v: 1 };
  const parsed = stateSchema.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DatakitError('STATE.CORRUPT', `the stored checkpoint is not a rest kit checkpoint (${issue.path.join('.') || 'root'}: ${issue.message})`, {
      where: { kit: 'rest', stream },
      fix: `reset it with \`run --state-reset ${stream}\``,
    });
  }
  return parsed.data as RestState;
}

/** A deep copy safe to hand to core (later mutations of the live state do not leak into it). */
export function snapshot(state: RestState, columns: StoredColumn[]): RestState {
  const copy = structuredClone(state);
  if (columns.length) copy.columns = columns;
  else delete copy.columns;
  return copy;
}

/** Most primary keys remembered at one cursor value (beyond that, ties at the boundary may re-read). */
export const MAX_BOUNDARY_KEYS = 1000;
