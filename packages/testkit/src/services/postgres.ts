/**
 * A real PostgreSQL server for tests: Debian's `postgresql-15` (or `PG_BIN`), started as the
 * `postgres` user on 127.0.0.1 with a dynamic port, dying with its parent (`setpriv --pdeathsig`).
 * Recipe: ../shared/TEST-SERVICES.md §1. `DATAKIT_TEST_PG_URL` reuses a running server instead.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

export interface PostgresService {
  /** Superuser URL to the `postgres` database. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

function pgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  if (!majors.length) throw new Error('PostgreSQL server binaries not found: apt-get install postgresql-15 (or set PG_BIN)');
  return join(root, majors[0]!, 'bin');
}

/** Start a throwaway PostgreSQL on 127.0.0.1. */
export async function startPostgres(opts: { password?: string } = {}): Promise<PostgresService> {
  const password = opts.password ?? 'datakit-test-pw';
  const bin = pgBin();
  const asRoot = process.getuid?.() === 0;
  const base = mkdtempSync(join(tmpdir(), 'datakit-pg-'));
  const pwfile = join(base, 'pw');
  writeFileSync(pwfile, password);
  let uid: number | undefined;
  let gid: number | undefined;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(base, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  execFileSync(join(bin, 'initdb'), ['-D', join(base, 'data'), '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'], {
    stdio: 'ignore',
    ...(asRoot ? { uid, gid } : {}),
  });
  const port = await freePort();
  const args = [join(bin, 'postgres'), '-D', join(base, 'data'), '-c', 'listen_addresses=127.0.0.1', '-c', `port=${port}`, '-c', `unix_socket_directories=${base}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const cmd = 'setpriv';
  const cmdArgs = asRoot ? ['--reuid=postgres', '--regid=postgres', '--init-groups', '--pdeathsig=SIGINT', '--', ...args] : ['--pdeathsig=SIGINT', '--', ...args];
  const child: ChildProcess = spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes('database system is ready to accept connections')) {
        child.stderr!.off('data', onData);
        child.stderr!.resume();
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${buf.slice(-2000)}`)));
  });
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Create a fresh database on the server and return its URL (one database per test file). */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** A unique database name for a test file. */
export function testDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
