/**
 * An HTTP session for one kit operation: the client with its auth. The request budget is shared by
 * every session of the same definition in the process, so consecutive streams together still never
 * exceed `requests_per_second` / `concurrency`.
 */
import type { Context } from '@datakit/core';
import type { RestKitConfig } from './config.js';
import type { LoadedDefinition } from './definition/load.js';
import { createAuth } from './http/auth.js';
import { RequestBudget } from './http/budget.js';
import { HttpClient } from './http/client.js';

const budgets = new WeakMap<LoadedDefinition, RequestBudget>();

/** The process-wide budget of a definition. */
export function budgetOf(loaded: LoadedDefinition): RequestBudget {
  let b = budgets.get(loaded);
  if (!b) {
    const rl = loaded.api.rate_limit;
    b = new RequestBudget({ ...(rl.requests_per_second ? { requestsPerSecond: rl.requests_per_second } : {}), concurrency: rl.concurrency });
    budgets.set(loaded, b);
  }
  return b;
}

/** A client with auth for one operation; `close()` it in `finally`. */
export function openSession(loaded: LoadedDefinition, config: RestKitConfig, ctx: Context): HttpClient {
  const api = loaded.api;
  const http = new HttpClient({
    maxRetries: api.retry.max_retries ?? config.maxRetries,
    timeoutMs: api.timeout_seconds * 1000,
    backoffBaseMs: api.retry.backoff_base_ms,
    backoffMaxMs: api.retry.backoff_max_ms,
    maxWaitMs: api.rate_limit.max_wait_seconds * 1000,
    respectHeaders: api.rate_limit.respect_headers,
    budget: budgetOf(loaded),
    logger: ctx.logger,
    signal: ctx.signal,
    maxSockets: api.rate_limit.concurrency,
  });
  http.auth = createAuth(
    api.auth,
    api.base_url,
    async (url, form, headers) => {
      const res = await http.send({ method: 'POST', url, form, headers, stream: 'auth', page: 1, auth: false, raw: true });
      return { status: res.status, text: res.text };
    },
    ctx.logger,
  );
  return http;
}
