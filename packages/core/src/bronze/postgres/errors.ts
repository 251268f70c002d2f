/**
 * Map `pg` and socket errors of the warehouse target to {@link DatakitError}s.
 *
 * Messages never carry the password: every message passes through a scrubber built from the URL.
 * COPY data errors keep PostgreSQL's own message (which may quote the offending value, as the server
 * says it) and name the table, line and column; nothing else from the row is added.
 */
import { DatakitError, isDatakitError, type ErrorCode } from '../../errors.js';

const URL_VARS = 'WAREHOUSE_DATABASE_URL / BRONZE_URL';
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENETDOWN']);
const AUTH_SQLSTATES = new Set(['28P01', '28000']);

/** Fields of a `pg` DatabaseError (and Node socket errors) this module reads. */
interface PgLikeError {
  message?: string;
  code?: string;
  where?: string;
  errors?: unknown[];
}

/** A function that removes secrets (the password, raw and URL-decoded) from a message. */
export type Scrub = (text: string) => string;

/** Build the scrubber for a connection URL's password. */
export function scrubberFor(password: string | undefined): Scrub {
  const secrets = new Set<string>();
  if (password) {
    secrets.add(password);
    try {
      secrets.add(decodeURIComponent(password));
    } catch {
      // a malformed escape: the raw form is already covered
    }
  }
  const list = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.split(s).join('***'), text);
}

function fields(e: unknown): PgLikeError {
  return typeof e === 'object' && e !== null ? (e as PgLikeError) : { message: String(e) };
}

/** The socket-level code of an error, looking inside Node's AggregateError (happy eyeballs). */
function socketCode(e: PgLikeError): string | undefined {
  if (e.code && UNREACHABLE_CODES.has(e.code)) return e.code;
  for (const inner of e.errors ?? []) {
    const c = fields(inner).code;
    if (c && UNREACHABLE_CODES.has(c)) return c;
  }
  return undefined;
}

function messageOf(e: PgLikeError): string {
  if (e.message) return e.message;
  const inner = (e.errors ?? []).map((x) => fields(x).message).filter(Boolean);
  return inner.join('; ') || e.code || 'unknown error';
}

/** True when the error means the connection (not the statement) failed: the client must be discarded. */
export function isConnectionError(e: unknown): boolean {
  const f = fields(e);
  if (socketCode(f)) return true;
  const code = f.code ?? '';
  if (code.startsWith('08') || code.startsWith('57P')) return true;
  return /timeout|Connection terminated|not queryable|Client has encountered a connection error/i.test(f.message ?? '');
}

/**
 * Map an error seen while connecting or running bookkeeping statements.
 * `fallback` is the code for statement failures that are not about the connection.
 */
export function mapPgError(e: unknown, scrub: Scrub, what: string, fallback: ErrorCode = 'BRONZE.WRITE_FAILED'): DatakitError {
  if (isDatakitError(e)) return e;
  const f = fields(e);
  const msg = scrub(messageOf(f));
  const code = f.code ?? '';
  if (AUTH_SQLSTATES.has(code) || /password must be a string|SASL/i.test(msg)) {
    return new DatakitError('BRONZE.AUTH_FAILED', `warehouse: ${msg}`, { cause: scrubCause(e, scrub), fix: `check the user and password in ${URL_VARS}` });
  }
  if (code === '3D000') {
    return new DatakitError('BRONZE.UNREACHABLE', `warehouse: ${msg}`, { cause: scrubCause(e, scrub), retriable: false, fix: `create the database or fix its name in ${URL_VARS}` });
  }
  if (isConnectionError(e)) {
    const sc = socketCode(f);
    return new DatakitError('BRONZE.UNREACHABLE', `warehouse unreachable${sc ? ` (${sc})` : ''}: ${msg}`, { cause: scrubCause(e, scrub), fix: `check the host and port in ${URL_VARS} and that the server accepts connections` });
  }
  if (code === '42501') {
    return new DatakitError(fallback, `${what}: ${msg}`, { cause: scrubCause(e, scrub), fix: 'grant the warehouse user CREATE on the database and the bronze schema' });
  }
  if (code === '2BP01') {
    return new DatakitError(fallback, `${what}: ${msg}`, { cause: scrubCause(e, scrub), fix: 'a full refresh replaces the table: drop the dependent views and recreate them after the run' });
  }
  return new DatakitError(fallback, `${what}: ${msg}${code ? ` (SQLSTATE ${code})` : ''}`, { cause: scrubCause(e, scrub) });
}

/**
 * Map an error of a `COPY` into `table`: SQLSTATE class 22 (data exception) becomes
 * `DATA.INVALID_RECORD` with the line (1-based row of the `COPY`) and column from the error's
 * `where`. A `COPY` can span batches: `rowsBefore` rows of earlier batches went into it before the
 * batch being written, so a line past them is `record` (1-based) of that batch, and a line within
 * them is said to be in an earlier batch of the open transaction.
 */
export function mapCopyError(e: unknown, scrub: Scrub, table: string, columnNames: readonly string[], rowsBefore = 0): DatakitError {
  if (isDatakitError(e)) return e;
  const f = fields(e);
  if (!f.code?.startsWith('22')) return mapPgError(e, scrub, `COPY into ${table}`);
  const where = parseCopyWhere(f.where ?? '', columnNames);
  const record = where.line !== undefined && where.line > rowsBefore ? where.line - rowsBefore : undefined;
  const earlier = where.line !== undefined && record === undefined ? ` (line ${where.line} of the open transaction's COPY: a row of an earlier batch, not committed)` : '';
  return new DatakitError('DATA.INVALID_RECORD', `${table}: ${scrub(messageOf(f))}${earlier}`, {
    cause: scrubCause(e, scrub),
    where: {
      ...(where.line !== undefined ? { line: where.line } : {}),
      ...(record !== undefined ? { record } : {}),
      ...(where.column !== undefined ? { column: where.column } : {}),
    },
  });
}

/**
 * Line and column of a COPY error context: `COPY br_orders, line 3, column amount: "abc"`. The
 * context lists the innermost first (a JSON parse error adds `JSON data, line 1: …` above it), so
 * only the `COPY …` line counts. Column names may contain `: ` or `, `, so the longest known column
 * name after `column ` wins.
 */
export function parseCopyWhere(whereText: string, columnNames: readonly string[]): { line?: number; column?: string } {
  const where = whereText.split('\n').findLast((l) => l.startsWith('COPY ')) ?? '';
  const m = /, line (\d+)(?:, column )?/.exec(where);
  if (!m) return {};
  const out: { line?: number; column?: string } = { line: Number(m[1]) };
  if (m[0].endsWith('column ')) {
    const rest = where.slice(m.index + m[0].length);
    const best = columnNames.filter((n) => rest === n || rest.startsWith(`${n}:`)).sort((a, b) => b.length - a.length)[0];
    if (best !== undefined) out.column = best;
  }
  return out;
}

/** The cause to attach: keep `pg`'s error (for SQLSTATE) but with a scrubbed message. */
function scrubCause(e: unknown, scrub: Scrub): unknown {
  if (e instanceof Error) {
    const clean = scrub(e.message);
    if (clean !== e.message) {
      try {
        e.message = clean;
        if (e.stack) e.stack = scrub(e.stack);
      } catch {
        return new Error(clean);
      }
    }
  }
  return e;
}
