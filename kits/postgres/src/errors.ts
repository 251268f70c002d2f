/**
 * pg and network errors → DatakitError codes. Messages carry the server's reason and end with the fix;
 * they never contain the password (it is scrubbed even if a server or driver echoes it).
 *
 * | cause                                                        | code                       | retried |
 * |--------------------------------------------------------------|----------------------------|---------|
 * | ECONNREFUSED, ENOTFOUND, EAI_AGAIN, ETIMEDOUT, EHOSTUNREACH, connect timeout | `SOURCE.UNREACHABLE` | yes |
 * | 28P01, 28000 (bad password, no pg_hba entry), TLS failures    | `SOURCE.AUTH_FAILED`       | no      |
 * | 3D000 (database), 3F000 (schema), 42P01 (relation), 42703     | `SOURCE.NOT_FOUND`         | no      |
 * | 42501 (insufficient privilege)                               | `SOURCE.PERMISSION_DENIED` | no      |
 * | 57P01-57P03, 08xxx, 40001, 40P01, 53xxx, 25P03, ECONNRESET, lost connection | `SOURCE.TRANSIENT` | yes |
 * | 57014 (statement timeout), anything else                     | `SOURCE.QUERY_FAILED`      | no      |
 */
import { DatakitError, isDatakitError, redactor, type ErrorCode } from '@datakit/core';

/** What the messages may name: the settings in use, never their secret values. */
export interface ErrorContext {
  stream?: string;
  /** The setting the password came from (`SOURCE_DATABASE_URL` or `SOURCE_PASSWORD`). */
  passwordSetting: string;
  /** Settings that locate the server, for the fix of connection errors. */
  hostSetting: string;
  databaseSetting: string;
  user: string;
  statementTimeoutMs: number;
  /** Values to scrub besides the process-wide redactor's (the password, the URL). */
  secrets: readonly string[];
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOENT']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const TRANSIENT_SQLSTATE = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '25P03', '55P03']);
const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Node TLS error codes of a certificate that fails verification. */
const TLS_CODES = /^(ERR_TLS_|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_SSL_)/;

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return redactor.scrub(out);
}

/** The message of an error; an AggregateError (Node tries every address of a host) lists its parts. */
function messageOf(e: unknown): string {
  const err = (e ?? {}) as PgLikeError & { errors?: unknown };
  if (typeof err.message === 'string' && err.message) return err.message;
  if (Array.isArray(err.errors) && err.errors.length) return err.errors.map(messageOf).join('; ');
  return typeof err.code === 'string' ? err.code : String(e);
}

/** True for the error of a statement cancelled by a cancel request or `statement_timeout`. */
export function isQueryCanceled(e: unknown): boolean {
  return (e as PgLikeError | undefined)?.code === '57014';
}

/**
 * The DatakitError for anything pg, the socket or TLS threw. DatakitErrors pass through.
 *
 * @example
 * throw sourceError(e, errorContext) // SOURCE.AUTH_FAILED: password authentication failed for user "etl" (check SOURCE_PASSWORD)
 */
export function sourceError(e: unknown, c: ErrorContext): DatakitError {
  if (isDatakitError(e)) return c.stream ? e.withWhere({ kit: 'postgres', stream: c.stream }) : e;
  const err = (e ?? {}) as PgLikeError;
  const code = typeof err.code === 'string' ? err.code : '';
  const raw = messageOf(e);
  const where = { kit: 'postgres', ...(c.stream ? { stream: c.stream } : {}) };
  const make = (ec: ErrorCode, message: string, fix?: string, retriable?: boolean): DatakitError =>
    new DatakitError(ec, scrub(message, c.secrets), { cause: e, where, ...(fix ? { fix: scrub(fix, c.secrets) } : {}), ...(retriable !== undefined ? { retriable } : {}) });
  const locate = `check ${c.hostSetting}`;

  if (UNREACHABLE.has(code)) return make('SOURCE.UNREACHABLE', `cannot reach the server: ${raw}`, locate);
  if (!SQLSTATE.test(code) && /timeout expired|connection timeout/i.test(raw)) return make('SOURCE.UNREACHABLE', `cannot reach the server: ${raw}`, locate);
  if (RESET.has(code) || (!SQLSTATE.test(code) && /Connection terminated|connection.*(lost|closed)/i.test(raw))) {
    return make('SOURCE.TRANSIENT', `lost the connection: ${code ? `${code} ` : ''}${raw}`);
  }
  switch (code) {
    case '28P01':
      return make('SOURCE.AUTH_FAILED', raw, `check ${c.passwordSetting}`);
    case '28000':
      return make('SOURCE.AUTH_FAILED', raw, `check SOURCE_USER and the server's pg_hba.conf for user ${JSON.stringify(c.user)}`);
    case '3D000':
      return make('SOURCE.NOT_FOUND', raw, `check ${c.databaseSetting}`);
    case '3F000':
      return make('SOURCE.NOT_FOUND', raw, 'check SOURCE_SCHEMAS');
    case '42P01':
    case '42703':
      return make('SOURCE.NOT_FOUND', raw, 'the relation changed since discover: run discover again');
    case '42501':
      return make('SOURCE.PERMISSION_DENIED', raw, `GRANT USAGE on the schema and SELECT on the relation to ${JSON.stringify(c.user)}`);
    case '57014':
      return /statement timeout/.test(raw)
        ? make('SOURCE.QUERY_FAILED', `${raw} (SOURCE_STATEMENT_TIMEOUT_MS=${c.statementTimeoutMs})`, 'raise SOURCE_STATEMENT_TIMEOUT_MS or lower SOURCE_CHUNK_ROWS')
        : make('SOURCE.QUERY_FAILED', raw, 'the statement was cancelled on the server (pg_cancel_backend?)');
  }
  if (TRANSIENT_SQLSTATE.has(code) || code.startsWith('08') || code.startsWith('53')) {
    return make('SOURCE.TRANSIENT', `${raw} (SQLSTATE ${code})`);
  }
  if (/password must be a string|password authentication|SASL/i.test(raw)) {
    return make('SOURCE.AUTH_FAILED', `the server asks for a password: ${raw}`, `set ${c.passwordSetting}`);
  }
  if (!SQLSTATE.test(code) && (TLS_CODES.test(code) || /certificate|SSL|TLS/.test(raw))) {
    const noTls = /does not support SSL/.test(raw);
    return make('SOURCE.AUTH_FAILED', `TLS failed: ${raw}`, noTls ? 'set SOURCE_SSLMODE=prefer or disable, or enable ssl on the server' : 'check SOURCE_SSLMODE and SOURCE_SSLROOTCERT');
  }
  return make('SOURCE.QUERY_FAILED', code ? `${raw} (SQLSTATE ${code})` : raw);
}
