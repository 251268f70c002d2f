/**
 * A fix for kafkajs 2.2.4's request queue (tulios/kafkajs#1704, #1751, unreleased PR #1768): after
 * every response it re-arms a timer at `throttledUntil - Date.now()`, a negative delay when nothing is
 * throttled — a 1 ms polling loop per broker connection that burns CPU for the life of the connection,
 * and on Node ≥ 24 a `TimeoutNegativeWarning` on stderr (which must carry JSON logs only). The fixed
 * method arms the timer only when a request waits or a throttle is in force; a queued request arms it
 * itself on `push`, so nothing is left unsent.
 */
import { createRequire } from 'node:module';

interface RequestQueueLike {
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  throttledUntil: number;
  pending: unknown[];
  checkPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_INTERVAL_MS = 10;

function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_INTERVAL_MS;
  else if (delay <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests: unknown } };
RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
