/**
 * Connections: where the server is (URL or discrete settings), TLS, and a read-only session with the
 * settings the decoders rely on. One {@link Session} per operation; it can be interrupted (abort) and
 * always closes without leaving a backend behind: a busy session is cancelled on the server (a
 * CancelRequest) and its socket destroyed, so a COPY stopped mid-stream never keeps running there.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { DatakitError, type Context } from '@datakit/core';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { parsePostgresUrl, SSL_MODES, type PostgresKitConfig, type SslMode } from './config.js';
import { sourceError, type ErrorContext } from './errors.js';
import { sessionSettingsSql } from './type-map.js';

/** Where and how to connect, resolved from the settings. */
export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  sslMode: SslMode;
  sslRootCert: string | undefined;
  connectTimeoutMs: number;
  applicationName: string;
  statementTimeoutMs: number;
  /** For error messages: which settings to check. */
  errors: Omit<ErrorContext, 'stream'>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

const invalid = (setting: string, message: string): DatakitError => new DatakitError('CONFIG.INVALID', `${setting}: ${message}`, { where: { kit: 'postgres' } });

/**
 * Resolve the settings into one target. The URL wins for what it holds (host, port, database, user,
 * password, `sslmode`, `sslrootcert`, `connect_timeout`; `?host=/run/postgresql` for a unix socket);
 * the discrete settings fill what it leaves out. `SOURCE_SSLMODE`/`SOURCE_SSLROOTCERT` win over the URL.
 */
export function resolveTarget(config: PostgresKitConfig): ConnectionTarget {
  const url = config.databaseUrl ? parsePostgresUrl(config.databaseUrl) : undefined;
  if (config.databaseUrl && !url) throw invalid('SOURCE_DATABASE_URL', 'is not a postgres:// URL');
  const q = url?.searchParams;
  const dec = (s: string | undefined): string | undefined => (s ? decodeURIComponent(s) : undefined);
  const urlHost = dec(url?.hostname)?.replace(/^\[(.*)\]$/, '$1');
  const host = q?.get('host') || urlHost || config.host || 'localhost';
  const portText = url?.port || q?.get('port');
  const port = portText ? Number(portText) : config.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid('SOURCE_DATABASE_URL', 'has an invalid port');
  const database = dec(url?.pathname.replace(/^\//, '')) || q?.get('dbname') || config.database;
  const user = dec(url?.username) || q?.get('user') || config.user;
  const urlPassword = dec(url?.password) || q?.get('password') || undefined;
  const password = urlPassword ?? config.password;
  if (!database) throw invalid('SOURCE_DATABASE_URL', 'names no database: add /<database> to the URL or set SOURCE_DATABASE');
  if (!user) throw invalid('SOURCE_DATABASE_URL', 'names no user: add user@ to the URL or set SOURCE_USER');
  const urlMode = q?.get('sslmode') ?? undefined;
  if (urlMode !== undefined && !(SSL_MODES as readonly string[]).includes(urlMode)) {
    throw invalid('SOURCE_DATABASE_URL', `sslmode=${urlMode} is not supported (use ${SSL_MODES.join(', ')})`);
  }
  const timeoutText = q?.get('connect_timeout');
  const connectTimeoutMs = timeoutText && Number(timeoutText) > 0 ? Number(timeoutText) * 1000 : DEFAULT_CONNECT_TIMEOUT_MS;
  return {
    host,
    port,
    database,
    user,
    password,
    sslMode: config.sslMode ?? (urlMode as SslMode | undefined) ?? 'prefer',
    sslRootCert: config.sslRootCert ?? q?.get('sslrootcert') ?? undefined,
    connectTimeoutMs,
    applicationName: config.applicationName,
    statementTimeoutMs: config.statementTimeoutMs,
    errors: {
      passwordSetting: urlPassword !== undefined ? 'SOURCE_DATABASE_URL' : 'SOURCE_PASSWORD',
      hostSetting: url ? 'SOURCE_DATABASE_URL' : 'SOURCE_HOST/SOURCE_PORT',
      databaseSetting: url && dec(url.pathname.replace(/^\//, '')) ? 'SOURCE_DATABASE_URL' : 'SOURCE_DATABASE',
      user,
      statementTimeoutMs: config.statementTimeoutMs,
      secrets: [password, config.databaseUrl].filter((s): s is string => !!s),
    },
  };
}

/**
 * Node TLS options for a mode (libpq semantics): `prefer` and `require` encrypt without verifying
 * (`require` with a root certificate verifies the CA, as libpq does), `verify-ca` checks the chain,
 * `verify-full` the chain and the host name. Without `sslRootCert`, Node's trusted CAs are used.
 */
export function tlsOptions(target: Pick<ConnectionTarget, 'sslMode' | 'sslRootCert'>): false | ConnectionOptions {
  const mode = target.sslMode === 'require' && target.sslRootCert ? 'verify-ca' : target.sslMode;
  if (mode === 'disable') return false;
  if (mode === 'prefer' || mode === 'require') return { rejectUnauthorized: false };
  let ca: Buffer | undefined;
  if (target.sslRootCert) {
    try {
      ca = readFileSync(target.sslRootCert);
    } catch (e) {
      throw invalid('SOURCE_SSLROOTCERT', `cannot read ${target.sslRootCert}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    // verify-ca: any host name, as long as the chain is trusted
    ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** The statements that make a session read-only and fix the text forms the decoders rely on. */
export function sessionSql(target: Pick<ConnectionTarget, 'statementTimeoutMs'>): string {
  return [
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
    'SET default_transaction_read_only TO on',
    `SET statement_timeout TO ${Math.trunc(target.statementTimeoutMs)}`,
    sessionSettingsSql(),
  ].join('; ');
}

type CopyStream = ReturnType<typeof copyTo>;
interface BackendKey {
  processID: number | null;
  secretKey: number | null;
}

/** One connection to the source, read-only, with the decoders' session settings. */
export class Session {
  private copying: CopyStream | undefined;
  /** Statements in flight (pg queues them; a COPY counts until its last byte is read). */
  private active = 0;
  private closed = false;
  /** A COPY was left unfinished: the connection cannot be reused. */
  private broken = false;

  constructor(
    readonly client: pg.Client,
    readonly target: ConnectionTarget,
    readonly errorContext: ErrorContext,
  ) {
    // an idle connection that dies emits 'error'; the next statement reports it
    client.on('error', () => undefined);
  }

  /** Run a statement; errors become DatakitErrors. */
  async query<R extends object>(sql: string, params?: unknown[]): Promise<R[]> {
    this.active++;
    try {
      const r = await this.client.query<R>(sql, params);
      return r.rows;
    } catch (e) {
      throw sourceError(e, this.errorContext);
    } finally {
      this.active--;
    }
  }

  /** The bytes of `COPY … TO STDOUT`, with backpressure (the socket is read only as fast as this is). */
  async *copyOut(sql: string): AsyncGenerator<Buffer> {
    const stream = this.client.query(copyTo(sql));
    // errors reach the iterator; this keeps a late one (after we stopped reading) from crashing the process
    stream.on('error', () => undefined);
    this.copying = stream;
    this.active++;
    let complete = false;
    try {
      for await (const chunk of stream) yield chunk as Buffer;
      complete = true;
    } catch (e) {
      throw sourceError(e, this.errorContext);
    } finally {
      this.copying = undefined;
      if (complete) this.active--;
      else {
        // stopped early or failed: the connection may be mid-COPY; close() cancels and destroys it
        this.broken = true;
        stream.destroy();
      }
    }
  }

  /** Stop what runs now (on abort): the current COPY ends with an error, the statement is cancelled. */
  interrupt(): void {
    this.copying?.destroy(new Error('read aborted'));
    if (this.active > 0) void this.cancel();
  }

  /** Ask the server to cancel the running statement (a CancelRequest on a new socket); best effort, ≤ 2 s. */
  cancel(): Promise<void> {
    const { processID, secretKey } = this.client as unknown as BackendKey;
    if (processID === null || secretKey === null) return Promise.resolve();
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    const { host, port } = this.target;
    return new Promise<void>((resolve) => {
      const socket = host.startsWith('/') ? netConnect(`${host}/.s.PGSQL.${port}`) : netConnect(port, host);
      const done = (): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      socket.on('error', done);
      socket.on('close', done);
      socket.on('connect', () => socket.end(packet));
    });
  }

  /**
   * Close the connection. A session in the middle of a statement or COPY is cancelled on the server
   * first and its socket destroyed (its transaction rolls back); an idle one ends normally.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.active > 0 || this.broken) {
      this.copying?.destroy();
      await this.cancel();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.end().catch(() => undefined),
      new Promise<void>((r) => {
        timer = setTimeout(r, 2_000);
      }),
    ]);
    clearTimeout(timer);
    (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

function clientConfig(target: ConnectionTarget, ssl: false | ConnectionOptions): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password !== undefined ? { password: target.password } : {}),
    ssl,
    application_name: target.applicationName,
    connectionTimeoutMillis: target.connectTimeoutMs,
    keepAlive: true,
  };
}

/**
 * Open a read-only session. `prefer` tries TLS first and falls back to a plain connection only when
 * the server answers that it does not support TLS (libpq's behaviour for that case).
 */
export async function openSession(ctx: Context, config: PostgresKitConfig, stream?: string): Promise<Session> {
  const target = resolveTarget(config);
  const errorContext: ErrorContext = { ...target.errors, ...(stream ? { stream } : {}) };
  const attempt = async (ssl: false | ConnectionOptions): Promise<pg.Client> => {
    const client = new pg.Client(clientConfig(target, ssl));
    client.on('error', () => undefined);
    // an abort must not wait for a connect timeout
    const onAbort = (): void => void client.end().catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  };
  let client: pg.Client;
  try {
    const ssl = tlsOptions(target);
    try {
      client = await attempt(ssl);
    } catch (e) {
      if (target.sslMode !== 'prefer' || !/does not support SSL/.test((e as Error).message ?? '')) throw e;
      ctx.logger.debug('the server does not offer TLS: connecting without it (SOURCE_SSLMODE=prefer)');
      client = await attempt(false);
    }
  } catch (e) {
    throw sourceError(e, errorContext);
  }
  const session = new Session(client, target, errorContext);
  try {
    await session.query(sessionSql(target));
  } catch (e) {
    await session.close();
    throw e;
  }
  return session;
}
