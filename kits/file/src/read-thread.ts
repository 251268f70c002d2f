/**
 * Reading in a worker thread. Parsing and converting a file is CPU work, and so is encoding Parquet
 * in core: in one thread they take turns, with a worker they overlap on two cores (the bronze write
 * of one batch runs while the next is parsed). The worker runs the same `readStream`; batches come
 * back by structured clone (bigints, bytes and strings survive exactly), at most
 * {@link IN_FLIGHT} batches' worth of rows ahead of the consumer, so memory stays bounded. Batches are
 * at most {@link PIECE_ROWS} rows, whatever `BATCH_SIZE` says: rows held until a batch of 10,000 is
 * full (and deserialized all at once on this side) outgrew the young generation, and the collector
 * spent its time copying what it could not free. Logs are forwarded to the
 * run's logger; an early stop or an abort ends the worker's read through its `finally` (files and
 * connections closed) before the thread exits.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DatakitError, type Batch, type Context, type ErrorCode, type Stream, type StreamState } from '@datakit/core';
import type { FileKitConfig } from './config.js';

/** Batches (of `BATCH_SIZE` rows) the worker may read ahead of the consumer. */
export const IN_FLIGHT = 2;
/** Rows per batch from the worker (at most `BATCH_SIZE`). */
export const PIECE_ROWS = 256;

/** What the main thread hands the worker. */
export interface WorkerInput {
  config: FileKitConfig;
  stream: Stream;
  state: StreamState | undefined;
  batchSize: number;
  runId: string;
  partition?: { index: number; count: number };
  logLevel: string;
}

/** Messages from the worker. */
export type WorkerMessage =
  | { t: 'batch'; batch: Batch }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
  | { t: 'error'; error: { name: string; message: string; code?: string; where?: Record<string, unknown>; fix?: string; retriable?: boolean; stack?: string } }
  | { t: 'end' };

/** The compiled worker script, when this module runs from `dist` (tests on sources read in-thread). */
export function workerScript(): URL | undefined {
  const url = new URL('./read-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

function rebuild(e: Extract<WorkerMessage, { t: 'error' }>['error']): Error {
  if (e.name === 'DatakitError' && e.code) {
    const err = new DatakitError(e.code as ErrorCode, e.message, { ...(e.where ? { where: e.where } : {}), ...(e.fix ? { fix: e.fix } : {}), ...(e.retriable !== undefined ? { retriable: e.retriable } : {}) });
    if (e.stack) err.stack = e.stack;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/**
 * `readStream` in a worker thread (see the module comment).
 * @example for await (const batch of readInThread(script, ctx, config, stream, state)) …
 */
export async function* readInThread(script: URL, ctx: Context, config: FileKitConfig, stream: Stream, state: StreamState | undefined): AsyncIterable<Batch> {
  const input: WorkerInput = { config, stream, state, batchSize: ctx.batchSize, runId: ctx.runId, ...(ctx.partition ? { partition: ctx.partition } : {}), logLevel: ctx.logger.level };
  const worker = new Worker(script, { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32 } });
  const inbox: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let exited = false;
  const deliver = (m: WorkerMessage): void => {
    inbox.push(m);
    wake?.();
  };
  worker.on('message', deliver);
  worker.on('error', (e) => deliver({ t: 'error', error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } }));
  worker.on('exit', (code) => {
    exited = true;
    deliver(code === 0 ? { t: 'end' } : { t: 'error', error: { name: 'Error', message: `the file reader thread exited with code ${code}` } });
  });
  const stop = (): void => worker.postMessage({ t: 'stop' });
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      while (!inbox.length) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const m = inbox.shift()!;
      if (m.t === 'log') ctx.logger[m.level](m.obj, m.msg);
      else if (m.t === 'error') throw rebuild(m.error);
      else if (m.t === 'end') return;
      else {
        worker.postMessage({ t: 'more', rows: m.batch.rows.length });
        yield m.batch;
      }
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    if (!exited) {
      // let the worker's read end through its finally (files, connections), then make sure it is gone
      stop();
      const gone = new Promise<void>((r) => worker.once('exit', () => r()));
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await gone;
      clearTimeout(timer);
    }
  }
}
