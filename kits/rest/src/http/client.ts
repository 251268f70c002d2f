/**
 * The HTTP client of a read: axios with keep-alive, the request budget, auth, per-request retries
 * (network errors, timeouts, 5xx, 408, 429 — exponential backoff with full jitter, the server's
 * `Retry-After`/`RateLimit-Reset` honoured) and a token refresh on 401. The kit retries each
 * request itself because it knows the request; core's stream-level retry (from the last checkpoint)
 * stays the outer safety net.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import type { Context } from '@datakit/core';
import { networkError, statusError, type RequestWhere } from '../errors.js';
import type { Authenticator } from './auth.js';
import { RequestBudget } from './budget.js';
import { quotaOf, serverWaitMs, type Headers } from './rate-headers.js';
import { redactUrl } from './redact-url.js';

type Logger = Context['logger'];

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Absolute URL (may carry a query string). */
  url: string;
  /** Query parameters added to the URL's own. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** `application/x-www-form-urlencoded` body (token requests). */
  form?: Record<string, string>;
  /** Stream and page, for messages. */
  stream: string;
  page: number;
  /** Apply the API's auth. @default true */
  auth?: boolean;
  /** Resolve with final non-2xx responses instead of throwing (after retries). */
  raw?: boolean;
}

/** A complete response (body decompressed and decoded). */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The URL requested (with auth query parameters: never log it, use `redactedUrl`). */
  url: string;
  redactedUrl: string;
}

/** Client settings. */
export interface HttpClientOptions {
  maxRetries: number;
  timeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Longest total wait on server hints per request. */
  maxWaitMs: number;
  respectHeaders: boolean;
  budget: RequestBudget;
  logger: Logger;
  signal: AbortSignal;
  /** Extra secret query parameter names (from auth). */
  secretParams?: string[];
  /** Keep-alive sockets per host (the budget's concurrency). */
  maxSockets: number;
}

/** Rate-limited responses with a wait hint are waited out without using a retry, at most this often. */
const MAX_HINTED_WAITS = 100;

/** Thrown when the read's signal aborted a request or a wait. */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError());
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function plainHeaders(h: unknown): Headers {
  const out: Headers = {};
  const obj = h && typeof h === 'object' && 'toJSON' in h ? (h as { toJSON(asStrings: true): Record<string, string> }).toJSON(true) : (h as Record<string, unknown>);
  for (const [k, v] of Object.entries(obj ?? {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/** An HTTP client bound to one read (its budget, auth and abort signal). */
export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly agents: (http.Agent | https.Agent)[];
  private readonly closing = new AbortController();
  /** Aborted by the read's signal or by {@link HttpClient.close}: every request and wait stops. */
  private readonly signal: AbortSignal;
  auth: Authenticator | undefined;

  constructor(private readonly opts: HttpClientOptions) {
    this.signal = AbortSignal.any([opts.signal, this.closing.signal]);
    const sockets = Math.max(1, opts.maxSockets);
    const httpAgent = new http.Agent({ keepAlive: true, maxSockets: sockets });
    const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: sockets });
    this.agents = [httpAgent, httpsAgent];
    this.axios = axios.create({
      httpAgent,
      httpsAgent,
      responseType: 'arraybuffer',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 5,
      decompress: true,
      maxContentLength: Infinity,
      maxBodyLength: Infinity,
      proxy: false,
    });
  }

  private backoffMs(retry: number): number {
    const cap = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (retry - 1));
    return Math.max(1, Math.round(Math.random() * cap)); // full jitter
  }

  /** Send a request; resolves with a 2xx response or throws a DatakitError. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const { logger, budget } = this.opts;
    const signal = this.signal;
    let retries = 0;
    let hinted = 0;
    let waitedMs = 0;
    let refreshed = false;
    for (;;) {
      const headers: Record<string, string> = { Accept: 'application/json, application/x-ndjson;q=0.9, */*;q=0.1', ...req.headers };
      const u = new URL(req.url);
      for (const [k, v] of Object.entries(req.query ?? {})) u.searchParams.set(k, v);
      if (req.auth !== false && this.auth) await this.auth.apply({ headers, query: u.searchParams });
      const url = u.toString();
      const redactedUrl = redactUrl(url, [...(this.opts.secretParams ?? []), ...(this.auth?.secretParams ?? [])]);
      const where: RequestWhere = { stream: req.stream, page: req.page, method: req.method, url: redactedUrl };
      let data: string | undefined;
      if (req.json !== undefined) {
        data = JSON.stringify(req.json);
        headers['Content-Type'] = 'application/json';
      } else if (req.form) {
        data = new URLSearchParams(req.form).toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }

      const release = await budget.acquire(signal).catch((e: unknown) => {
        throw signal.aborted ? new AbortedError() : e;
      });
      const timeout = AbortSignal.timeout(this.opts.timeoutMs);
      let status: number;
      let resHeaders: Headers;
      let body: Buffer;
      let statusText: string;
      try {
        const res = await this.axios.request<ArrayBuffer>({ method: req.method, url, headers, data, signal: AbortSignal.any([signal, timeout]) });
        status = res.status;
        statusText = res.statusText;
        resHeaders = plainHeaders(res.headers);
        body = Buffer.from(res.data ?? new ArrayBuffer(0));
      } catch (e) {
        if (signal.aborted) throw new AbortedError();
        const timedOut = timeout.aborted;
        if (retries < this.opts.maxRetries) {
          retries += 1;
          const wait = this.backoffMs(retries);
          logger.warn({ url: redactedUrl, page: req.page, retry: retries, of: this.opts.maxRetries, waitMs: wait, err: timedOut ? 'timeout' : ((e as { code?: string }).code ?? 'network error') }, 'request failed, retrying');
          await sleep(wait, signal);
          continue;
        }
        throw networkError(e, where, timedOut);
      } finally {
        release();
      }

      if (this.opts.respectHeaders) {
        const q = quotaOf(resHeaders);
        if (q.remaining === 0 && q.resetMs !== undefined && q.resetMs > 0) {
          const pause = Math.min(q.resetMs, this.opts.maxWaitMs);
          if (budget.pausedForMs() < pause) logger.info({ waitMs: pause }, 'rate limit quota used up: pausing until it resets');
          budget.pauseFor(pause);
        }
      }
      if (status >= 200 && status < 300) return { status, headers: resHeaders, text: body.toString('utf8'), url, redactedUrl };

      const text = body.toString('utf8');
      if (status === 401 && this.auth?.canRefresh && !refreshed && req.auth !== false) {
        refreshed = true;
        this.auth.invalidate();
        logger.info({ url: redactedUrl, page: req.page }, 'HTTP 401: refreshing the access token once');
        continue;
      }
      const hint = serverWaitMs(resHeaders);
      const rateLimited = status === 429 || ((status === 403 || status === 503) && hint !== undefined);
      if (rateLimited && hint !== undefined && hinted < MAX_HINTED_WAITS && waitedMs + hint <= this.opts.maxWaitMs) {
        hinted += 1;
        waitedMs += hint;
        const wait = Math.max(hint, 50);
        logger.warn({ url: redactedUrl, page: req.page, status, waitMs: wait }, 'rate limited: waiting as the server asks');
        budget.pauseFor(wait);
        continue;
      }
      if ((rateLimited || status === 408 || status >= 500) && retries < this.opts.maxRetries) {
        retries += 1;
        const wait = hint !== undefined ? Math.min(hint, this.opts.maxWaitMs) : this.backoffMs(retries);
        logger.warn({ url: redactedUrl, page: req.page, status, retry: retries, of: this.opts.maxRetries, waitMs: wait }, 'retriable HTTP status, retrying');
        await sleep(wait, signal);
        continue;
      }
      if (req.raw) return { status, headers: resHeaders, text, url, redactedUrl };
      throw statusError(status, where, text, statusText, req.auth !== false ? this.auth?.check : undefined);
    }
  }

  /** Stop every request and wait of this client and close its sockets. */
  close(): void {
    this.closing.abort();
    for (const a of this.agents) a.destroy();
  }
}
