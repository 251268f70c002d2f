/**
 * The runner: for each selected stream, read batches from the kit, add the metadata columns, hand
 * them to the bronze sink (which stores state only after the data is durable), log progress, count
 * metrics, retry retriable failures from the last checkpoint, and stop cleanly on SIGTERM/SIGINT.
 */
import type { Logger } from 'pino';
import type { BronzeTarget, RunInfo, SinkResult, SourceState, StoredStreamState } from './bronze/types.js';
import { DatakitError, toDatakitError, type ErrorCode } from './errors.js';
import { withRetries } from './retry.js';
import type { RunMetrics } from './metrics.js';
import { bronzeStreamName, partitionBronzeName, splitOfKey, stateKey } from './naming.js';
import type { RuntimeSettings } from './runtime.js';
import { readEstimate, startProgress } from './progress.js';
import type { Column, Context, Kit, Row, SplitState, Stream, StreamState } from './types.js';

/** The metadata columns core appends to every row, in this order. */
export const METADATA_COLUMNS: readonly Column[] = [
  { name: '_bronze_loaded_at', type: 'timestamptz', nullable: false, sourceType: 'datakit' },
  { name: '_bronze_source', type: 'string', nullable: false, sourceType: 'datakit' },
  { name: '_bronze_run_id', type: 'string', nullable: false, sourceType: 'datakit' },
];

/**
 * A row of `width` values (all `undefined`) with room for the metadata columns the runner appends:
 * V8 then never regrows it (a 12-value row pushed to 15 moves to a 34-slot store, twice the memory).
 */
export function newRow(width: number, fill: unknown = undefined): unknown[] {
  const row: unknown[] = new Array(width + METADATA_COLUMNS.length);
  row.length = width; // shortening by a few slots keeps the store (V8 trims only below half)
  if (fill !== undefined) row.fill(fill);
  return row;
}

/** One stream's line in the run report. */
export interface StreamReport {
  stream: string;
  mode: Stream['syncMode'];
  status: 'succeeded' | 'failed' | 'interrupted';
  rows: number;
  /** Rows set aside in the stream's quarantine output (see `Batch.quarantine`), when any. */
  quarantined?: number;
  bytes: number;
  outputs: string[];
  durationSeconds: number;
  state?: StoredStreamState;
  /** Columns that appeared during the run (schema evolution). */
  newColumns?: string[];
  error?: { code: ErrorCode; message: string };
}

export interface RunStreamsParams<C> {
  kit: Kit<C>;
  config: C;
  runtime: RuntimeSettings;
  ctx: Context;
  target: BronzeTarget;
  run: RunInfo;
  streams: Stream[];
  states: SourceState;
  metrics: RunMetrics;
  /** A scale-out's assignment was taken back: start no further stream. */
  revoked?: AbortSignal;
}

/** Run the selected streams one after another; never throws for a stream failure (see the report). */
export async function runStreams<C>(p: RunStreamsParams<C>): Promise<StreamReport[]> {
  const reports: StreamReport[] = [];
  for (const stream of p.streams) {
    if (p.ctx.signal.aborted || p.revoked?.aborted) break;
    reports.push(await runStream(p, stream));
  }
  return reports;
}

async function runStream<C>(p: RunStreamsParams<C>, stream: Stream): Promise<StreamReport> {
  const { kit, ctx, metrics } = p;
  const started = Date.now();
  const key = stateKey(stream.name, ctx.partition);
  const stored = p.states[key];
  const log: Logger = ctx.logger.child({ stream: stream.name });
  const streamCtx: Context = { ...ctx, logger: log, splitStates: splitStates(p.states, stream.name, key) };
  // A full refresh resumes only an unfinished staging generation; an incremental stream resumes
  // from its live checkpoint, or its unfinished first load.
  const staged = stream.syncMode === 'full_refresh' || stored?.phase !== 'live';
  const resumeFrom: StreamState | undefined = stored && (stream.syncMode === 'incremental' || stored.phase === 'staging') ? stored.kit : undefined;
  let columns = [...stream.columns, ...METADATA_COLUMNS];
  const quarantineColumns = stream.quarantineColumns && [...stream.quarantineColumns, ...METADATA_COLUMNS];
  const newColumns: string[] = [];
  log.info({ mode: stream.syncMode, staged, resume: resumeFrom !== undefined, generation: stored?.generation }, 'stream started');

  const sink = await p.target.openStream({ run: p.run, stream, columns, ...(quarantineColumns ? { quarantineColumns } : {}), stored, bronzeName: partitionBronzeName(bronzeStreamName(stream.name), ctx.partition), stateKey: key, staged });
  let rows = 0;
  const estimate = readEstimate(stream, resumeFrom, ctx.partition);
  const progress = startProgress(log, { intervalMs: p.runtime.progressIntervalMs, rows: () => rows, ...(estimate !== undefined ? { estimate } : {}) });
  const meta = [p.run.loadedAtMicros, p.run.source, p.run.runId];
  let checkpoint = resumeFrom;
  let uncheckpointed = 0;
  let result: SinkResult | undefined;
  let lastStored = stored;
  /** Tell the kit (`kit.stored`) about a checkpoint the sink has stored since the last call. */
  const notifyStored = async (): Promise<void> => {
    if (!kit.stored) return;
    const now = sink.result().stored;
    if (!now || now === lastStored || now.kit === undefined) return;
    lastStored = now;
    try {
      await kit.stored(streamCtx, p.config, stream, now.kit);
    } catch (e) {
      log.warn({ err: toDatakitError(e).describe() }, 'the kit could not act on a stored checkpoint (bronze is unaffected)');
    }
  };
  try {
    await withRetries(
      async () => {
        const held = sink.result().rows;
        if (held < rows) {
          // the sink dropped rows it had not committed (its transaction failed): read again from
          // the checkpoint it did store, this run's or the one the stream resumed from
          const now = sink.result().stored;
          checkpoint = now && now.runId === p.run.runId ? now.kit : resumeFrom;
          log.info({ rows: rows - held }, 'the target dropped uncommitted rows: reading them again from its stored checkpoint');
          rows = held;
          uncheckpointed = 0;
        }
        for await (const batch of kit.read(streamCtx, p.config, stream, checkpoint)) {
          if (batch.columns) {
            const added = batch.columns.slice(stream.columns.length + newColumns.length);
            if (added.length) {
              newColumns.push(...added.map((c) => c.name));
              columns = [...batch.columns, ...METADATA_COLUMNS];
              log.info({ columns: added.map((c) => c.name) }, 'new columns');
              if (!sink.evolve) throw new DatakitError('BRONZE.WRITE_FAILED', `the ${p.target.kind} target cannot add columns`);
              await sink.evolve(columns);
            }
          }
          addMetadata(batch.rows, columns.length - METADATA_COLUMNS.length, meta);
          const { quarantine } = batch;
          if (quarantine?.length) {
            if (!quarantineColumns) throw new DatakitError('INTERNAL.ERROR', `kit yielded quarantined records for stream ${stream.name}, which declares no quarantineColumns`);
            addMetadata(quarantine, quarantineColumns.length - METADATA_COLUMNS.length, meta);
          }
          const has = batch.checkpoint !== undefined;
          await sink.write(batch.rows, batch.checkpoint, has, quarantine);
          await notifyStored();
          rows += batch.rows.length;
          if (has) {
            checkpoint = batch.checkpoint;
            uncheckpointed = 0;
          } else uncheckpointed += batch.rows.length;
          if (ctx.signal.aborted) break;
        }
      },
      {
        maxRetries: p.runtime.maxRetries,
        logger: log,
        what: `stream ${stream.name}`,
        signal: ctx.signal,
        // rows without a checkpoint are already in the sink: re-reading would double them
        retryIf: () => uncheckpointed === 0,
      },
    );
    if (ctx.signal.aborted) {
      await sink.commit();
      await notifyStored();
      result = sink.result();
      log.warn({ rows }, 'stream interrupted: stored the rows read so far and their checkpoint');
      return finish('interrupted');
    }
    result = await sink.finish();
    await notifyStored();
    return finish('succeeded');
  } catch (e) {
    if (ctx.signal.aborted && !(e instanceof DatakitError && e.code.startsWith('DATA.'))) {
      // the kit stopped because of the abort: keep what was stored
      await sink.commit().catch(() => sink.abort());
      result = sink.result();
      return finish('interrupted');
    }
    await sink.abort();
    const err = toDatakitError(e).withWhere({ kit: kit.name, stream: stream.name });
    log.error({ code: err.code, err: err.describe() }, 'stream failed');
    result = sink.result();
    return finish('failed', err);
  } finally {
    progress.stop();
  }

  function finish(status: StreamReport['status'], err?: DatakitError): StreamReport {
    const durationSeconds = (Date.now() - started) / 1000;
    const r = result ?? sink.result();
    metrics.extractions.inc({ kit: kit.name, stream: stream.name, status });
    metrics.duration.observe({ kit: kit.name, stream: stream.name }, durationSeconds);
    metrics.rows.inc({ kit: kit.name, stream: stream.name }, r.rows);
    if (r.quarantined) metrics.quarantined.inc({ kit: kit.name, stream: stream.name }, r.quarantined);
    metrics.bytes.inc({ kit: kit.name, stream: stream.name }, r.bytes);
    if (status === 'succeeded') log.info({ rows: r.rows, ...(r.quarantined ? { quarantined: r.quarantined } : {}), bytes: r.bytes, durationSeconds }, 'stream finished');
    return {
      stream: stream.name,
      mode: stream.syncMode,
      status,
      rows: r.rows,
      ...(r.quarantined ? { quarantined: r.quarantined } : {}),
      bytes: r.bytes,
      outputs: r.outputs,
      durationSeconds,
      ...(r.stored ? { state: r.stored } : {}),
      ...(newColumns.length ? { newColumns } : {}),
      ...(err ? { error: { code: err.code, message: err.describe() } } : {}),
    };
  }
}

/** Check each row has `width` values and append the run's metadata values to it. */
function addMetadata(rows: Row[], width: number, meta: readonly unknown[]): void {
  for (const row of rows) {
    if (row.length !== width) throw new DatakitError('INTERNAL.ERROR', `kit yielded a row with ${row.length} values for ${width} columns`);
    row.push(meta[0], meta[1], meta[2]);
  }
}

/** What every split of a stream has stored (see `Context.splitStates`). */
export function splitStates(states: SourceState, stream: string, key: string): SplitState[] {
  const out: SplitState[] = [];
  for (const [k, s] of Object.entries(states)) {
    const of = splitOfKey(stream, k);
    if (!of) continue;
    out.push({ ...of, self: k === key, phase: s.phase, updatedAt: s.updatedAt, checkpoint: s.kit });
  }
  return out;
}

/** Turn `*` patterns into a matcher. */
function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Pick the streams to run: those named on the command line (each must exist), else every discovered
 * stream matching `include` and not `exclude`.
 */
export function selectStreams(all: Stream[], names: string[], include?: string[], exclude?: string[]): Stream[] {
  if (names.length) {
    const byName = new Map(all.map((s) => [s.name, s]));
    return names.map((n) => {
      const s = byName.get(n);
      if (!s) {
        const known = all.map((x) => x.name).slice(0, 20).join(', ');
        throw new DatakitError('CONFIG.UNKNOWN_STREAM', `unknown stream "${n}"; the source has: ${known || '(none)'}`, { fix: 'run `discover` to list the streams' });
      }
      return s;
    });
  }
  const inc = include?.length ? include.map(globToRegExp) : undefined;
  const exc = (exclude ?? []).map(globToRegExp);
  return all.filter((s) => (!inc || inc.some((r) => r.test(s.name))) && !exc.some((r) => r.test(s.name)));
}
