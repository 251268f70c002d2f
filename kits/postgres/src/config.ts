/**
 * The postgres kit's settings: where the server is, how to authenticate and encrypt, which schemas to
 * list, and how to read each stream (cursor, lookback, chunk size). Environment first, then the config
 * file (`--config`), then the defaults; secrets (`SOURCE_PASSWORD`, the password inside
 * `SOURCE_DATABASE_URL`) are scrubbed from every log line and error.
 */
import { secret, setting } from '@datakit/core';
import { z } from 'zod';

/** TLS modes, with libpq's names and meaning (see docs/kits/postgres.md). */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** One of {@link SSL_MODES}. */
export type SslMode = (typeof SSL_MODES)[number];

/**
 * `a=b,c=d` → `{ a: 'b', c: 'd' }` (for env values); objects pass through. Splits on the first `=`
 * so a stream named `sales.orders` works: `sales.orders=updated_at`.
 */
function pairs(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) return v; // not pairs: let the schema report it
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

const nonEmptyList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)).min(1, 'name at least one schema'),
);

/** A lookback: a PostgreSQL interval (`10 minutes`, `P1D`) or, for numeric cursors, a number. */
const lookbackValue = z.union([z.string().trim().min(1), z.number().nonnegative().transform(String)]);

/** Per-stream options (config file `streams:` key, by stream name). */
const streamOptions = z
  .object({
    cursor_field: z.string().min(1).optional(),
    lookback: lookbackValue.optional(),
    chunk_rows: z.number().int().positive().optional(),
  })
  .strict();

/** Options of one stream under the config file's `streams:` key. */
export type StreamOptions = z.infer<typeof streamOptions>;

/**
 * Parse a `postgres://` / `postgresql://` URL; undefined when it is not one. libpq's
 * `postgresql://user@/db?host=/run/postgresql` (user, no host: a unix socket in `?host=`) is not a
 * valid WHATWG URL, so an empty host becomes `localhost` (which `?host=` then overrides).
 */
export function parsePostgresUrl(text: string): URL | undefined {
  const parse = (t: string): URL | undefined => {
    try {
      const u = new URL(t);
      return ['postgres:', 'postgresql:'].includes(u.protocol) ? u : undefined;
    } catch {
      return undefined;
    }
  };
  return parse(text) ?? parse(text.replace(/^(postgres(?:ql)?:\/\/[^@/?#]*@)(?=[/?#]|$)/i, '$1localhost'));
}

const isPostgresUrl = (v: string): boolean => parsePostgresUrl(v) !== undefined;

/**
 * Settings of the postgres kit.
 *
 * @example
 * SOURCE_DATABASE_URL=postgres://etl@db:5432/shop?sslmode=verify-full
 * SOURCE_PASSWORD_FILE=/run/secrets/pg
 * CURSOR_FIELDS=orders=updated_at,sales.events=id
 */
export const postgresConfig = z
  .object({
    databaseUrl: secret(
      z.string().trim().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL').optional(),
      'SOURCE_DATABASE_URL',
      'Connection URL postgres://user:password@host:port/database?sslmode=…; its password is a secret. Discrete settings fill what it leaves out.',
    ),
    host: setting(z.string().trim().min(1).optional(), { env: 'SOURCE_HOST', description: 'Server host name, IP, or unix socket directory (when there is no URL).' }),
    port: setting(z.coerce.number().int().min(1).max(65535).default(5432), { env: 'SOURCE_PORT', description: 'Server port. @default 5432' }),
    database: setting(z.string().min(1).optional(), { env: 'SOURCE_DATABASE', description: 'Database name (when there is no URL).' }),
    user: setting(z.string().min(1).optional(), { env: 'SOURCE_USER', description: 'Login role (when there is no URL).' }),
    password: secret(z.string().optional(), 'SOURCE_PASSWORD', 'Password (also SOURCE_PASSWORD_FILE); used when the URL has none.'),
    sslMode: setting(z.enum(SSL_MODES).optional(), {
      env: 'SOURCE_SSLMODE',
      description: "TLS: disable | prefer (TLS when the server offers it, unverified) | require | verify-ca | verify-full. @default the URL's sslmode, else prefer",
    }),
    sslRootCert: setting(z.string().min(1).optional(), { env: 'SOURCE_SSLROOTCERT', description: 'PEM file of the CA(s) that signed the server certificate (verify-ca, verify-full; with require it turns on CA verification, as in libpq).' }),
    schemas: setting(nonEmptyList.default(['public']), { env: 'SOURCE_SCHEMAS', description: 'Schemas whose tables, partitioned tables, views and materialized views become streams (comma list). @default public' }),
    cursorFields: setting(z.preprocess(pairs, z.record(z.string().min(1), z.string().min(1), 'expected stream=column pairs, e.g. orders=updated_at,sales.events=id')).default({}), {
      env: 'CURSOR_FIELDS',
      description: 'Incremental streams and their cursor column: orders=updated_at,sales.events=id. Other streams are full refreshes.',
    }),
    lookback: setting(z.union([z.preprocess(pairs, z.record(z.string().min(1), lookbackValue)), lookbackValue]).optional(), {
      env: 'CURSOR_LOOKBACK',
      description: "Re-read this much before the stored cursor on every incremental run: an interval ('10 minutes') for timestamp/date cursors, a number for numeric cursors; one value for all streams or stream=value pairs.",
    }),
    chunkRows: setting(z.coerce.number().int().positive().default(500_000), { env: 'SOURCE_CHUNK_ROWS', description: 'Rows per keyset chunk (one COPY statement each). @default 500000' }),
    statementTimeoutMs: setting(z.coerce.number().int().min(0).default(0), { env: 'SOURCE_STATEMENT_TIMEOUT_MS', description: 'statement_timeout of every statement, one chunk included; 0 = none. @default 0' }),
    partitionBy: setting(z.enum(['auto', 'hash']).default('auto'), {
      env: 'SOURCE_PARTITION_BY',
      description: 'How --partition i/n splits a stream: auto = key ranges for a full refresh of a table with one integer key column, else hash; hash = always hash. @default auto',
    }),
    applicationName: setting(z.string().min(1).max(63).default('datakit-postgres'), { env: 'SOURCE_APPLICATION_NAME', description: 'application_name shown in pg_stat_activity. @default datakit-postgres' }),
    streams: setting(z.record(z.string().min(1), streamOptions).default({}), {
      description: 'Config file only: per-stream options by stream name, { orders: { cursor_field, lookback, chunk_rows } }.',
    }),
  })
  .superRefine((c, issues) => {
    if (c.databaseUrl) return;
    const missing = [!c.host && 'SOURCE_HOST', !c.database && 'SOURCE_DATABASE', !c.user && 'SOURCE_USER'].filter(Boolean);
    if (missing.length) {
      issues.addIssue({
        code: 'custom',
        path: ['databaseUrl'],
        message: `not set, and neither are ${missing.join(', ')}: set SOURCE_DATABASE_URL, or SOURCE_HOST, SOURCE_DATABASE and SOURCE_USER`,
      });
    }
  });

/** Validated settings of the postgres kit. */
export type PostgresKitConfig = z.infer<typeof postgresConfig>;

/** How one stream is read, from {@link PostgresKitConfig}. */
export interface StreamSettings {
  /** The cursor column, when the stream is incremental. */
  cursorField?: string;
  /** The lookback text, when set. */
  lookback?: string;
  chunkRows: number;
}

/**
 * The settings of a stream, looked up by its name (`orders`, `sales.orders`) or its qualified name
 * (`public.orders`). `CURSOR_FIELDS` wins over the config file's `streams.<name>.cursor_field`.
 */
export function streamSettings(config: PostgresKitConfig, names: readonly string[]): StreamSettings {
  const pick = <T>(get: (name: string) => T | undefined): T | undefined => {
    for (const n of names) {
      const v = get(n);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const cursorField = pick((n) => config.cursorFields[n]) ?? pick((n) => config.streams[n]?.cursor_field);
  const lb = config.lookback;
  const lookback = pick((n) => config.streams[n]?.lookback) ?? (typeof lb === 'string' ? lb : lb ? pick((n) => lb[n]) : undefined);
  const chunkRows = pick((n) => config.streams[n]?.chunk_rows) ?? config.chunkRows;
  return { ...(cursorField ? { cursorField } : {}), ...(lookback !== undefined ? { lookback } : {}), chunkRows };
}

/** Stream names the per-stream settings mention (to reject typos). */
export function configuredStreamNames(config: PostgresKitConfig): { setting: string; name: string }[] {
  const lb = config.lookback;
  return [
    ...Object.keys(config.cursorFields).map((name) => ({ setting: 'CURSOR_FIELDS', name })),
    ...(lb && typeof lb === 'object' ? Object.keys(lb).map((name) => ({ setting: 'CURSOR_LOOKBACK', name })) : []),
    ...Object.keys(config.streams).map((name) => ({ setting: 'streams (config file)', name })),
  ];
}
