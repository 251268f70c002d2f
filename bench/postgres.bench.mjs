#!/usr/bin/env node
// Benchmark of @datakit/kit-postgres on one table of BENCH_ROWS rows (default 2,000,000):
//
//   orders(id bigint primary key, customer_id int, amount numeric(18,4), description text,
//          status varchar(20), is_paid bool, created_at timestamptz, order_date date, attrs jsonb,
//          ext_id uuid, score float8, coupon text -- 20 % NULL)
//
// on a throwaway PostgreSQL (Debian postgresql-15 through the testkit's startPostgres), measured in
// the same run, each in its own child process:
//   (a) reference      psql -c "COPY orders TO STDOUT (FORMAT binary)" > /dev/null   (fastest of 3)
//   (b) extraction     postgresKit.read() over the whole table, rows counted (bench/lib/postgres-read.mjs)
//   (c) → Parquet      the built CLI `run orders`, BRONZE_URL=file:///tmp/…, NODE_OPTIONS=--max-old-space-size=256
//   (d) → warehouse    the built CLI `run orders`, BRONZE_URL=postgres://…/bench_bronze (same server),
//                      NODE_OPTIONS as the image's entrypoint sets them in a 512 Mi pod
//   (e) node raw COPY  pg-copy-streams, binary COPY bytes counted, nothing decoded (informational)
//   (f) pg-cursor      SELECT * through pg-cursor, values left as text (the alternative extraction:
//                      its cheapest form, compared with (b); bench/lib/pg-cursor-read.mjs)
// For each: wall time of the child process, rows/s, throughput ratio to (a), peak RSS (GNU time's %M,
// i.e. the kernel's ru_maxrss; else VmHWM polled from /proc). Floors (PASS/FAIL, never the exit code):
//   extraction ≥ 0.4× reference; → Parquet ≥ 40k rows/s and peak RSS < 400 MB;
//   → warehouse ≥ 100k rows/s and peak RSS < 250 MB.
// Writes bench/results/postgres.json.
//
// Env: BENCH_ROWS (default 2000000), BENCH_REPEAT (default 1: runs of each step, the fastest is kept;
// the reference always runs at least 3 times), BATCH_SIZE (passed to the kit, default the kit's), BENCH_PROFILE=1
// (node --cpu-prof for (b)–(d), profiles in bench/results/profiles/), BENCH_NODE_OPTIONS (added to the
// NODE_OPTIONS of (b)–(d), e.g. --max-semi-space-size=16), BENCH_ONLY=a,b,c,d,e,f,
// DATAKIT_BENCH_PG_URL (a superuser URL to use instead of starting a server).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const kitMain = join(root, 'kits/postgres/dist/main.js');
const kitIndex = join(root, 'kits/postgres/dist/index.js');
const testkitPostgres = join(root, 'packages/testkit/dist/services/postgres.js');
const resultsDir = join(root, 'bench/results');
const profileDir = join(resultsDir, 'profiles');

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d,e,f').split(',').map((s) => s.trim()));
const PROFILE = process.env.BENCH_PROFILE === '1';
/** Extra NODE_OPTIONS for the kit's child processes (b)–(d), e.g. `--max-semi-space-size=16`. */
const EXTRA_NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? '';
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
/**
 * (d) runs with the flags the image's entrypoint gives node in a 512 Mi pod (docker/entrypoint.sh):
 * V8's defaults on this 24 GB machine are a 4 GB heap with 128 MB of young generation, which no
 * deployment of a batch container uses (measured: 353 MB peak RSS with them, at the same speed).
 */
const WAREHOUSE_NODE_OPTIONS = '--max-old-space-size=320 --max-semi-space-size=32';
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const FLOORS = {
  extractionRatio: 0.4,
  parquetRowsPerSecond: 40_000,
  parquetRssMb: 400,
  warehouseRowsPerSecond: 100_000,
  warehouseRssMb: 250,
};

for (const file of ONLY.has('b') || ONLY.has('c') || ONLY.has('d') ? [kitMain, kitIndex] : []) {
  if (!existsSync(file)) {
    const what = 'the postgres kit (turbo run build --filter=@datakit/kit-postgres)';
    console.error(`postgres bench: ${file} is missing: build ${what}; pnpm bench builds every kit`);
    process.exit(1);
  }
}

const log = (s = '') => process.stdout.write(`${s}\n`);
const mb = (kb) => kb / 1024;
const fmtInt = (n) => Math.round(n).toLocaleString('en');

// ---- the server ---------------------------------------------------------------------------------------
let service;
let serverUrl = process.env.DATAKIT_BENCH_PG_URL;
if (!serverUrl) {
  if (!existsSync(testkitPostgres)) {
    console.error(`postgres bench: ${testkitPostgres} is missing: build the testkit (turbo run build --filter=@datakit/testkit)`);
    process.exit(1);
  }
  const { startPostgres } = await import(pathToFileURL(testkitPostgres).href);
  service = await startPostgres();
  serverUrl = service.url;
}
const dbUrl = (name) => {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
};
const srcUrl = dbUrl('bench_src');
const bronzeDbUrl = dbUrl('bench_bronze');
const tmp = mkdtempSync(join(tmpdir(), 'datakit-bench-pg-'));
const cleanup = async () => {
  rmSync(tmp, { recursive: true, force: true });
  await service?.stop();
};
process.once('SIGINT', () => cleanup().finally(() => process.exit(130)));
process.once('SIGTERM', () => cleanup().finally(() => process.exit(143)));

async function sql(url, text, params) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

const results = {
  kit: 'postgres',
  date: new Date().toISOString(),
  node: process.version,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
  rows: ROWS,
  ...(EXTRA_NODE_OPTIONS ? { nodeOptions: EXTRA_NODE_OPTIONS } : {}),
  floors: FLOORS,
};

const loadStart = loadavg();
if (loadStart[0] > cpus().length / 2) {
  log(`postgres bench: load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs: other work is running, the figures will be noisy (BENCH_REPEAT=3 keeps the fastest of 3)`);
}

try {
  // ---- the table ------------------------------------------------------------------------------------------
  let t = performance.now();
  for (const db of ['bench_src', 'bench_bronze']) {
    await sql(serverUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await sql(serverUrl, `CREATE DATABASE ${db}`);
  }
  await sql(
    srcUrl,
    `CREATE TABLE orders (
       id bigint, customer_id int, amount numeric(18,4), description text, status varchar(20), is_paid bool,
       created_at timestamptz, order_date date, attrs jsonb, ext_id uuid, score float8, coupon text);
     INSERT INTO orders
     SELECT i,
            1 + (i * 7919) % 250000,
            round(((i * 104729) % 100000000) / 10000.0, 4),
            'Order ' || i || ' for customer ' || (1 + (i * 7919) % 250000) || ' — ' || substr(md5(i::text), 1, (8 + i % 24)::int),
            (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'])[1 + (i * 13) % 6],
            (i * 13) % 6 IN (1, 2, 3),
            timestamptz '2020-01-01 00:00:00+00' + i * interval '47 seconds' + ((i * 7919) % 1000000) * interval '1 microsecond',
            date '2020-01-01' + ((i * 47) / 86400)::int,
            jsonb_build_object('channel', (ARRAY['web', 'app', 'store', 'phone'])[1 + i % 4], 'items', (1 + i % 9)::int,
                               'gift', i % 10 = 0, 'tags', jsonb_build_array('t' || (i % 5), 't' || (i % 7))),
            md5('ext' || i)::uuid,
            ((i * 2654435761) % 1000000) / 997.0,
            CASE WHEN i % 5 = 0 THEN NULL ELSE 'CPN-' || (i % 1000) END
     FROM generate_series(1::bigint, ${ROWS}::bigint) AS i;
     ALTER TABLE orders ADD PRIMARY KEY (id);`,
  );
  await sql(srcUrl, 'VACUUM (FREEZE, ANALYZE) orders');
  const meta = (
    await sql(srcUrl, `SELECT version() AS v, pg_table_size('orders') AS heap, pg_total_relation_size('orders') AS total, current_setting('shared_buffers') AS sb`)
  ).rows[0];
  results.postgres = { version: meta.v, tableBytes: Number(meta.heap), totalBytes: Number(meta.total), sharedBuffers: meta.sb };
  results.setupSeconds = (performance.now() - t) / 1000;
  log(`postgres: ${fmtInt(ROWS)} rows, table ${(meta.heap / 2 ** 20).toFixed(0)} MiB (+ pk ${((meta.total - meta.heap) / 2 ** 20).toFixed(0)} MiB), loaded in ${results.setupSeconds.toFixed(1)} s`);
  log(`          ${meta.v.split(',')[0]}, ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${results.machine.memoryGb} GB`);

  const baseEnv = { ...process.env };
  for (const k of ['BRONZE_URL', 'WAREHOUSE_DATABASE_URL', 'BRONZE_SOURCE', 'STREAMS_INCLUDE', 'STREAMS_EXCLUDE', 'DATAKIT_CONFIG', 'NODE_OPTIONS']) delete baseEnv[k];
  baseEnv.SOURCE_DATABASE_URL = srcUrl;
  if (EXTRA_NODE_OPTIONS) baseEnv.NODE_OPTIONS = EXTRA_NODE_OPTIONS;
  baseEnv.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
  const nodeArgs = (label) => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`] : []);
  if (PROFILE) mkdirSync(profileDir, { recursive: true });

  // warm the page cache: one untimed pass
  await measure('psql', [srcUrl, '-X', '-q', '-c', 'COPY orders TO STDOUT (FORMAT binary)'], { stdoutToNull: true });

  // ---- (a) reference ----------------------------------------------------------------------------------
  if (ONLY.has('a') || ONLY.has('b')) {
    const { best, runs } = await fastest(Math.max(3, REPEAT), async () => {
      const r = await measure('psql', [srcUrl, '-X', '-q', '-c', 'COPY orders TO STDOUT (FORMAT binary)'], { stdoutToNull: true });
      if (r.code !== 0) throw new Error(`psql COPY failed (exit ${r.code}): ${r.stderr}`);
      return { seconds: r.seconds, peakRssMb: mb(r.peakRssKb) };
    });
    results.reference = { what: `psql COPY orders TO STDOUT (FORMAT binary) > /dev/null, fastest of ${runs.length}`, ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }

  // ---- (e) node raw COPY (informational) ----------------------------------------------------------------
  if (ONLY.has('e')) {
    const { best, runs } = await fastest(REPEAT, async () => {
      const r = await measure(process.execPath, [join(root, 'bench/lib/raw-copy.mjs')], { env: baseEnv });
      if (r.code !== 0) throw new Error(`raw COPY child failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
      return { seconds: r.seconds, peakRssMb: mb(r.peakRssKb), bytes: JSON.parse(r.stdout).bytes };
    });
    results.nodeRawCopy = { what: 'pg-copy-streams binary COPY in Node, bytes counted, nothing decoded', ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }

  // ---- (f) pg-cursor (the alternative extraction) ----------------------------------------------------------
  if (ONLY.has('f')) {
    const { best, runs } = await fastest(REPEAT, async () => {
      const r = await measure(process.execPath, [join(root, 'bench/lib/pg-cursor-read.mjs')], { env: baseEnv });
      if (r.code !== 0) throw new Error(`pg-cursor child failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
      const out = JSON.parse(r.stdout);
      if (out.rows !== ROWS) throw new Error(`pg-cursor read ${out.rows} rows, expected ${ROWS}`);
      return { seconds: r.seconds, peakRssMb: mb(r.peakRssKb) };
    });
    results.pgCursor = { what: 'pg-cursor SELECT *, values as text (no parsing), BATCH_SIZE rows per read', ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }

  // ---- (b) extraction alone -----------------------------------------------------------------------------
  if (ONLY.has('b')) {
    const { best, runs } = await fastest(REPEAT, async () => {
      const r = await measure(process.execPath, [...nodeArgs('read'), join(root, 'bench/lib/postgres-read.mjs')], { env: baseEnv });
      if (r.code !== 0) throw new Error(`kit read child failed (exit ${r.code}): ${r.stderr.slice(-3000)}`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
      if (out.rows !== ROWS) throw new Error(`kit read returned ${out.rows} rows, expected ${ROWS}`);
      return { seconds: r.seconds, readSeconds: out.seconds, readRowsPerSecond: ROWS / out.seconds, batches: out.batches, peakRssMb: mb(r.peakRssKb) };
    });
    results.extraction = { what: 'postgresKit.read() over the whole table, rows counted (child process)', ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }

  // ---- (c) → Parquet ------------------------------------------------------------------------------------
  if (ONLY.has('c')) {
    const { best, runs } = await fastest(REPEAT, async () => {
      const out = join(tmp, 'bronze');
      const env = { ...baseEnv, BRONZE_URL: pathToFileURL(out).href, NODE_OPTIONS: `--max-old-space-size=256 ${EXTRA_NODE_OPTIONS}`.trim() };
      const r = await measure(process.execPath, [...nodeArgs('parquet'), kitMain, 'run', 'orders'], { env });
      const report = parseReport(r, '→ Parquet');
      const files = report.streams.flatMap((s) => s.outputs ?? []).map((f) => join(out, f));
      const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
      rmSync(out, { recursive: true, force: true });
      return { seconds: r.seconds, reportSeconds: report.durationSeconds, peakRssMb: mb(r.peakRssKb), files: files.length, bytes };
    });
    results.parquet = { what: `CLI run orders → Parquet, NODE_OPTIONS=--max-old-space-size=256 ${EXTRA_NODE_OPTIONS} (child process)`, ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }

  // ---- (d) → warehouse ----------------------------------------------------------------------------------
  if (ONLY.has('d')) {
    const { best, runs } = await fastest(REPEAT, async () => {
      const env = { ...baseEnv, BRONZE_URL: bronzeDbUrl, NODE_OPTIONS: `${WAREHOUSE_NODE_OPTIONS} ${EXTRA_NODE_OPTIONS}`.trim() };
      const r = await measure(process.execPath, [...nodeArgs('warehouse'), kitMain, 'run', 'orders'], { env });
      const report = parseReport(r, '→ warehouse');
      const tables = (await sql(bronzeDbUrl, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bronze' AND c.relkind = 'r' AND c.relname LIKE 'br\\_%'`)).rows;
      const table = tables.find((x) => x.relname === 'br_orders') ?? tables[0];
      const count = table ? Number((await sql(bronzeDbUrl, `SELECT count(*) AS n FROM bronze."${table.relname}"`)).rows[0].n) : undefined;
      if (count !== ROWS) throw new Error(`warehouse: bronze table ${table?.relname} has ${count} rows, expected ${ROWS}`);
      const size = Number((await sql(bronzeDbUrl, `SELECT pg_total_relation_size('bronze."${table.relname}"') AS b`)).rows[0].b);
      return { seconds: r.seconds, reportSeconds: report.durationSeconds, peakRssMb: mb(r.peakRssKb), table: `bronze.${table.relname}`, tableBytes: size };
    });
    results.warehouse = { what: `CLI run orders → Postgres bronze (second database, same server), NODE_OPTIONS=${WAREHOUSE_NODE_OPTIONS} ${EXTRA_NODE_OPTIONS} (child process)`, ...best, rowsPerSecond: ROWS / best.seconds, runs };
  }
  results.loadAverage = { start: loadStart, end: loadavg() };
} finally {
  await cleanup();
}

// ---- verdicts, table, JSON ----------------------------------------------------------------------------------
const ref = results.reference;
const ratio = (x) => (ref && x ? x.rowsPerSecond / ref.rowsPerSecond : undefined);
for (const k of ['nodeRawCopy', 'pgCursor', 'extraction', 'parquet', 'warehouse']) if (results[k] && ref) results[k].ratioToReference = ratio(results[k]);
const checks = [];
const check = (name, value, ok, floor) => value !== undefined && checks.push({ name, value, floor, pass: ok });
if (results.extraction && ref) check('extraction ≥ 0.4× reference', results.extraction.ratioToReference, results.extraction.ratioToReference >= FLOORS.extractionRatio, `≥ ${FLOORS.extractionRatio}×`);
if (results.parquet) {
  check('→ Parquet ≥ 40k rows/s', results.parquet.rowsPerSecond, results.parquet.rowsPerSecond >= FLOORS.parquetRowsPerSecond, `≥ ${fmtInt(FLOORS.parquetRowsPerSecond)} rows/s`);
  check('→ Parquet peak RSS < 400 MB (heap 256 MB)', results.parquet.peakRssMb, results.parquet.peakRssMb < FLOORS.parquetRssMb, `< ${FLOORS.parquetRssMb} MB`);
}
if (results.warehouse) {
  check('→ warehouse ≥ 100k rows/s', results.warehouse.rowsPerSecond, results.warehouse.rowsPerSecond >= FLOORS.warehouseRowsPerSecond, `≥ ${fmtInt(FLOORS.warehouseRowsPerSecond)} rows/s`);
  check('→ warehouse peak RSS < 250 MB', results.warehouse.peakRssMb, results.warehouse.peakRssMb < FLOORS.warehouseRssMb, `< ${FLOORS.warehouseRssMb} MB`);
}
results.checks = checks;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'postgres.json'), `${JSON.stringify(results, null, 2)}\n`);

log();
log(`  ${'what'.padEnd(34)} ${'seconds'.padStart(8)} ${'rows/s'.padStart(11)} ${'× ref'.padStart(7)} ${'peak RSS'.padStart(10)}`);
const line = (label, r) =>
  r && log(`  ${label.padEnd(34)} ${r.seconds.toFixed(2).padStart(8)} ${fmtInt(r.rowsPerSecond).padStart(11)} ${(r === ref ? '1.00' : r.ratioToReference === undefined ? '—' : r.ratioToReference.toFixed(2)).padStart(7)} ${`${r.peakRssMb.toFixed(0)} MB`.padStart(10)}`);
line('(a) psql COPY binary (reference)', ref);
line('(e) node raw COPY, no decoding', results.nodeRawCopy);
line('(f) pg-cursor, values as text', results.pgCursor);
line('(b) kit read() only', results.extraction);
line('(c) kit → Parquet (heap 256 MB)', results.parquet);
line('(d) kit → Postgres bronze (512 Mi pod)', results.warehouse);
if (results.extraction && results.pgCursor) log(`      (b) binary COPY + decoder vs (f) pg-cursor: ${(results.extraction.rowsPerSecond / results.pgCursor.rowsPerSecond).toFixed(2)}× (the kit's values exact, pg-cursor's still text)`);
if (results.extraction) log(`      (b) inside the child, excluding startup and discover: ${results.extraction.readSeconds.toFixed(2)} s, ${fmtInt(results.extraction.readRowsPerSecond)} rows/s, ${results.extraction.batches} batches`);
if (results.parquet) log(`      (c) run report ${results.parquet.reportSeconds?.toFixed(2)} s; ${results.parquet.files} file(s), ${(results.parquet.bytes / 2 ** 20).toFixed(0)} MiB of Parquet`);
if (results.warehouse) log(`      (d) run report ${results.warehouse.reportSeconds?.toFixed(2)} s; ${results.warehouse.table} ${(results.warehouse.tableBytes / 2 ** 20).toFixed(0)} MiB`);
if (REPEAT > 1) log(`      fastest of ${REPEAT} runs per step; all runs (s): ${['reference', 'nodeRawCopy', 'pgCursor', 'extraction', 'parquet', 'warehouse'].filter((k) => results[k]).map((k) => `${k} ${results[k].runs.join('/')}`).join(', ')}`);
log(`      load average at start ${results.loadAverage.start.map((x) => x.toFixed(2)).join(' ')}, at end ${results.loadAverage.end.map((x) => x.toFixed(2)).join(' ')} (${results.machine.cpus} CPUs)`);
log();
for (const c of checks) {
  const v = c.name.includes('RSS') ? `${c.value.toFixed(0)} MB` : c.name.includes('×') ? `${c.value.toFixed(2)}×` : `${fmtInt(c.value)} rows/s`;
  log(`  ${c.pass ? '\x1b[32mPASS\x1b[0m' : '\x1b[31mFAIL\x1b[0m'}  ${c.name.padEnd(44)} ${v.padStart(14)}  (floor ${c.floor})`);
}
log(`\n  figures: bench/results/postgres.json${PROFILE ? `; CPU profiles: ${profileDir}` : ''}`);

// ---- helpers ------------------------------------------------------------------------------------------------
/** Run a child; wall time, exit code, output and peak RSS (KiB). */
function measure(cmd, args, { env = process.env, stdoutToNull = false } = {}) {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const devnull = stdoutToNull ? openSync('/dev/null', 'w') : undefined;
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', devnull ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let hwm = 0;
    const poll = GNU_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20);
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - t) / 1000;
      if (poll) clearInterval(poll);
      if (devnull !== undefined) closeSync(devnull);
      let peakRssKb = hwm;
      if (GNU_TIME) {
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          peakRssKb = Number(lines.at(-1));
          rmSync(rssFile, { force: true });
        } catch {
          /* no file: time itself failed */
        }
      }
      resolve({ code, seconds, stdout, stderr, peakRssKb });
    });
  });
}

/** Run `fn` n times; the fastest run (least disturbed by other work) and every run's seconds. */
async function fastest(n, fn) {
  const all = [];
  for (let i = 0; i < n; i++) all.push(await fn());
  const best = all.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { best, runs: all.map((r) => Number(r.seconds.toFixed(3))) };
}

function parseReport(r, what) {
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${what}: the CLI printed no JSON report (exit ${r.code}): ${r.stderr.slice(-3000)}`);
  }
  if (r.code !== 0 || report.status !== 'succeeded') throw new Error(`${what}: run ${report.status} (exit ${r.code}): ${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-3000)}`);
  if (report.rows !== ROWS) throw new Error(`${what}: the run report says ${report.rows} rows, expected ${ROWS}`);
  return report;
}

