/**
 * What the server says about when to come back: `Retry-After` (seconds or an HTTP date, RFC 9110
 * §10.2.3), the IETF `RateLimit` / `RateLimit-Remaining` / `RateLimit-Reset` headers (both the older
 * `limit=, remaining=, reset=` and the newer `"policy";r=;t=` forms of draft-ietf-httpapi-ratelimit-headers)
 * and the common `X-RateLimit-Remaining` / `X-RateLimit-Reset` (GitHub: reset as epoch seconds).
 */

/** Response headers, lower-cased names. */
export type Headers = Record<string, string | undefined>;

/** Milliseconds to wait from `Retry-After`, or undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const v = headers['retry-after']?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** A reset value in seconds: a delta, or an epoch timestamp (seconds or milliseconds). */
function resetToMs(raw: string, nowMs: number): number | undefined {
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (n > 1e12) return Math.max(0, n - nowMs); // epoch milliseconds
  if (n > 1e9) return Math.max(0, n * 1000 - nowMs); // epoch seconds (GitHub's X-RateLimit-Reset)
  return n * 1000; // delta seconds (IETF RateLimit-Reset)
}

/** `remaining` and `reset` from the structured `RateLimit` header (either draft form). */
function parseRateLimitField(v: string): { remaining?: number; reset?: string } {
  const out: { remaining?: number; reset?: string } = {};
  const r = /(?:^|[;,\s])(?:remaining|r)=(\d+)/i.exec(v);
  const t = /(?:^|[;,\s])(?:reset|t)=(\d+)/i.exec(v);
  if (r) out.remaining = Number(r[1]);
  if (t) out.reset = t[1];
  return out;
}

/** The server's quota as far as the headers tell. */
export interface Quota {
  remaining?: number;
  /** Milliseconds until the quota resets. */
  resetMs?: number;
}

/** Read the quota headers of a response. */
export function quotaOf(headers: Headers, nowMs: number = Date.now()): Quota {
  const structured = headers['ratelimit'] ? parseRateLimitField(headers['ratelimit']) : {};
  const remainingText = headers['ratelimit-remaining'] ?? headers['x-ratelimit-remaining'] ?? headers['x-rate-limit-remaining'];
  const resetText = headers['ratelimit-reset'] ?? headers['x-ratelimit-reset'] ?? headers['x-rate-limit-reset'] ?? structured.reset;
  const remaining = remainingText !== undefined && /^\s*\d+\s*$/.test(remainingText) ? Number(remainingText) : structured.remaining;
  const resetMs = resetText !== undefined ? resetToMs(resetText, nowMs) : undefined;
  return { ...(remaining !== undefined ? { remaining } : {}), ...(resetMs !== undefined ? { resetMs } : {}) };
}

/**
 * How long the server asks us to wait before the next request, if it says: `Retry-After`, else the
 * reset time when the quota is used up.
 */
export function serverWaitMs(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const ra = retryAfterMs(headers, nowMs);
  if (ra !== undefined) return ra;
  const q = quotaOf(headers, nowMs);
  return q.remaining === 0 && q.resetMs !== undefined ? q.resetMs : undefined;
}
