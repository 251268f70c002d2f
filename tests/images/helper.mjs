#!/usr/bin/env node
// Host-side helper of tests/images/run.sh: a real PostgreSQL (the testkit recipe), seed data, and
// checks of what the images wrote (warehouse tables, Parquet read back with DuckDB, state, JSON).
// Uses the workspace's installed packages (pg from packages/testkit, @duckdb/node-api from
// packages/core); needs no build of its own.
//
//   node helper.mjs serve <info.json> [bigRows]   start PostgreSQL, seed, write URLs, run until SIGTERM
//   node helper.mjs serve-api <info.json>         an HTTP API (bearer token, offset paging) for the rest kit
//   node helper.mjs serve-kafka <info.json>       librdkafka's mock cluster (kcat) with a seeded topic
//   node helper.mjs serve-files <info.json>       CSV files in a local directory and on an SFTP server (sshd)
//   node helper.mjs source-stats <url> <table>    {"rows":…, "sumId":"…"} of a source table
//   node helper.mjs warehouse <url> <table> <rows> <sumId>   (also: no duplicate ids, state present)
//   node helper.mjs state-row <url> <stream>      exit 0 when bronze._datakit_state has the stream
//   node helper.mjs parquet <dir> <rows> <sumId|-> [--distinct] [--source=<name>]   (- : count only)
//   node helper.mjs json <file> <js expression of j>   exit 1 unless the expression is truthy
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const requireFrom = (pkgDir) => createRequire(join(ROOT, pkgDir, 'package.json'));
const pg = requireFrom('packages/testkit')('pg');

function die(msg) {
  console.error(`helper: ${msg}`);
  process.exit(1);
}

async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** testkit's startPostgres: built (dist) when present, else its TypeScript source (Node 24 strips types). */
async function loadStartPostgres() {
  const dist = join(ROOT, 'packages/testkit/dist/services/postgres.js');
  const src = join(ROOT, 'packages/testkit/src/services/postgres.ts');
  const file = existsSync(dist) ? dist : src;
  const mod = await import(pathToFileURL(file).href);
  return mod.startPostgres;
}

const SEED = {
  // a small table of many types: the exact-values path
  orders: `
    CREATE TABLE public.orders (
      id bigint PRIMARY KEY,
      customer text NOT NULL,
      amount numeric(14,2) NOT NULL,
      big numeric(38,10),
      qty integer,
      ok boolean,
      created_at timestamptz NOT NULL,
      day date,
      payload jsonb,
      blob bytea,
      uid uuid,
      updated_at timestamp NOT NULL
    );
    INSERT INTO public.orders
    SELECT g, 'customer ' || (g % 97) || CASE WHEN g % 11 = 0 THEN ' ünïcødé ✓' ELSE '' END,
           (g * 1.37)::numeric(14,2), CASE WHEN g % 5 = 0 THEN NULL ELSE ('12345678901234567890.' || lpad(g::text, 10, '0'))::numeric(38,10) END,
           g % 1000, g % 2 = 0,
           timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 minute',
           date '2024-01-01' + (g % 365),
           jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')),
           decode(lpad(to_hex(g), 8, '0'), 'hex'),
           md5(g::text)::uuid,
           timestamp '2024-01-01 00:00:00' + g * interval '1 second'
    FROM generate_series(1, 5000) g;`,
  // a big table for the SIGTERM test (rows set by `serve`'s bigRows)
  events: (n) => `
    CREATE TABLE public.events (id bigint PRIMARY KEY, kind text NOT NULL, value double precision, at timestamptz NOT NULL);
    INSERT INTO public.events
    SELECT g, 'kind-' || (g % 13), g / 7.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
    FROM generate_series(1, ${n}) g;
    ANALYZE public.events;`,
};

async function serve(infoFile, bigRows = 2_000_000) {
  const startPostgres = await loadStartPostgres();
  const t0 = Date.now();
  const server = await startPostgres({ password: 'image-test-pw' });
  let stopping = false;
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    await server.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  try {
    const dbUrl = (db) => {
      const u = new URL(server.url);
      u.pathname = `/${db}`;
      return u.toString();
    };
    await withClient(server.url, async (c) => {
      await c.query('CREATE DATABASE source');
      await c.query('CREATE DATABASE warehouse');
    });
    await withClient(dbUrl('source'), async (c) => {
      await c.query(SEED.orders);
      await c.query(SEED.events(bigRows));
      await c.query('ANALYZE');
    });
    const info = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      serverUrl: server.url,
      sourceUrl: dbUrl('source'),
      warehouseUrl: dbUrl('warehouse'),
      bigRows,
    };
    writeFileSync(infoFile, JSON.stringify(info, null, 2));
    console.error(`helper: PostgreSQL on 127.0.0.1:${server.port} seeded (orders 5000, events ${bigRows}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (e) {
    console.error(`helper: seeding failed: ${e?.stack ?? e}`);
    await stop(1);
  }
  setInterval(() => undefined, 1 << 30); // keep running until signalled
}

/** 120 items behind a bearer token, paged by offset/limit: `{ data: [...], total }`. */
const API_TOKEN = 'img-api-token-5b7e2c91';
const API_ITEMS = Array.from({ length: 120 }, (_, i) => ({
  id: i + 1,
  name: `item ${i + 1}${i % 7 === 0 ? ' ✓ ünïcødé' : ''}`,
  price: Number(((i + 1) * 1.25).toFixed(2)),
  active: i % 2 === 0,
  updated_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
}));

async function serveApi(infoFile) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${API_TOKEN}`) return send(401, { error: 'unauthorized' });
    if (url.pathname !== '/items') return send(404, { error: 'not found' });
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    return send(200, { data: API_ITEMS.slice(offset, offset + limit), total: API_ITEMS.length });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const sumId = API_ITEMS.reduce((a, x) => a + x.id, 0);
  writeFileSync(infoFile, JSON.stringify({ url: `http://127.0.0.1:${port}`, token: API_TOKEN, rows: API_ITEMS.length, sumId: String(sumId) }, null, 2));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Exit 0 when bronze._datakit_state has a row for the stream (the table may not exist yet). */
async function stateRow(url, stream) {
  const n = await withClient(url, async (c) => {
    const t = await c.query(`SELECT to_regclass('bronze._datakit_state') IS NOT NULL AS ok`);
    if (!t.rows[0].ok) return 0;
    const r = await c.query(`SELECT count(*)::int AS n FROM bronze._datakit_state WHERE stream = $1`, [stream]);
    return r.rows[0].n;
  });
  process.exit(n > 0 ? 0 : 1);
}

/** testkit's startKafka (dist or TypeScript source) and a topic of 300 JSON messages on 4 partitions. */
async function serveKafka(infoFile) {
  const dist = join(ROOT, 'packages/testkit/dist/services/kafka.js');
  const file = existsSync(dist) ? dist : join(ROOT, 'packages/testkit/src/services/kafka.ts');
  const { startKafka } = await import(pathToFileURL(file).href);
  const kafka = await startKafka({ reuse: false });
  const { Kafka, logLevel } = requireFrom('kits/kafka')('kafkajs');
  const client = new Kafka({ clientId: 'image-tests', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const producer = client.producer();
  await producer.connect();
  const topic = 'img_events';
  const rows = 300;
  for (let i = 0; i < rows; i += 100) {
    const messages = Array.from({ length: 100 }, (_, j) => ({ key: `k${(i + j) % 17}`, value: JSON.stringify({ id: i + j + 1, note: `event ${i + j + 1}` }) }));
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  writeFileSync(infoFile, JSON.stringify({ brokers: kafka.brokers.join(','), topic, rows }, null, 2));
  const stop = () => void kafka.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => undefined, 1 << 30);
}

/**
 * The file kit's inputs: the same CSV files (orders, two files, quoted fields, unicode, a NULL amount)
 * in a local directory (mounted into the image) and on a real SFTP server (Debian's sshd) on 127.0.0.1.
 */
async function serveFiles(infoFile) {
  const dist = join(ROOT, 'packages/testkit/dist/services/sftp.js');
  const file = existsSync(dist) ? dist : join(ROOT, 'packages/testkit/src/services/sftp.ts');
  const { startSftp } = await import(pathToFileURL(file).href);
  const sftp = await startSftp();
  const files = { 'orders-1.csv': [1, 600], 'orders-2.csv': [601, 1000] };
  const local = join(dirname(infoFile), 'file-input');
  let sumId = 0;
  for (const root of [local, sftp.root]) {
    mkdirSync(join(root, 'orders'), { recursive: true, mode: 0o755 });
    for (const [name, [from, to]] of Object.entries(files)) {
      const lines = ['id,amount,note'];
      for (let id = from; id <= to; id++) {
        lines.push(`${id},${id % 10 === 0 ? '' : `${id}.${String(id % 100).padStart(2, '0')}`},"order ${id}, ünïcødé ✓"`);
        if (root === local) sumId += id;
      }
      writeFileSync(join(root, 'orders', name), lines.join('\n') + '\n');
      chmodSync(join(root, 'orders', name), 0o644);
    }
  }
  writeFileSync(infoFile, JSON.stringify({ local, sftpUrl: sftp.url(''), password: sftp.password, hostKey: sftp.hostKeyFingerprint, rows: 1000, sumId }, null, 2));
  console.error(`helper: files in ${local} and on SFTP 127.0.0.1:${sftp.port}`);
  const stop = () => void sftp.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => undefined, 1 << 30);
}

async function sourceStats(url, table) {
  const r = await withClient(url, (c) => c.query(`SELECT count(*)::text AS rows, coalesce(sum(id),0)::text AS "sumId" FROM ${table}`));
  console.log(JSON.stringify({ rows: Number(r.rows[0].rows), sumId: r.rows[0].sumId }));
}

async function warehouse(url, table, rows, sumId) {
  await withClient(url, async (c) => {
    const t = await c.query(`SELECT count(*)::text AS n, coalesce(sum(id),0)::text AS s, count(DISTINCT id)::text AS d,
                                    count(DISTINCT _bronze_run_id)::int AS runs, min(_bronze_source) AS src FROM bronze.${table}`);
    const { n, s, d, runs, src } = t.rows[0];
    if (Number(n) !== Number(rows) || s !== String(sumId)) die(`bronze.${table}: ${n} rows, sum(id) ${s}; expected ${rows} rows, sum(id) ${sumId}`);
    if (Number(d) !== Number(rows)) die(`bronze.${table}: ${d} distinct ids in ${n} rows (duplicates)`);
    const st = await c.query(`SELECT count(*)::int AS n FROM bronze._datakit_state`);
    if (st.rows[0].n < 1) die('bronze._datakit_state has no row');
    console.log(JSON.stringify({ table: `bronze.${table}`, rows: Number(n), sumId: s, runs, source: src, stateRows: st.rows[0].n }));
  });
}

/** Every visible .parquet file under dir (skipping `_`/`.` names, as readers do). */
function parquetFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet')) out.push(p);
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  return out.sort();
}

async function parquet(dir, rows, sumId, distinct, source = 'postgres') {
  const files = parquetFiles(dir);
  if (!files.length) die(`no .parquet files under ${dir}`);
  const duck = await import(pathToFileURL(requireFrom('packages/core').resolve('@duckdb/node-api')).href);
  const instance = await duck.DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::VARCHAR AS n, ${sumId === '-' ? `'-'` : 'coalesce(sum(id),0)::VARCHAR'} AS s, ${sumId === '-' ? 'count(*)' : 'count(DISTINCT id)'}::VARCHAR AS d,
              count(DISTINCT _bronze_run_id)::VARCHAR AS runs, min(_bronze_source) AS src
       FROM read_parquet([${list}])`,
    );
    const [n, s, d, runs, src] = reader.getRows()[0];
    if (sumId === '-' && Number(n) !== Number(rows)) die(`${dir}: ${n} rows in ${files.length} file(s); expected ${rows}`);
    if (sumId !== '-' && (Number(n) !== Number(rows) || s !== String(sumId))) die(`${dir}: ${n} rows, sum(id) ${s} in ${files.length} file(s); expected ${rows} rows, sum(id) ${sumId}`);
    if (distinct && Number(d) !== Number(rows)) die(`${dir}: ${d} distinct ids in ${n} rows (duplicates)`);
    if (src !== source) die(`${dir}: _bronze_source is ${src}, expected ${source}`);
    console.log(JSON.stringify({ dir, files: files.length, rows: Number(n), sumId: s, distinctIds: Number(d), runs: Number(runs) }));
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

function json(file, expr) {
  let j;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    die(`${file}: not JSON (${e.message}): ${readFileSync(file, 'utf8').slice(0, 500)}`);
  }
  let v;
  try {
    v = new Function('j', `return (${expr});`)(j);
  } catch (e) {
    die(`${file}: ${expr}: ${e.message}`);
  }
  if (!v) die(`${file}: expected ${expr}; got ${JSON.stringify(j).slice(0, 800)}`);
  if (v !== true) console.log(typeof v === 'string' ? v : JSON.stringify(v));
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case 'serve':
    await serve(args[0], args[1] ? Number(args[1]) : undefined);
    break;
  case 'serve-kafka':
    await serveKafka(args[0]);
    break;
  case 'serve-api':
    await serveApi(args[0]);
    break;
  case 'serve-files':
    await serveFiles(args[0]);
    break;
  case 'state-row':
    await stateRow(args[0], args[1]);
    break;
  case 'source-stats':
    await sourceStats(args[0], args[1]);
    break;
  case 'warehouse':
    await warehouse(args[0], args[1], args[2], args[3]);
    break;
  case 'parquet':
    await parquet(args[0], args[1], args[2], args.includes('--distinct'), args.find((a) => a.startsWith('--source='))?.slice(9));
    break;
  case 'json':
    json(args[0], args[1]);
    break;
  default:
    die(`unknown command ${cmd ?? ''}`);
}
