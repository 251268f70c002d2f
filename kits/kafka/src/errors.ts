/**
 * kafkajs errors → DatakitError codes. kafkajs wraps the cause of a retried failure
 * (`KafkaJSNumberOfRetriesExceeded.originalError`, `KafkaJSNonRetriableError.originalError`); the
 * innermost error decides.
 *
 * | kafkajs                                                    | code                        | exit | retried |
 * |------------------------------------------------------------|-----------------------------|------|---------|
 * | SASL failure, unsupported mechanism, TLS certificate error | `SOURCE.AUTH_FAILED`        | 3    | no      |
 * | `*_AUTHORIZATION_FAILED`                                   | `SOURCE.PERMISSION_DENIED`  | 3    | no      |
 * | `UNKNOWN_TOPIC_OR_PARTITION`                               | `SOURCE.NOT_FOUND`          | 3    | no      |
 * | connection refused/closed/timed out, DNS                   | `SOURCE.UNREACHABLE`        | 3    | yes     |
 * | other errors kafkajs marks `retriable`                     | `SOURCE.TRANSIENT`          | 3    | yes     |
 * | anything else                                              | `SOURCE.QUERY_FAILED`       | 3    | no      |
 */
import { DatakitError, isDatakitError, redactor, type ErrorCode } from '@datakit/core';

interface KafkaJsLike {
  name?: string;
  message?: string;
  type?: string;
  code?: string | number;
  retriable?: boolean;
  originalError?: unknown;
  cause?: unknown;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The innermost error kafkajs wrapped. */
function innermost(e: unknown): KafkaJsLike {
  let cur = (e ?? {}) as KafkaJsLike;
  for (let i = 0; i < 5; i++) {
    const next = cur.originalError ?? (cur.name?.startsWith('KafkaJS') ? cur.cause : undefined);
    if (!next || typeof next !== 'object') break;
    cur = next as KafkaJsLike;
  }
  return cur;
}

/** The code and fix for a kafkajs error. */
export function classify(e: unknown): { code: ErrorCode; fix?: string } {
  const inner = innermost(e);
  const outer = (e ?? {}) as KafkaJsLike;
  const type = inner.type ?? '';
  const name = inner.name ?? '';
  const code = String(inner.code ?? '');
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL/.test(type)) {
    return { code: 'SOURCE.AUTH_FAILED', fix: 'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD' };
  }
  if (TLS_CODES.test(code) || /certificate|SSL routines|TLS/i.test(inner.message ?? '')) {
    return { code: 'SOURCE.AUTH_FAILED', fix: 'check KAFKA_TLS_CA (the brokers\' CA), KAFKA_TLS_CERT/KEY, or KAFKA_TLS' };
  }
  if (/AUTHORIZATION_FAILED$/.test(type)) return { code: 'SOURCE.PERMISSION_DENIED', fix: 'grant the client Read and Describe on the topic and the consumer group' };
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return { code: 'SOURCE.NOT_FOUND', fix: 'check KAFKA_TOPICS' };
  if (
    UNREACHABLE_CODES.has(code) ||
    ['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound'].includes(name) ||
    (outer.name === 'KafkaJSNumberOfRetriesExceeded' && /connect|ECONN|timed? ?out/i.test(inner.message ?? ''))
  ) {
    return { code: 'SOURCE.UNREACHABLE', fix: 'check KAFKA_BROKERS, the network and KAFKA_TLS' };
  }
  if (inner.retriable || outer.retriable) return { code: 'SOURCE.TRANSIENT' };
  return { code: 'SOURCE.QUERY_FAILED' };
}

/**
 * A DatakitError for a failure while doing `what` (e.g. `reading orders partition 3`), or the error
 * itself when it already is one.
 */
export function kafkaError(e: unknown, what: string, stream?: string): DatakitError {
  if (isDatakitError(e)) return e;
  const { code, fix } = classify(e);
  const inner = innermost(e);
  const reason = redactor.scrub(inner.message ?? String(e));
  const type = inner.type ? ` (${inner.type})` : '';
  return new DatakitError(code, `${what}: ${reason}${type}`, {
    cause: e,
    where: { kit: 'kafka', ...(stream ? { stream } : {}) },
    ...(fix ? { fix } : {}),
  });
}
