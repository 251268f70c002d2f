/**
 * The worker side of `read-thread.ts`: runs `readStream` with batches of at most
 * {@link PIECE_ROWS} rows and posts them, at most `IN_FLIGHT` batches of `BATCH_SIZE` rows ahead of
 * the consumer; `stop` (an early stop, SIGTERM) aborts the read, which ends through its `finally`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isDatakitError, type Context } from '@datakit/core';
type Logger = Context['logger'];
import { IN_FLIGHT, PIECE_ROWS, type WorkerInput, type WorkerMessage } from './read-thread.js';
import { readStream } from './read.js';

const input = workerData as WorkerInput;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
const controller = new AbortController();
/** Rows the worker may still post before the consumer takes some. */
let credits = IN_FLIGHT * input.batchSize;
let wake: (() => void) | undefined;
port.on('message', (m: { t: string; rows?: number }) => {
  if (m.t === 'more') credits += m.rows ?? 0;
  if (m.t === 'stop') controller.abort('stop');
  wake?.();
});

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const min = LEVELS.indexOf(input.logLevel);
/** A logger that forwards to the main thread's (the levels `read` uses). */
function forwarder(bindings: Record<string, unknown>): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: Record<string, unknown>, msg?: string) => {
    if (min >= 0 && LEVELS.indexOf(level) < min) return;
    post({ t: 'log', level, obj: { ...bindings, ...obj }, msg: msg ?? '' });
  };
  return { level: input.logLevel, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), trace: () => undefined, fatal: at('error'), child: (b: Record<string, unknown>) => forwarder({ ...bindings, ...b }) } as unknown as Logger;
}

const ctx: Context = { logger: forwarder({}), signal: controller.signal, batchSize: input.batchSize, runId: input.runId, ...(input.partition ? { partition: input.partition } : {}) };

try {
  // batches of at most PIECE_ROWS: rows held until a batch is full outlive the young generation
  for await (const batch of readStream({ ...ctx, batchSize: Math.min(input.batchSize, PIECE_ROWS) }, input.config, input.stream, input.state)) {
    credits -= batch.rows.length;
    post({ t: 'batch', batch });
    while (credits <= 0 && !controller.signal.aborted) await new Promise<void>((r) => (wake = r));
    if (controller.signal.aborted) break;
  }
  post({ t: 'end' });
} catch (e) {
  const err = e as Error & { code?: string; where?: Record<string, unknown>; fix?: string; retriable?: boolean };
  post({
    t: 'error',
    error: {
      name: isDatakitError(e) ? 'DatakitError' : err.name ?? 'Error',
      message: err.message ?? String(e),
      ...(err.code ? { code: err.code } : {}),
      ...(err.where ? { where: err.where } : {}),
      ...(err.fix ? { fix: err.fix } : {}),
      ...(err.retriable !== undefined ? { retriable: err.retriable } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    },
  });
}
port.close();
