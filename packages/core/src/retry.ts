/**
 * Retries with exponential backoff and full jitter (the `exponential-backoff` library), for errors
 * whose family is retriable only (`SOURCE.UNREACHABLE`, `SOURCE.TRANSIENT`, `BRONZE.UNREACHABLE`, or a
 * DatakitError created with `retriable: true`).
 */
import { backOff } from 'exponential-backoff';
import type { Logger } from 'pino';
import { isDatakitError } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (`MAX_RETRIES`). */
  maxRetries: number;
  /** First delay in ms (doubles each time, full jitter). @default 500 */
  startingDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  logger?: Logger;
  /** What is being retried, for the log. */
  what: string;
  signal?: AbortSignal;
  /** An extra condition checked before each retry. */
  retryIf?: (e: unknown) => boolean;
}

/** True when an error may succeed on a retry. */
export function isRetriable(e: unknown): boolean {
  return isDatakitError(e) && e.retriable;
}

/** Run `fn`, retrying retriable errors up to `maxRetries` times. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  let attempt = 0;
  return backOff(() => fn(++attempt), {
    numOfAttempts: Math.max(1, opts.maxRetries + 1),
    startingDelay: opts.startingDelayMs ?? 500,
    maxDelay: opts.maxDelayMs ?? 30_000,
    timeMultiple: 2,
    jitter: 'full',
    delayFirstAttempt: false,
    retry: (e: unknown, next: number) => {
      if (opts.signal?.aborted || !isRetriable(e) || (opts.retryIf && !opts.retryIf(e))) return false;
      opts.logger?.warn({ attempt: next - 1, of: opts.maxRetries, code: isDatakitError(e) ? e.code : undefined, err: isDatakitError(e) ? e.describe() : String(e) }, `${opts.what}: retriable error, retrying`);
      return true;
    },
  });
}
