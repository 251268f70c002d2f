/**
 * One error table for every kit. The code's family decides the exit code and whether the runner
 * retries; kits map native errors (SQLSTATE, HTTP status, kafkajs `retriable`) in their `errors.ts`.
 */

/** Exit codes of every kit's CLI (documented in docs/errors.md). */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  CONFIG: 2,
  CONNECTION: 3,
  DATA: 4,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** Error codes, `FAMILY.SUBCODE`. */
export const ERROR_CODES = {
  'CONFIG.INVALID': { exit: EXIT.CONFIG, retriable: false, doc: 'A setting is missing or has an invalid value.' },
  'CONFIG.UNKNOWN_STREAM': { exit: EXIT.CONFIG, retriable: false, doc: 'A stream named on the command line or in the config does not exist in the source.' },
  'STATE.CORRUPT': { exit: EXIT.CONFIG, retriable: false, doc: 'Stored state cannot be read; reset the stream with `run --state-reset <stream>`.' },
  'SOURCE.UNREACHABLE': { exit: EXIT.CONNECTION, retriable: true, doc: 'The source host cannot be reached (DNS, refused, timeout).' },
  'SOURCE.AUTH_FAILED': { exit: EXIT.CONNECTION, retriable: false, doc: 'The source rejected the credentials.' },
  'SOURCE.NOT_FOUND': { exit: EXIT.CONNECTION, retriable: false, doc: 'The database, schema, table or object does not exist or is not visible.' },
  'SOURCE.PERMISSION_DENIED': { exit: EXIT.CONNECTION, retriable: false, doc: 'The user cannot read the object.' },
  'SOURCE.QUERY_FAILED': { exit: EXIT.CONNECTION, retriable: false, doc: 'The source failed a query.' },
  'SOURCE.TRANSIENT': { exit: EXIT.CONNECTION, retriable: true, doc: 'A transient source failure (connection reset, server shutting down, serialization failure, 5xx, 429).' },
  'DATA.INVALID_RECORD': { exit: EXIT.DATA, retriable: false, doc: 'A record cannot be represented exactly; the message names the stream, record and reason.' },
  'BRONZE.UNREACHABLE': { exit: EXIT.CONNECTION, retriable: true, doc: 'The bronze target cannot be reached.' },
  'BRONZE.AUTH_FAILED': { exit: EXIT.CONNECTION, retriable: false, doc: 'The bronze target rejected the credentials.' },
  'BRONZE.WRITE_FAILED': { exit: EXIT.INTERNAL, retriable: false, doc: 'Writing bronze output failed; nothing was committed for the batch.' },
  'INTERNAL.ERROR': { exit: EXIT.INTERNAL, retriable: false, doc: 'A bug: please report it with the log.' },
  'RUN.INTERRUPTED': { exit: EXIT.SIGTERM, retriable: false, doc: 'The run was stopped by SIGTERM/SIGINT after storing its last batch.' },
} as const satisfies Record<string, { exit: number; retriable: boolean; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened. */
export interface ErrorWhere {
  kit?: string;
  stream?: string;
  record?: number | string;
  line?: number;
  file?: string;
  column?: string;
}

/** The one error type kits and core throw. */
export class DatakitError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly where: ErrorWhere | undefined;
  /** What the operator can do about it, appended to the message in parentheses. */
  readonly fix: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; where?: ErrorWhere; fix?: string; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DatakitError';
    this.code = code;
    this.retriable = opts.retriable ?? ERROR_CODES[code].retriable;
    this.where = opts.where;
    this.fix = opts.fix;
  }

  /** The exit code of this error's family. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** `kit: stream s: message (fix)` */
  describe(): string {
    const parts: string[] = [];
    if (this.where?.kit) parts.push(`${this.where.kit}:`);
    if (this.where?.stream) parts.push(`stream ${this.where.stream}:`);
    const loc: string[] = [];
    if (this.where?.file) loc.push(`file ${this.where.file}`);
    if (this.where?.line !== undefined) loc.push(`line ${this.where.line}`);
    if (this.where?.record !== undefined) loc.push(`record ${this.where.record}`);
    if (this.where?.column) loc.push(`column ${this.where.column}`);
    if (loc.length) parts.push(`${loc.join(', ')}:`);
    parts.push(this.message);
    if (this.fix) parts.push(`(${this.fix})`);
    return parts.join(' ');
  }

  /** A copy with more location filled in (keeps what is already set). */
  withWhere(where: ErrorWhere): DatakitError {
    const e = new DatakitError(this.code, this.message, { cause: this.cause, where: { ...where, ...this.where }, retriable: this.retriable, ...(this.fix ? { fix: this.fix } : {}) });
    e.stack = this.stack;
    return e;
  }
}

/** True for a DatakitError (also across module copies). */
export function isDatakitError(e: unknown): e is DatakitError {
  return e instanceof DatakitError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DatakitError' && typeof (e as { code?: unknown }).code === 'string');
}

/** Wrap anything thrown into a DatakitError (unknown errors are internal). */
export function toDatakitError(e: unknown, fallback: ErrorCode = 'INTERNAL.ERROR'): DatakitError {
  if (isDatakitError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DatakitError(fallback, message, { cause: e });
}
