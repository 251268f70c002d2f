/**
 * The Parquet bronze target on a local directory.
 *
 * Layout (see `layout.ts`):
 * - `<root>/<source>/<bronze name>` is a symlink (relative) to the live generation
 *   `<root>/<source>/_generations/<bronze name>/<generation>/`. Readers (DuckDB, Spark, Polars) point
 *   at `<root>/<source>/<bronze name>/` and see exactly the stream's current content; everything else
 *   lives under names that start with `_` or `.`.
 * - A generation holds `part-<seq, 6 digits>.parquet`, one file per commit, named by the commit
 *   counter `seq` of the state: a commit re-done after a crash overwrites instead of duplicating.
 *   Opening a stream deletes files with `seq >=` the stored `seq` (orphans of a crash) and temp files.
 * - The state of every stream of a source is `<root>/_state/<source>.json` (see `state.ts`), saved
 *   only after the data files it covers are renamed into place and fsynced.
 *
 * Semantics:
 * - Staged (full refresh, first load): a new generation (`20261124T090102Z-a1b2`), or the staging
 *   one in the stored state, resumed with its `seq`. `finish()` swaps it in atomically — a new
 *   symlink renamed over the live one, parent directory fsynced — then stores phase `live` and
 *   removes the superseded generation. A stream with no rows becomes an empty generation directory.
 * - Append (incremental): files are added to the stored live generation; a missing generation
 *   directory is `STATE.CORRUPT`.
 * - Files roll at `rollRows` rows or `rollBytes` bytes; each roll is a commit (see `sink.ts`).
 * - Schema evolution finishes the current file; later files carry the wider schema (readers unite
 *   them by name, e.g. DuckDB `union_by_name`).
 */
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatakitError } from '../../errors.js';
import type { BronzeTarget, OpenStreamParams, SourceState, StreamSink } from '../types.js';
import { codecSetup, DEFAULT_PARQUET_COMPRESSION, type ParquetCompression } from './compression.js';
import { DEFAULT_ROW_GROUP_ROWS } from './file-writer.js';
import { writeFailed } from './fs.js';
import { newGenerationId, removeOrphans, StreamLayout } from './layout.js';
import { ParquetStreamSink } from './sink.js';
import { readSourceState, removeStreamStates, STATE_DIR } from './state.js';

/** Options of {@link ParquetTarget}. */
export interface ParquetTargetOptions {
  /** The root directory (absolute, or relative to the working directory). */
  root: string;
  /** Rows per file before the next one starts (each file is a commit). @default 1_000_000 */
  rollRows?: number;
  /** Encoded bytes per file before the next one starts. @default 268435456 (256 MiB) */
  rollBytes?: number;
  /** Rows per row group: bounds the rows held in memory. @default 16384 */
  rowGroupRows?: number;
  /** Page compression. @default 'zstd' */
  compression?: ParquetCompression;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new DatakitError('CONFIG.INVALID', `Parquet target: ${name} must be a positive integer, got ${v}`);
  return v;
}

function checkSource(source: string): void {
  // eslint-disable-next-line no-control-regex
  if (!source || /[/\\\u0000-\u001f]/.test(source) || source.startsWith('.') || source.startsWith('_')) {
    throw new DatakitError('CONFIG.INVALID', `bronze source ${JSON.stringify(source)} cannot name a directory of the Parquet root`, {
      fix: 'set BRONZE_SOURCE to a name without /, \\ or control characters that does not start with . or _',
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * A bronze target writing Parquet files under a local directory (see the module comment for the
 * layout and the commit rules).
 *
 * @example
 * const target = new ParquetTarget({ root: '/data/bronze' });
 * await target.open('postgres');
 * const states = await target.loadState('postgres');
 */
export class ParquetTarget implements BronzeTarget {
  readonly kind = 'parquet';
  /** `file://<root>` */
  readonly location: string;
  /** The absolute root directory. */
  readonly root: string;
  private readonly rollRows: number;
  private readonly rollBytes: number;
  private readonly rowGroupRows: number;
  private readonly compression: ParquetCompression;
  private readonly sinks = new Set<ParquetStreamSink>();

  constructor(options: ParquetTargetOptions) {
    this.root = resolve(options.root);
    this.location = `file://${this.root}`;
    this.rollRows = positive('rollRows', options.rollRows, 1_000_000);
    this.rollBytes = positive('rollBytes', options.rollBytes, 256 * 1024 * 1024);
    this.rowGroupRows = positive('rowGroupRows', options.rowGroupRows, DEFAULT_ROW_GROUP_ROWS);
    this.compression = options.compression ?? DEFAULT_PARQUET_COMPRESSION;
    codecSetup(this.compression);
  }

  /** Create the root, its state directory and the source directory when missing. */
  async open(source: string): Promise<void> {
    checkSource(source);
    for (const dir of [join(this.root, STATE_DIR), join(this.root, source)]) {
      await mkdir(dir, { recursive: true }).catch((e: unknown) => {
        throw new DatakitError('BRONZE.UNREACHABLE', `cannot create ${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: false });
      });
    }
  }

  async loadState(source: string): Promise<SourceState> {
    checkSource(source);
    return readSourceState(this.root, source);
  }

  /** Forget these streams' states; their staging generations are removed when they next start. */
  async resetState(source: string, keys: string[]): Promise<void> {
    checkSource(source);
    await removeStreamStates(this.root, source, keys);
  }

  async openStream(params: OpenStreamParams): Promise<StreamSink> {
    const { stored, stateKey, staged } = params;
    const source = params.run.source;
    checkSource(source);
    const layout = new StreamLayout(this.root, source, params.bronzeName);
    const fix = `run --state-reset ${stateKey}`;
    // refuses a real directory in place of the live link before anything is written
    const live = await layout.liveGeneration();
    let setup: { generation: string; seq: number; kit: unknown; created: boolean };
    if (staged && stored?.phase === 'staging') {
      const dir = layout.generationDir(stored.generation);
      if (!(await exists(dir))) throw new DatakitError('STATE.CORRUPT', `the state resumes staging generation ${stored.generation} but ${dir} is missing`, { where: { stream: stateKey }, fix });
      await this.dropOrphans(params, dir, stored.seq);
      await layout.sweep([live, stored.generation]);
      setup = { generation: stored.generation, seq: stored.seq, kit: stored.kit, created: false };
    } else if (staged) {
      const generation = newGenerationId();
      await layout.sweep([live]);
      await mkdir(layout.generationDir(generation), { recursive: true }).catch((e: unknown) => {
        throw writeFailed(`creating ${layout.generationDir(generation)}`, e);
      });
      setup = { generation, seq: 0, kit: undefined, created: true };
    } else {
      if (!stored || stored.phase !== 'live') {
        throw new DatakitError('INTERNAL.ERROR', `stream ${stateKey}: append requested without a live generation in the state`);
      }
      const dir = layout.generationDir(stored.generation);
      if (!(await exists(dir))) throw new DatakitError('STATE.CORRUPT', `the state appends to generation ${stored.generation} but ${dir} is missing`, { where: { stream: stateKey }, fix });
      if (live !== stored.generation) {
        throw new DatakitError('STATE.CORRUPT', `the state appends to generation ${stored.generation} but ${layout.link} points at ${live ?? 'no generation'}`, { where: { stream: stateKey }, fix });
      }
      await this.dropOrphans(params, dir, stored.seq);
      setup = { generation: stored.generation, seq: stored.seq, kit: stored.kit, created: false };
    }
    const sink: ParquetStreamSink = new ParquetStreamSink({
      layout,
      params,
      ...setup,
      rollRows: this.rollRows,
      rollBytes: this.rollBytes,
      rowGroupRows: this.rowGroupRows,
      compression: this.compression,
      onDone: () => this.sinks.delete(sink),
    });
    this.sinks.add(sink);
    return sink;
  }

  private async dropOrphans(params: OpenStreamParams, dir: string, seq: number): Promise<void> {
    const removed = await removeOrphans(dir, seq);
    if (removed.length) params.run.logger.info({ stream: params.stateKey, removed }, 'removed files of commits that were never stored (an interrupted run)');
  }

  /** Abort any unfinished stream. */
  async close(): Promise<void> {
    for (const sink of [...this.sinks]) await sink.abort();
  }
}

/**
 * The Parquet target of a `file:///abs/path` URL or a plain path (what `BRONZE_URL` selects).
 *
 * @example
 * parquetTargetFromUrl('file:///data/bronze', { rollRows: 500_000 });
 */
export function parquetTargetFromUrl(url: string, options: Omit<ParquetTargetOptions, 'root'> = {}): ParquetTarget {
  let root: string;
  if (/^file:/i.test(url)) {
    try {
      root = fileURLToPath(url);
    } catch (e) {
      // `file://relative/dir` has a host part; take it as a relative path rather than refuse it
      const rest = url.replace(/^file:(\/\/)?/i, '');
      if (!rest) throw new DatakitError('CONFIG.INVALID', `BRONZE_URL ${url} names no directory`, { cause: e, fix: 'use file:///absolute/path' });
      root = rest;
    }
  } else root = url;
  if (!root) throw new DatakitError('CONFIG.INVALID', 'the Parquet root directory is empty', { fix: 'use file:///absolute/path' });
  return new ParquetTarget({ ...options, root });
}
