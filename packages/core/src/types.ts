/**
 * The extractor contract: what a kit is, what it yields, and how values keep their exact meaning.
 *
 * A kit only knows its source (connect, discover, read, type mapping). Everything else — batching,
 * metadata columns, bronze writing, state, retries, logging, metrics, the CLI, signals — lives in core.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';

/** Scalar logical types. See {@link LogicalType} for the JavaScript value each one carries. */
export type ScalarType =
  | 'string'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'bytes'
  | 'json'
  | 'uuid';

/** An exact decimal with a declared precision and scale, e.g. `{ decimal: [18, 4] }`. */
export interface DecimalType {
  decimal: [precision: number, scale: number];
}

/**
 * The logical type of a column and the JavaScript value every row carries for it (or `null`):
 *
 * | type          | value                                                                    |
 * |---------------|--------------------------------------------------------------------------|
 * | `string`      | `string`                                                                 |
 * | `int32`       | `number` (integer)                                                       |
 * | `int64`       | `bigint` — never a `number`, so values beyond 2^53 stay exact             |
 * | `float64`     | `number` (NaN and ±Infinity allowed)                                     |
 * | `boolean`     | `boolean`                                                                |
 * | decimal       | `string`, exact, plain notation (`"-12.3400"`), never a JS number         |
 * | `date`        | `number`: days since 1970-01-01; ±infinity as {@link DATE_POS_INFINITY}/{@link DATE_NEG_INFINITY} |
 * | `time`        | `bigint`: microseconds since midnight                                    |
 * | `timestamp`   | `bigint`: microseconds since 1970-01-01T00:00 wall clock (no zone)       |
 * | `timestamptz` | `bigint`: microseconds since 1970-01-01T00:00Z (an instant)              |
 * | `bytes`       | `Uint8Array` (a `Buffer` is fine)                                        |
 * | `json`        | `string`: the JSON text exactly as the source gave it                     |
 * | `uuid`        | `string`: canonical lower-case `8-4-4-4-12`                              |
 *
 * Timestamp ±infinity use {@link TIMESTAMP_POS_INFINITY}/{@link TIMESTAMP_NEG_INFINITY}, the same
 * sentinels PostgreSQL and DuckDB use internally, so they survive a Parquet round trip.
 */
export type LogicalType = ScalarType | DecimalType;

/** One column of a stream, in source order. */
export interface Column {
  /** Column name exactly as the source spells it (hostile names allowed). */
  name: string;
  type: LogicalType;
  nullable: boolean;
  /** The source's own type name, e.g. `numeric(18,4)`, `varchar(20)`, `NVARCHAR(MAX)`. */
  sourceType: string;
  /**
   * The PostgreSQL type the warehouse writer uses for this column, when the logical type alone would
   * lose meaning (e.g. `interval`, `inet`, unconstrained `numeric`, `jsonb`). The value must be the
   * type's text input form. Default: derived from {@link Column.type}.
   */
  warehouseType?: string;
}

/** How a stream is read on a run. */
export type SyncMode = 'full_refresh' | 'incremental';

/** A stream: a table, an endpoint, a file set, an sobject, a topic. */
export interface Stream {
  /** Unique name inside the kit, used on the command line (`run orders`) and in bronze names. */
  name: string;
  /** Where the stream lives in the source (schema, folder, topic prefix), if the source has such a thing. */
  namespace?: string;
  columns: Column[];
  primaryKey?: string[];
  /** Columns that can serve as an incremental cursor (timestamps, increasing ids). */
  cursorCandidates?: string[];
  /** The sync mode this run uses, decided by the kit from its configuration. */
  syncMode: SyncMode;
  /** The cursor columns when {@link Stream.syncMode} is `incremental`. */
  cursorField?: string[];
  /** A row estimate from the source (for progress % and ETA), when it has one. */
  rowEstimate?: number;
  /** Kit-private details (e.g. a relation OID); core never reads it. */
  source?: Record<string, unknown>;
  /**
   * The columns of the stream's quarantine output, when the kit may set records aside
   * ({@link Batch.quarantine}): typically the record's lineage, its raw form and the reason. Core
   * appends the metadata columns and lands them beside the stream — Parquet
   * `<stream>/_quarantine/part-<seq>.parquet` in the same generation, warehouse
   * `br_<stream>__quarantine` — in the same commit as the stream's rows and checkpoint.
   */
  quarantineColumns?: Column[];
}

/** A stream's state as a kit sees it: an opaque JSON value (cursor, offsets, files, page token…). */
export type StreamState = unknown;

/** A row: values in the order of the stream's columns (see {@link LogicalType} for value types). */
export type Row = unknown[];

/**
 * A batch of rows and the checkpoint that becomes true once they are stored.
 *
 * The checkpoint must be a JSON-serialisable value from which `read` can resume *after* the last row
 * of this batch. A batch without a checkpoint is not a resume point: the stream resumes from the last
 * checkpoint seen before it.
 */
export interface Batch {
  rows: Row[];
  checkpoint?: StreamState;
  /**
   * The stream's columns from this batch on, when they grew (a new field in a later file or record).
   * Must start with the previous columns, in order; new columns are appended, never dropped.
   */
  columns?: Column[];
  /**
   * Records set aside (undecodable, invalid), as rows of {@link Stream.quarantineColumns}. They are
   * stored in the same commit as this batch's rows and checkpoint, so a checkpoint never passes a
   * record that is neither in the stream nor in its quarantine, and a re-read never doubles one.
   */
  quarantine?: Row[];
}

/** What every kit operation receives from core. */
export interface Context {
  logger: Logger;
  /** Aborted on SIGTERM/SIGINT: stop reading, release resources, return. */
  signal: AbortSignal;
  /** Rows per batch (`BATCH_SIZE`). */
  batchSize: number;
  runId: string;
  /** `--partition i/n`, or a split from `kit.assign`: this process reads partition `index` of `count` (0-based). */
  partition?: Split;
  /**
   * In `read`: what every split of the stream has stored (this one included, `self`), for kits whose
   * splits can change between runs (a Kafka group that grew from 2 to 3 containers): each unit of
   * the source (a Kafka partition) resumes from the furthest split that read it. Empty on a first run.
   */
  splitStates?: SplitState[];
}

/** Part `index` of `count` (0-based) of every stream. */
export interface Split {
  index: number;
  count: number;
  /**
   * Store and name the split as a split even when `count` is 1 (`orders#0/1`, `orders/partition=0of1`):
   * a scale-out's splits, whose count may grow later, so their outputs never nest in the unsplit one.
   */
  named?: boolean;
}

/** What one split of a stream has stored (see {@link Context.splitStates}). */
export interface SplitState {
  /** The split, or undefined for the unsplit stream. */
  split?: Split;
  /** True for the split `read` reads now. */
  self: boolean;
  /** `live`: its rows are visible; `staging`: an unfinished first load or refresh, invisible. */
  phase: 'staging' | 'live';
  /** ISO time of its last commit. */
  updatedAt: string;
  /** The kit's checkpoint after its last committed rows. */
  checkpoint: StreamState;
}

/**
 * The splits a process of a scale-out was given by its source's coordination (a Kafka consumer
 * group), from {@link Kit.assign}. Core reads every stream once per split, each split with its own
 * state key and bronze output (as with `--partition i/n`).
 */
export interface Assignment {
  /** The splits to read; may be empty (more processes than splits). */
  splits: Split[];
  /**
   * Aborted when the source takes the assignment back (a process joined or left): core starts no
   * new stream, the kit's reads return at their next batch (what they read is stored), and core
   * asks {@link Assignment.next} for the new assignment.
   */
  revoked: AbortSignal;
  /** The assignment after a revocation (waits until the other processes have rejoined). */
  next(): Promise<Assignment>;
  /** Give the assignment back at the end of the run (leave the group); never throws. */
  release(): Promise<void>;
}

/** A kit's configuration spec: one zod object schema (see `config.ts` for env/secret markers). */
export interface KitConfigSpec<C> {
  schema: z.ZodType<C>;
}

/**
 * A kit: an object literal made with {@link defineKit}. `kits/<source>/src/main.ts` is
 * `await runKit(myKit)`.
 */
export interface Kit<C = unknown> {
  /** Short source name: `postgres`, `file`, `kafka`. Default for `_bronze_source`. */
  name: string;
  /** The kit's package version (the image tag). */
  version: string;
  /** zod object schema; fields carry `env`/`secret` metadata (see `envKey()`, `secret()`). */
  config: z.ZodType<C>;
  /** Connect and prove the credentials can read; throw a DatakitError otherwise. */
  check(ctx: Context, config: C): Promise<void>;
  /** List the streams with columns, logical types, keys, cursor candidates and the sync mode to use. */
  discover(ctx: Context, config: C): Promise<Stream[]>;
  /**
   * Read one stream as batches of at most `ctx.batchSize` rows. `state` is the last stored checkpoint
   * for this stream (undefined on a first run, after a reset, or when a full refresh starts anew).
   * Release every resource in `finally`; stop promptly when `ctx.signal` aborts.
   */
  read(ctx: Context, config: C, stream: Stream, state: StreamState | undefined): AsyncIterable<Batch>;
  /**
   * Optional: told each time a checkpoint of `stream` has become durable — its rows and the state
   * are stored (a commit the target made during a write, or the stream's last commit). When one
   * commit stores several batches, only its last checkpoint is passed. For side effects that must
   * never run ahead of bronze, such as mirroring stored Kafka offsets to a consumer group for lag
   * monitoring. Awaited before the next batch is read; a failure is logged as a warning and never
   * fails the stream. `stream` is the object `read` received.
   */
  stored?(ctx: Context, config: C, stream: Stream, checkpoint: StreamState): Promise<void>;
  /**
   * Optional: join the coordination of the source's consumers (a Kafka consumer group) so that
   * several processes split the work, and return this process's splits; undefined when the
   * configuration asks for none (this process reads everything). Called once per run, after
   * discover and before any state is read, never with `--partition`. `storedKeys` are the state keys
   * stored for the source (`orders`, `orders#0/2`), so the split count can follow the stored one.
   */
  assign?(ctx: Context, config: C, streams: Stream[], storedKeys: string[]): Promise<Assignment | undefined>;
}

/** Days-since-epoch sentinel for `date` +infinity (int32 max, as DuckDB encodes it). */
export const DATE_POS_INFINITY = 2147483647;
/** Days-since-epoch sentinel for `date` -infinity (int32 min; the Parquet writer stores it as DuckDB's -(2^31-1)). */
export const DATE_NEG_INFINITY = -2147483648;
/** Microseconds sentinel for `timestamp(tz)` +infinity (int64 max, as PostgreSQL and DuckDB encode it). */
export const TIMESTAMP_POS_INFINITY = 9223372036854775807n;
/** Microseconds sentinel for `timestamp(tz)` -infinity (int64 min, as PostgreSQL; the Parquet writer stores DuckDB's -(2^63-1)). */
export const TIMESTAMP_NEG_INFINITY = -9223372036854775808n;

/** Identity helper that types a kit literal. */
export function defineKit<C>(kit: Kit<C>): Kit<C> {
  return kit;
}

/** True when the logical type is a decimal. */
export function isDecimal(t: LogicalType): t is DecimalType {
  return typeof t === 'object' && t !== null && 'decimal' in t;
}

/** A readable name for a logical type: `int64`, `decimal(18,4)`. */
export function typeName(t: LogicalType): string {
  return isDecimal(t) ? `decimal(${t.decimal[0]},${t.decimal[1]})` : t;
}
