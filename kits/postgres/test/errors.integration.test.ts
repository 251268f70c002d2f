import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { freePort } from '@datakit/testkit';
import { openSession } from '../src/connect.js';
import { postgresKit } from '../src/kit.js';
import { configOf, ctxOf, failure, readAll, streamOf, testDb, type TestDb } from './support.js';

const suffix = randomBytes(4).toString('hex');
const ROLE = `dk_err_${suffix}`;
const PASSWORD = `pw-${suffix}-S3cr3t!`;
const WRONG = `wrong-${suffix}-N0pe`;

let db: TestDb;
let goodUrl: string;
beforeAll(async () => {
  db = await testDb(
    'pgerr',
    `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);
     CREATE TABLE secret_stuff (id int PRIMARY KEY);
     CREATE SCHEMA locked;
     CREATE VIEW slow AS SELECT i FROM generate_series(1, 3) AS i, pg_sleep(1) AS s;
     CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
     GRANT USAGE ON SCHEMA public TO ${ROLE};
     GRANT SELECT ON t, secret_stuff, slow TO ${ROLE};`,
  );
  goodUrl = urlWith(PASSWORD);
});

function urlWith(password: string, database?: string): string {
  const u = new URL(db.url);
  u.username = ROLE;
  u.password = encodeURIComponent(password);
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

/** Everything an error could show an operator. */
function shown(e: Error & { fix?: string; describe?: () => string }): string {
  return [e.message, e.fix ?? '', e.describe?.() ?? '', String(e.stack)].join('\n');
}

describe('errors', () => {
  it('reports a wrong password in the URL as SOURCE.AUTH_FAILED naming SOURCE_DATABASE_URL, without the password', async () => {
    const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: urlWith(WRONG) })));
    expect([e.code, e.retriable]).toEqual(['SOURCE.AUTH_FAILED', false]);
    expect(e.message).toContain(`password authentication failed for user "${ROLE}"`);
    expect(e.fix).toBe('check SOURCE_DATABASE_URL');
    expect(shown(e)).not.toContain(WRONG);
    expect(shown(e)).not.toContain(encodeURIComponent(WRONG));
  });

  it('reports a wrong SOURCE_PASSWORD as SOURCE.AUTH_FAILED naming SOURCE_PASSWORD, without the password', async () => {
    const u = new URL(db.url);
    const e = await failure(
      postgresKit.check(ctxOf(), configOf({ SOURCE_HOST: u.hostname, SOURCE_PORT: u.port, SOURCE_DATABASE: u.pathname.slice(1), SOURCE_USER: ROLE, SOURCE_PASSWORD: WRONG })),
    );
    expect(e.code).toBe('SOURCE.AUTH_FAILED');
    expect(e.describe?.()).toMatch(new RegExp(`password authentication failed for user "${ROLE}" \\(check SOURCE_PASSWORD\\)$`));
    expect(shown(e)).not.toContain(WRONG);
  });

  it('connects with discrete settings and the right password', async () => {
    const u = new URL(db.url);
    await postgresKit.check(ctxOf(), configOf({ SOURCE_HOST: u.hostname, SOURCE_PORT: u.port, SOURCE_DATABASE: u.pathname.slice(1), SOURCE_USER: ROLE, SOURCE_PASSWORD: PASSWORD }));
  });

  it('reports a closed port as retriable SOURCE.UNREACHABLE with the fix', async () => {
    const port = await freePort();
    const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_HOST: '127.0.0.1', SOURCE_PORT: String(port), SOURCE_DATABASE: 'x', SOURCE_USER: ROLE, SOURCE_PASSWORD: PASSWORD })));
    expect([e.code, e.retriable]).toEqual(['SOURCE.UNREACHABLE', true]);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.fix).toBe('check SOURCE_HOST/SOURCE_PORT');
    expect(shown(e)).not.toContain(PASSWORD);
  });

  it('reports an unknown database as SOURCE.NOT_FOUND naming it', async () => {
    const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: urlWith(PASSWORD, 'no_such_db') })));
    expect(e.code).toBe('SOURCE.NOT_FOUND');
    expect(e.message).toContain('database "no_such_db" does not exist');
    expect(e.fix).toBe('check SOURCE_DATABASE_URL');
    expect(shown(e)).not.toContain(PASSWORD);
  });

  it('reports an unknown schema as SOURCE.NOT_FOUND naming SOURCE_SCHEMAS, and one without USAGE as SOURCE.PERMISSION_DENIED', async () => {
    const missing = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: goodUrl, SOURCE_SCHEMAS: 'public,nope' })));
    expect([missing.code, missing.fix]).toEqual(['SOURCE.NOT_FOUND', 'check SOURCE_SCHEMAS']);
    expect(missing.message).toContain('"nope"');
    const locked = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: goodUrl, SOURCE_SCHEMAS: 'locked' })));
    expect(locked.code).toBe('SOURCE.PERMISSION_DENIED');
  });

  it('reports a relation the user lost access to as SOURCE.PERMISSION_DENIED on read', async () => {
    const ctx = ctxOf();
    const cfg = configOf({ SOURCE_DATABASE_URL: goodUrl });
    const stream = await streamOf(ctx, cfg, 'secret_stuff');
    await db.sql(`REVOKE SELECT ON secret_stuff FROM ${ROLE}`);
    const e = await failure(readAll(ctx, cfg, stream));
    expect(e.code).toBe('SOURCE.PERMISSION_DENIED');
    expect(e.message).toContain('permission denied');
    expect((e as { where?: { stream?: string } }).where?.stream).toBe('secret_stuff');
  });

  it('reports a statement timeout as SOURCE.QUERY_FAILED naming SOURCE_STATEMENT_TIMEOUT_MS', async () => {
    const ctx = ctxOf();
    const cfg = configOf({ SOURCE_DATABASE_URL: goodUrl, SOURCE_STATEMENT_TIMEOUT_MS: '100' });
    const e = await failure(readAll(ctx, cfg, await streamOf(ctx, cfg, 'slow')));
    expect(e.code).toBe('SOURCE.QUERY_FAILED');
    expect(e.message).toContain('SOURCE_STATEMENT_TIMEOUT_MS=100');
  });

  it('refuses TLS-required modes against a server without TLS, and falls back to plain with prefer', async () => {
    const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: goodUrl, SOURCE_SSLMODE: 'require' })));
    expect(e.code).toBe('SOURCE.AUTH_FAILED');
    expect(e.fix).toContain('SOURCE_SSLMODE');
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: `${goodUrl}?sslmode=prefer` }));
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: goodUrl, SOURCE_SSLMODE: 'disable' }));
  });

  it('opens read-only sessions: a write fails on the server', async () => {
    const session = await openSession(ctxOf(), configOf({ SOURCE_DATABASE_URL: db.url }));
    try {
      const e = await failure(session.query('CREATE TABLE should_fail (x int)'));
      expect(e.message).toContain('read-only transaction');
      const [tz] = await session.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz");
      expect(tz!.tz).toBe('UTC');
    } finally {
      await session.close();
    }
  });
});

/** A CA and a server certificate for `localhost` (no IP address), made with the openssl CLI. */
function certificates(dir: string): { ca: string; otherCa: string; key: Buffer; cert: Buffer } {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=datakit test CA');
  run('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=someone else');
  run('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:localhost\n');
  run('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '2', '-extfile', 'ext');
  return { ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other.crt'), key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.crt')) };
}

/**
 * A TLS front for the test server: answers PostgreSQL's SSLRequest with 'S', terminates TLS, and
 * forwards the plain protocol (cancel requests and plain startups pass through untouched).
 */
let tlsSessions = 0;
function tlsFront(upstreamPort: number, key: Buffer, cert: Buffer): Promise<Server> {
  const server = createServer((sock) => {
    sock.once('data', (first) => {
      const upstream = netConnect(upstreamPort, '127.0.0.1');
      const close = (): void => {
        sock.destroy();
        upstream.destroy();
      };
      upstream.on('error', close);
      sock.on('error', close);
      if (first.length === 8 && first.readInt32BE(4) === 80877103) {
        sock.write('S');
        tlsSessions++;
        const secure = new TLSSocket(sock, { isServer: true, key, cert });
        secure.on('error', close);
        secure.pipe(upstream).pipe(secure);
      } else {
        upstream.write(first);
        sock.pipe(upstream).pipe(sock);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('TLS', () => {
  let front: Server;
  let certs: ReturnType<typeof certificates>;
  const url = (host: string, query = ''): string => {
    const u = new URL(goodUrl);
    u.hostname = host;
    u.port = String((front.address() as AddressInfo).port);
    return `${u.toString()}${query}`;
  };
  beforeAll(async () => {
    certs = certificates(mkdtempSync(join(tmpdir(), 'dk-tls-')));
    front = await tlsFront(Number(new URL(db.url).port), certs.key, certs.cert);
  });
  afterAll(() => new Promise<void>((r) => front.close(() => r())));

  it('encrypts without verifying with require and prefer, and not at all with disable', async () => {
    const before = tlsSessions;
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1', '?sslmode=require') }));
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1'), SOURCE_SSLMODE: 'prefer' }));
    expect(tlsSessions - before).toBe(2);
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1', '?sslmode=require'), SOURCE_SSLMODE: 'disable' }));
    expect(tlsSessions - before).toBe(2);
  });

  it('verifies the chain with verify-ca and the host name too with verify-full', async () => {
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1'), SOURCE_SSLMODE: 'verify-ca', SOURCE_SSLROOTCERT: certs.ca }));
    await postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('localhost'), SOURCE_SSLMODE: 'verify-full', SOURCE_SSLROOTCERT: certs.ca }));
    const wrongHost = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1'), SOURCE_SSLMODE: 'verify-full', SOURCE_SSLROOTCERT: certs.ca })));
    expect(wrongHost.code).toBe('SOURCE.AUTH_FAILED');
    expect(wrongHost.fix).toBe('check SOURCE_SSLMODE and SOURCE_SSLROOTCERT');
  });

  it('rejects a certificate from another CA, with require too once a root certificate is given', async () => {
    for (const mode of ['verify-ca', 'require']) {
      const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1'), SOURCE_SSLMODE: mode, SOURCE_SSLROOTCERT: certs.otherCa })));
      expect(e.code).toBe('SOURCE.AUTH_FAILED');
      expect(shown(e)).not.toContain(PASSWORD);
    }
  });

  it('names SOURCE_SSLROOTCERT when the file cannot be read', async () => {
    const e = await failure(postgresKit.check(ctxOf(), configOf({ SOURCE_DATABASE_URL: url('127.0.0.1'), SOURCE_SSLMODE: 'verify-ca', SOURCE_SSLROOTCERT: '/no/such/ca.crt' })));
    expect(e.code).toBe('CONFIG.INVALID');
    expect(e.message).toContain('SOURCE_SSLROOTCERT');
  });

  it('reads a stream over TLS', async () => {
    const ctx = ctxOf();
    const cfg = configOf({ SOURCE_DATABASE_URL: url('localhost'), SOURCE_SSLMODE: 'verify-full', SOURCE_SSLROOTCERT: certs.ca });
    expect((await readAll(ctx, cfg, await streamOf(ctx, cfg, 't'))).flatMap((b) => b.rows)).toEqual([[1], [2]]);
  });
});
