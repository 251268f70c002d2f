/**
 * Native errors of the stores (fs, the AWS SDK, ssh2) → DatakitError codes. Messages name the
 * object and the reason and end with the fix; they never carry credentials.
 *
 * | cause                                                              | code                       | retried |
 * |--------------------------------------------------------------------|----------------------------|---------|
 * | ECONNREFUSED, ENOTFOUND, EAI_AGAIN, ETIMEDOUT, EHOSTUNREACH          | `SOURCE.UNREACHABLE`       | yes     |
 * | ECONNRESET, EPIPE, S3 5xx / SlowDown / RequestTimeout, SFTP lost connection | `SOURCE.TRANSIENT`  | yes     |
 * | S3 InvalidAccessKeyId / SignatureDoesNotMatch, SSH authentication, host key mismatch, SSH key that cannot be decrypted (`store/sftp.ts`) | `SOURCE.AUTH_FAILED` | no |
 * | ENOENT, NoSuchBucket, NoSuchKey, SFTP "No such file"                | `SOURCE.NOT_FOUND`         | no      |
 * | EACCES, EPERM, S3 AccessDenied, SFTP "Permission denied"            | `SOURCE.PERMISSION_DENIED` | no      |
 * | anything else                                                      | `SOURCE.QUERY_FAILED`      | no      |
 */
import { DatakitError, isDatakitError, redactor, type ErrorCode } from '@datakit/core';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);
const S3_AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'CredentialsProviderError']);
const S3_TRANSIENT = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'RequestTimeTooSkewed', 'TimeoutError']);

interface NativeError {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  level?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** What fixes an authentication failure, per store. */
const AUTH_FIX: Record<string, string> = {
  s3: 'check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or the AWS credential chain)',
  sftp: 'check SFTP_PASSWORD, SFTP_PRIVATE_KEY/SFTP_PASSPHRASE and the user in FILE_URL',
  file: 'check FILE_URL',
};

function codeOf(e: NativeError, kind: string): ErrorCode {
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const status = e.$metadata?.httpStatusCode;
  if (UNREACHABLE.has(code)) return 'SOURCE.UNREACHABLE';
  if (RESET.has(code)) return 'SOURCE.TRANSIENT';
  if (kind === 's3') {
    if (S3_AUTH.has(name) || S3_AUTH.has(code)) return 'SOURCE.AUTH_FAILED';
    if (name === 'NoSuchBucket' || name === 'NoSuchKey' || name === 'NotFound' || status === 404) return 'SOURCE.NOT_FOUND';
    if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) return 'SOURCE.PERMISSION_DENIED';
    if (S3_TRANSIENT.has(name) || (status !== undefined && status >= 500) || status === 429 || status === 412) return 'SOURCE.TRANSIENT';
  }
  if (kind === 'sftp') {
    if (e.level === 'client-authentication' || /authentication methods failed|host key/i.test(message)) return 'SOURCE.AUTH_FAILED';
    if (e.level === 'client-timeout' || /timed out/i.test(message)) return 'SOURCE.UNREACHABLE';
    if (/no such file|ENOENT/i.test(message) || code === '2' || code === 'ENOENT') return 'SOURCE.NOT_FOUND';
    if (/permission denied/i.test(message) || code === '3') return 'SOURCE.PERMISSION_DENIED';
    if (/not connected|connection (lost|closed|reset)|No SFTP connection|socket/i.test(message)) return 'SOURCE.TRANSIENT';
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'SOURCE.NOT_FOUND';
  if (code === 'EACCES' || code === 'EPERM') return 'SOURCE.PERMISSION_DENIED';
  return 'SOURCE.QUERY_FAILED';
}

/**
 * The DatakitError for an error of a store operation; DatakitErrors pass through.
 * @example throw storeError(e, 's3', 'listing s3://bucket/orders/')
 */
export function storeError(e: unknown, kind: string, what: string): DatakitError {
  if (isDatakitError(e)) return e;
  const err = (e ?? {}) as NativeError;
  const code = codeOf(err, kind);
  const reason = typeof err.message === 'string' && err.message ? err.message : typeof err.name === 'string' ? err.name : String(e);
  const fix =
    code === 'SOURCE.AUTH_FAILED' ? AUTH_FIX[kind] : code === 'SOURCE.UNREACHABLE' ? 'check the host and port in FILE_URL (and S3_ENDPOINT)' : code === 'SOURCE.NOT_FOUND' ? 'check FILE_URL and the stream globs' : undefined;
  return new DatakitError(code, redactor.scrub(`${kind}: ${what}: ${reason}`), { cause: e, ...(fix ? { fix } : {}) });
}
