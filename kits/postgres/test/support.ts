/**
 * Helpers of the postgres kit's integration tests: a fresh database per file on the testkit server,
 * settings from env-style maps, a silent context, and reading a stream to the end.
 */
import pg from 'pg';
import { createLogger, loadConfig, type Batch, type Context, type Stream, type StreamState } from '@datakit/core';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { postgresConfig, type PostgresKitConfig } from '../src/config.js';
import { postgresKit } from '../src/kit.js';

/** `"name"` quoted for SQL in tests. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A fresh database with `setupSql` run in it; `sql` runs statements as the superuser. */
export interface TestDb {
  url: string;
  sql<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/** Run one statement on a fresh connection to `url`; its rows. */
export async function query<R extends object = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Create a database for one test file. */
export async function testDb(label: string, setupSql?: string): Promise<TestDb> {
  const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName(label));
  const sql = <R extends object>(text: string, params?: unknown[]): Promise<R[]> => query<R>(url, text, params);
  if (setupSql) await sql(setupSql);
  return { url, sql };
}

/** Validated settings from env-style variables. */
export function configOf(env: Record<string, string>, file: Record<string, unknown> = {}): PostgresKitConfig {
  return loadConfig(postgresConfig, { env, file }).config;
}

/** A silent context. */
export function ctxOf(opts: { batchSize?: number; signal?: AbortSignal; partition?: Context['partition'] } = {}): Context {
  return {
    logger: createLogger({ level: 'silent', pretty: false }),
    signal: opts.signal ?? new AbortController().signal,
    batchSize: opts.batchSize ?? 1000,
    runId: 'test',
    ...(opts.partition ? { partition: opts.partition } : {}),
  };
}

/** Discover and return one stream by name. */
export async function streamOf(ctx: Context, config: PostgresKitConfig, name: string): Promise<Stream> {
  const s = (await postgresKit.discover(ctx, config)).find((x) => x.name === name);
  if (!s) throw new Error(`no stream ${name}`);
  return s;
}

/** Read a stream to its end. */
export async function readAll(ctx: Context, config: PostgresKitConfig, stream: Stream, state?: StreamState): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of postgresKit.read(ctx, config, stream, state)) out.push(b);
  return out;
}

/** The rows of batches, flattened. */
export const rowsOf = (batches: Batch[]): unknown[][] => batches.flatMap((b) => b.rows);

/** Connections of an application name, other than the asking one. */
export async function connectionsOf(db: TestDb, applicationName: string): Promise<number> {
  const r = await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [applicationName]);
  return r[0]!.n;
}

/** Poll until `fn` returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<Error & { code?: string; fix?: string; retriable?: boolean; describe?: () => string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

/** A database with a read-only login role, and the settings the built CLI gets to read it. */
export interface CliSource {
  db: TestDb;
  /** Discrete settings (SOURCE_HOST, …, SOURCE_PASSWORD) of the read-only role. */
  env: Record<string, string>;
  password: string;
  /** A wrong password for the same role. */
  wrongPassword: string;
}

/** Create a database with `setupSql` and a role that can read every table of `public`. */
export async function cliSource(label: string, setupSql: string): Promise<CliSource> {
  const db = await testDb(label, setupSql);
  const suffix = Math.random().toString(36).slice(2, 10);
  const role = `dk_cli_${suffix}`;
  const password = `pw-${suffix}-S3cr3t!`;
  await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  const u = new URL(db.url);
  const env = { SOURCE_HOST: u.hostname, SOURCE_PORT: u.port, SOURCE_DATABASE: decodeURIComponent(u.pathname.slice(1)), SOURCE_USER: role, SOURCE_PASSWORD: password };
  return { db, env, password, wrongPassword: `wrong-${suffix}-N0pe` };
}
