/**
 * Bronze targets: where rows land (Parquet files, a Postgres warehouse) and where state lives.
 *
 * A target owns both the data and the state of a source, so that state can only advance with (or
 * after) the data it covers: the warehouse commits both in one transaction, the Parquet target renames
 * the data files into place and fsyncs them before it rewrites the state file.
 */
import type { Logger } from 'pino';
import type { Column, Row, Stream, StreamState } from '../types.js';

/**
 * What core stores per stream. `kit` is the kit's opaque checkpoint; the rest is bronze bookkeeping.
 *
 * A stream is written into a *generation* (a directory of Parquet files, or a warehouse table). A
 * generation in phase `staging` is invisible to readers (a full refresh, or the first load of an
 * incremental stream); at the end of the read it is swapped in atomically and becomes `live`.
 * Incremental runs append to the live generation. `seq` counts the commits inside the generation: a
 * commit's output is named by it, so a retried or resumed commit overwrites instead of doubling.
 */
export interface StoredStreamState {
  /** The kit's checkpoint after the last committed rows (undefined: read from the start). */
  kit?: StreamState;
  generation: string;
  phase: 'staging' | 'live';
  /** Commits so far in this generation. */
  seq: number;
  runId: string;
  /** ISO timestamp of the commit. */
  updatedAt: string;
  /** Names of the columns of the generation, in order (schema evolution appends). */
  columns?: string[];
}

/** All stored states of one source, by stream name. */
export type SourceState = Record<string, StoredStreamState>;

/** Run-wide values every sink needs. */
export interface RunInfo {
  /** `_bronze_source`: the kit name or `BRONZE_SOURCE`. */
  source: string;
  runId: string;
  /** `_bronze_loaded_at`, one value per run (µs since epoch, UTC). */
  loadedAtMicros: bigint;
  logger: Logger;
}

/** What {@link BronzeTarget.openStream} needs to know. */
export interface OpenStreamParams {
  run: RunInfo;
  stream: Stream;
  /** The stream's columns followed by the metadata columns, in the order rows carry them. */
  columns: Column[];
  /** The quarantine output's columns (metadata columns included), when the stream has one. */
  quarantineColumns?: Column[];
  /** The stored state, if any. */
  stored?: StoredStreamState;
  /** The bronze stream name (from {@link bronzeStreamName}); the state key is `stateKey`. */
  bronzeName: string;
  /** The key this stream's state is stored under (the stream name, plus `#i/n` for partitions). */
  stateKey: string;
  /**
   * `true`: write a new staging generation (or resume the staging one in `stored`) and swap it in at
   * the end; `false`: append to the live generation in `stored`.
   */
  staged: boolean;
}

/** Counters a sink reports at the end. */
export interface SinkResult {
  rows: number;
  /** Rows of the quarantine output (not in `rows`). */
  quarantined: number;
  bytes: number;
  /** Files or tables written (paths relative to the target root, or qualified table names). */
  outputs: string[];
  /** The state stored last. */
  stored?: StoredStreamState;
}

/**
 * One stream being written. Calls are sequential (never concurrent).
 *
 * Durability contract: after `commit()` or `finish()` resolve, every row written so far is durable
 * and the state (with the last checkpoint passed to `write`) is stored. A sink may also commit on its
 * own inside `write` (when a file rolls); it then stores the checkpoint of the last row in that commit.
 */
export interface StreamSink {
  /**
   * Add rows (metadata columns included), and `quarantine` rows to the quarantine output (of
   * `quarantineColumns`). `checkpoint` is true once both are stored: they commit together.
   */
  write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean, quarantine?: Row[]): Promise<void>;
  /** The columns grew (schema evolution): later rows carry these columns. */
  evolve?(columns: Column[]): Promise<void>;
  /** Make everything written durable and store the last checkpoint (SIGTERM, end of stream). */
  commit(): Promise<void>;
  /** Commit, then make a staged generation live atomically (readers see old or new, never half). */
  finish(): Promise<SinkResult>;
  /** Drop what is not committed (error path). Never throws. */
  abort(): Promise<void>;
  /** Counters so far. */
  result(): SinkResult;
}

/** A bronze target: Parquet on a local directory (or S3), or a Postgres warehouse. */
export interface BronzeTarget {
  readonly kind: 'parquet' | 'postgres' | string;
  /** Where it writes, without secrets (for logs and the run report). */
  readonly location: string;
  /** Connect / create what is missing (schema, state table, root directory). */
  open(source: string): Promise<void>;
  /** Stored state of the source (throws `STATE.CORRUPT` when unreadable). */
  loadState(source: string): Promise<SourceState>;
  /** Forget the state of these streams (keys); their next run starts a new staged generation. */
  resetState(source: string, keys: string[]): Promise<void>;
  openStream(params: OpenStreamParams): Promise<StreamSink>;
  close(): Promise<void>;
}
