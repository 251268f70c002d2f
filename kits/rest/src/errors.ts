/**
 * HTTP outcomes → DatakitError codes. Messages name the stream, the page, the method and URL (secrets
 * redacted) and the reason; they end with the fix when there is one.
 *
 * | outcome                                   | code                  | exit | retried |
 * |-------------------------------------------|-----------------------|------|---------|
 * | network error, timeout, 5xx, 408, 429     | `SOURCE.TRANSIENT`    | 3    | yes     |
 * | 401 (after one token refresh), 403        | `SOURCE.AUTH_FAILED`  | 3    | no      |
 * | other 4xx                                 | `SOURCE.QUERY_FAILED` | 3    | no      |
 * | malformed JSON, HTML page, no records     | `DATA.INVALID_RECORD` | 4    | no      |
 */
import { DatakitError, redactor, type ErrorCode } from '@datakit/core';

/** Where a request was made, for messages. */
export interface RequestWhere {
  stream: string;
  /** 1-based page number within the current partition. */
  page: number;
  method: string;
  /** Already redacted. */
  url: string;
}

/** `page 3 of GET http://…/orders?api_key=***` */
export function describeRequest(w: RequestWhere): string {
  return `page ${w.page} of ${w.method} ${w.url}`;
}

/** A short, scrubbed excerpt of a response body for error messages. */
export function bodyExcerpt(body: string, max = 200): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  return redactor.scrub(cut);
}

/** An error for a request, located at its stream. */
export function requestError(code: ErrorCode, w: RequestWhere, reason: string, opts: { cause?: unknown; fix?: string; retriable?: boolean } = {}): DatakitError {
  return new DatakitError(code, `${describeRequest(w)}: ${redactor.scrub(reason)}`, {
    where: { kit: 'rest', stream: w.stream },
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    ...(opts.fix ? { fix: opts.fix } : {}),
    ...(opts.retriable !== undefined ? { retriable: opts.retriable } : {}),
  });
}

/** The error for a final HTTP status (after retries and a token refresh); `authCheck` names the settings of the auth in use. */
export function statusError(status: number, w: RequestWhere, body: string, statusText = '', authCheck?: string): DatakitError {
  const excerpt = body ? `: ${bodyExcerpt(body)}` : '';
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ''}${excerpt}`;
  if (status === 401) return requestError('SOURCE.AUTH_FAILED', w, head, { fix: `check ${authCheck ?? 'the credentials of the auth type the definition names'}` });
  if (status === 403) return requestError('SOURCE.AUTH_FAILED', w, head, { fix: 'check that the credentials may read this endpoint' });
  if (status === 429 || status === 408 || status >= 500) {
    return requestError('SOURCE.TRANSIENT', w, `${head} (gave up after retries)`, { fix: 'raise MAX_RETRIES or lower rate_limit.requests_per_second' });
  }
  return requestError('SOURCE.QUERY_FAILED', w, head, { fix: 'check the stream path, params and body in the API definition' });
}

/** The error for a network failure (refused, reset, DNS, timeout) after retries. */
export function networkError(e: unknown, w: RequestWhere, timedOut: boolean): DatakitError {
  const code = (e as { code?: string }).code;
  const reason = timedOut ? 'timed out' : `${code ?? 'network error'}: ${(e as Error).message ?? String(e)}`;
  return requestError('SOURCE.TRANSIENT', w, `${reason} (gave up after retries)`, { cause: e, fix: timedOut ? 'raise timeout_seconds' : 'check base_url and the network' });
}

/** The error for a body we cannot read records from. */
export function bodyError(w: RequestWhere, reason: string): DatakitError {
  return requestError('DATA.INVALID_RECORD', w, reason, { fix: 'check record_selector and response_format, or the API status' });
}
