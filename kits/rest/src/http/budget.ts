/**
 * The proactive request budget: at most `concurrency` requests in flight, request starts spaced at
 * least `1 / requestsPerSecond` apart, and a shared pause when the server asks for one
 * (`Retry-After`, `RateLimit-Reset` with nothing remaining).
 *
 * Why not a library: `bottleneck` (minTime + maxConcurrent) has had no release since 2019, and
 * window-based limiters (`p-queue`'s `intervalCap`) allow up to twice the rate across a window edge.
 * Even spacing is the only scheme under which the rate is never exceeded over *any* window, and it
 * fits in the few lines below. Grants are FIFO.
 */

/** Limits of a {@link RequestBudget}. */
export interface BudgetOptions {
  /** Spacing between request starts; undefined = no rate limit. */
  requestsPerSecond?: number;
  /** Requests in flight at once. @default 1 */
  concurrency?: number;
  /** Clock (tests). @default performance.now */
  now?: () => number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** A FIFO gate that enforces concurrency, spacing and server-requested pauses. */
export class RequestBudget {
  private readonly spacingMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private inFlight = 0;
  private nextStartAt = -Infinity;
  private pausedUntil = -Infinity;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Start times of granted requests (ms, `now()` clock) — kept only when `record` is on. */
  readonly starts: number[] = [];
  record = false;

  constructor(opts: BudgetOptions = {}) {
    this.spacingMs = opts.requestsPerSecond ? 1000 / opts.requestsPerSecond : 0;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.now = opts.now ?? (() => performance.now());
  }

  /** Wait for a slot; resolves with the function that frees it (call it when the response is read). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
          this.pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Hold every request until `ms` milliseconds from now (the server asked us to wait). */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.pump();
  }

  /** Milliseconds until the pause ends (0 when not paused). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length && this.inFlight < this.concurrency) {
      const t = this.now();
      const readyAt = Math.max(this.nextStartAt, this.pausedUntil);
      if (t < readyAt) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(readyAt - t));
        return;
      }
      const waiter = this.queue.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.inFlight += 1;
      this.nextStartAt = t + this.spacingMs;
      if (this.record) this.starts.push(t);
      let released = false;
      waiter.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  /** Drop the timer (end of a read). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
