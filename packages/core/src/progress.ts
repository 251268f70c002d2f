/**
 * Progress of a long stream: a line at a fixed interval (`PROGRESS_INTERVAL_MS`) with rows, rows/s,
 * and — only when the source's estimate describes what this read covers — percent and ETA.
 */
import type { Logger } from 'pino';
import type { Stream, StreamState } from './types.js';

/** The fields of one progress line. */
export interface ProgressFields {
  rows: number;
  rowsPerSecond: number;
  elapsedSeconds: number;
  /** Only with an estimate of the rows of this read. */
  percent?: number;
  /** Only with an estimate and a non-zero rate. */
  etaSeconds?: number;
}

/**
 * The fields of a progress line after `rows` rows in `elapsedMs`, given `estimate` rows for the read.
 * @example progressFields(500, 10_000, 1000) // { rows: 500, rowsPerSecond: 50, elapsedSeconds: 10, percent: 50, etaSeconds: 10 }
 */
export function progressFields(rows: number, elapsedMs: number, estimate?: number): ProgressFields {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? Math.round(rows / secs) : 0;
  const fields: ProgressFields = { rows, rowsPerSecond: rate, elapsedSeconds: Math.round(secs) };
  if (estimate !== undefined && estimate > 0) {
    fields.percent = Math.min(100, Math.round((rows / estimate) * 1000) / 10);
    if (rate > 0) fields.etaSeconds = Math.max(0, Math.round((estimate - rows) / rate));
  }
  return fields;
}

/**
 * The number of rows this read is expected to return, or undefined when the source's estimate
 * ({@link Stream.rowEstimate}, the whole stream) does not describe it: a read resumed from a
 * checkpoint (an incremental run, a resumed full refresh) reads an unknown part of the stream, and a
 * partition reads one key range of it.
 */
export function readEstimate(stream: Stream, resumeFrom: StreamState | undefined, partition?: { index: number; count: number }): number | undefined {
  if (resumeFrom !== undefined || (partition && partition.count > 1)) return undefined;
  return stream.rowEstimate;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** Milliseconds between lines. */
  intervalMs: number;
  /** Rows stored so far. */
  rows: () => number;
  /** Rows this read is expected to return (see {@link readEstimate}). */
  estimate?: number;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

/**
 * Log `progress` every `intervalMs` until `stop()`; the timer never keeps the process alive.
 * @example const p = startProgress(log, { intervalMs: 10_000, rows: () => rows }); … p.stop();
 */
export function startProgress(log: Logger, opts: ProgressOptions): { stop(): void } {
  const now = opts.now ?? Date.now;
  const started = now();
  const timer = setInterval(() => log.info(progressFields(opts.rows(), now() - started, opts.estimate), 'progress'), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
