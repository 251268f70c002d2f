#!/usr/bin/env node
// Benchmark of @datakit/kit-file: a generated CSV of BENCH_FILE_MB (default 1024) with the orders
// schema —
//
//   id bigint, customer_id int, amount numeric(18,4), description text, status varchar(20), is_paid bool,
//   created_at timestamptz, order_date date, attrs json, ext_id uuid, score float8, coupon text (20 % NULL)
//
// — into Parquet, measured in the same run, each in its own child process:
//   (a) reference   DuckDB `COPY (SELECT * FROM read_csv(…)) TO '….parquet' (FORMAT parquet)`
//   (b) file kit    the built CLI `run orders`, FILE_URL=file://…, BRONZE_URL=file:///tmp/…
//   (c) file kit    a gzip NDJSON file of BENCH_NDJSON_MB (default BENCH_FILE_MB) uncompressed → Parquet
//   (d) file kit    bounded memory: a CSV of BENCH_MEMORY_MB (default 2048) → Parquet, peak RSS
// For each: wall time, rows/s, the ratio of (b) to (a), peak RSS (GNU time's ru_maxrss, else VmHWM).
// Floors (PASS/FAIL, never the exit code): (b) ≥ 0.1× DuckDB's rows/s; (b), (c), (d) peak RSS < 400 MB.
// Row counts are checked, and a mismatch ends the bench with an error (exit 1): each kit run's report
// must equal the rows DuckDB counts in the Parquet the kit wrote, and the rows generated; (b) must
// also equal what DuckDB's own read_csv → Parquet holds.
// The kit runs as a memory-bounded container would: NODE_OPTIONS=--max-old-space-size=256
// --max-semi-space-size=8 (plus BENCH_NODE_OPTIONS). Writes bench/results/file.json.
//
// Env: BENCH_FILE_MB, BENCH_NDJSON_MB, BENCH_MEMORY_MB, BENCH_ONLY=a,b,c,d, BENCH_NODE_OPTIONS, BENCH_KEEP=1 (keep the
// generated files in $TMPDIR/datakit-bench-file for the next run).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

// ---- the DuckDB reference, run as `node file.bench.mjs --duckdb <csv> <parquet>` in its own process
if (process.argv[2] === '--duckdb') {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const q = (s) => `'${s.replace(/'/g, "''")}'`;
  await c.run(`COPY (SELECT * FROM read_csv(${q(process.argv[3])})) TO ${q(process.argv[4])} (FORMAT parquet)`);
  const r = await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(process.argv[4])})`);
  process.stdout.write(`${JSON.stringify({ rows: Number(r.getRows()[0][0]) })}\n`);
  c.closeSync();
  db.closeSync();
  process.exit(0);
}

// ---- `node file.bench.mjs --count <parquet glob>`: the rows DuckDB reads from the kit's output
if (process.argv[2] === '--count') {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${process.argv[3].replace(/'/g, "''")}')`);
  process.stdout.write(`${JSON.stringify({ rows: Number(r.getRows()[0][0]) })}\n`);
  c.closeSync();
  db.closeSync();
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const kitMain = join(root, 'kits/file/dist/main.js');
const resultsDir = join(root, 'bench/results');
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 1024);
const NDJSON_MB = Number(process.env.BENCH_NDJSON_MB ?? FILE_MB);
const MEMORY_MB = Number(process.env.BENCH_MEMORY_MB ?? 2048);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d').split(',').map((s) => s.trim()));
const KEEP = process.env.BENCH_KEEP === '1';
const NODE_OPTIONS = `--max-old-space-size=256 --max-semi-space-size=8 ${process.env.BENCH_NODE_OPTIONS ?? ''}`.trim();
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const FLOORS = { ratioToDuckdb: 0.1, rssMb: 400 };

if ((ONLY.has('b') || ONLY.has('c') || ONLY.has('d')) && !existsSync(kitMain)) {
  console.error(`file bench: ${kitMain} is missing: build the kit (turbo run build --filter=@datakit/kit-file); pnpm bench builds every kit`);
  process.exit(1);
}

const log = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en');
const work = join(tmpdir(), 'datakit-bench-file');
mkdirSync(join(work, 'src/orders'), { recursive: true });
mkdirSync(join(work, 'src/events'), { recursive: true });
mkdirSync(join(work, 'src/big'), { recursive: true });

// ---- data: deterministic, every type of the schema, 20 % NULL coupons ------------------------------------------
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const hex = (n, w) => (n >>> 0).toString(16).padStart(w, '0').slice(-w);
function orderLine(i) {
  const ts = new Date(Date.UTC(2020, 0, 1) + i * 47_000).toISOString().replace('.000Z', `.${String((i * 7919) % 1_000_000).padStart(6, '0')}Z`);
  const amount = `${Math.floor(((i * 104729) % 100_000_000) / 10_000)}.${String((i * 104729) % 10_000).padStart(4, '0')}`;
  const desc = i % 11 === 0 ? `"Order ${i}, with a comma and ""quotes"""` : `Order ${i} for customer ${1 + ((i * 7919) % 250_000)}`;
  const attrs = `"{""channel"": ""${['web', 'app', 'store', 'phone'][i % 4]}"", ""items"": ${1 + (i % 9)}, ""tags"": [""t${i % 5}"", ""t${i % 7}""]}"`;
  const uuid = `${hex(i * 2654435761, 8)}-${hex(i, 4)}-4${hex(i * 7, 3)}-8${hex(i * 13, 3)}-${hex(i * 40503, 8)}${hex(i, 4)}`;
  const score = (((i * 2654435761) % 1_000_000) / 997).toString();
  return `${i},${1 + ((i * 7919) % 250_000)},${amount},${desc},${STATUSES[(i * 13) % 6]},${(i * 13) % 6 < 3},${ts},${ts.slice(0, 10)},${attrs},${uuid},${score},${i % 5 === 0 ? '' : `CPN-${i % 1000}`}`;
}
const eventLine = (i) => `{"id": ${i}, "kind": "k${i % 13}", "at": "2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z", "amount": ${i % 100000}.25, "big": ${9007199254740993n + BigInt(i)}, "payload": {"tags": ["a", "b"], "n": ${i}}}`;

async function generate(path, mb, line, header, gzip) {
  const meta = `${path}.rows`;
  if (KEEP && existsSync(path) && existsSync(meta)) return Number(readFileSync(meta, 'utf8'));
  const file = createWriteStream(path);
  const z = gzip ? createGzip({ level: 1 }) : undefined;
  if (z) z.pipe(file);
  const out = z ?? file;
  if (header) out.write(`${header}\n`);
  let bytes = 0;
  let i = 0;
  while (bytes < mb * 1024 * 1024) {
    let chunk = '';
    for (let k = 0; k < 2000; k++) chunk += `${line(++i)}\n`;
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(file, 'close');
  writeFileSync(meta, String(i));
  return i;
}

/** Run a child, measuring wall time and peak RSS. */
function measure(args, env) {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-v', process.execPath, ...args]] : [process.execPath, args];
    const t = performance.now();
    const child = spawn(cmd, argv, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polled = 0;
    const timer = GNU_TIME ? undefined : setInterval(() => {
      try {
        polled = Math.max(polled, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {}
    }, 50);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - t) / 1000;
      const kb = GNU_TIME ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0) : polled;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}:\n${stderr.slice(-3000)}`));
      resolve({ seconds, peakRssMb: Math.round(kb / 1024), out: JSON.parse(stdout) });
    });
  });
}

/** A wrong row count is a correctness failure, not a slow run: stop loudly. */
const sameRows = (what, got, want) => {
  if (got === want) return;
  log(`FAIL ${what}: ${fmt(got)} rows where ${fmt(want)} were expected`);
  throw new Error(`file bench: ${what}: ${got} rows where ${want} were expected`);
};

const results = {
  kit: 'file',
  date: new Date().toISOString(),
  node: process.version,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), loadavg: loadavg() },
  nodeOptions: NODE_OPTIONS,
  floors: FLOORS,
};
if (loadavg()[0] > cpus().length / 2) log(`file bench: load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}: other work is running, the figures will be noisy`);

const csv = join(work, 'src/orders/orders.csv');
const header = 'id,customer_id,amount,description,status,is_paid,created_at,order_date,attrs,ext_id,score,coupon';
let t = performance.now();
const csvRows = ONLY.has('a') || ONLY.has('b') ? await generate(csv, FILE_MB, orderLine, header, false) : 0;
if (csvRows) log(`generated ${fmt(csvRows)} rows, ${(statSync(csv).size / 2 ** 20).toFixed(0)} MB of CSV in ${((performance.now() - t) / 1000).toFixed(1)} s`);

try {
  if (ONLY.has('a')) {
    const out = join(work, 'duck.parquet');
    const r = await measure([fileURLToPath(import.meta.url), '--duckdb', csv, out]);
    sameRows("(a) DuckDB's read_csv → Parquet vs the rows generated", r.out.rows, csvRows);
    results.duckdb = { rows: r.out.rows, seconds: r.seconds, rowsPerSecond: r.out.rows / r.seconds, peakRssMb: r.peakRssMb };
    rmSync(out, { force: true });
    log(`(a) DuckDB read_csv → Parquet   ${fmt(r.out.rows)} rows  ${r.seconds.toFixed(1)} s  ${fmt(results.duckdb.rowsPerSecond)} rows/s  peak RSS ${r.peakRssMb} MB`);
  }
  const kitRun = async (label, key, stream, glob) => {
    const bronze = join(work, `bronze-${key}`);
    rmSync(bronze, { recursive: true, force: true });
    const r = await measure([kitMain, 'run', stream], { NODE_OPTIONS, LOG_LEVEL: 'warn', FILE_URL: `file://${join(work, 'src')}`, FILE_STREAMS: `${stream}=${glob}`, BRONZE_URL: `file://${bronze}` });
    const rows = r.out.rows;
    const landed = (await measure([fileURLToPath(import.meta.url), '--count', join(bronze, 'file', stream, '*.parquet')])).out.rows;
    rmSync(bronze, { recursive: true, force: true });
    sameRows(`${label.trim()}: rows in its Parquet output vs its run report`, landed, rows);
    results[key] = { rows, seconds: r.seconds, rowsPerSecond: rows / r.seconds, peakRssMb: r.peakRssMb, rssPass: r.peakRssMb < FLOORS.rssMb };
    log(`${label}  ${fmt(rows)} rows  ${r.seconds.toFixed(1)} s  ${fmt(rows / r.seconds)} rows/s  peak RSS ${r.peakRssMb} MB  ${r.peakRssMb < FLOORS.rssMb ? 'PASS' : 'FAIL'} (< ${FLOORS.rssMb} MB)`);
    return results[key];
  };
  if (ONLY.has('b')) {
    const k = await kitRun('(b) file kit CSV → Parquet      ', 'csv', 'orders', 'orders/*.csv');
    sameRows('(b) file kit vs the rows generated', k.rows, csvRows);
    if (results.duckdb) sameRows("(b) file kit vs DuckDB's read_csv → Parquet", k.rows, results.duckdb.rows);
    if (results.duckdb) {
      k.ratioToDuckdb = k.rowsPerSecond / results.duckdb.rowsPerSecond;
      k.ratioPass = k.ratioToDuckdb >= FLOORS.ratioToDuckdb;
      log(`    ratio to DuckDB ${k.ratioToDuckdb.toFixed(3)}×  ${k.ratioPass ? 'PASS' : 'FAIL'} (≥ ${FLOORS.ratioToDuckdb}×)`);
    }
  }
  if (ONLY.has('c')) {
    const gz = join(work, 'src/events/events.ndjson.gz');
    t = performance.now();
    const rows = await generate(gz, NDJSON_MB, eventLine, undefined, true);
    log(`generated ${fmt(rows)} NDJSON lines (${NDJSON_MB} MB), ${(statSync(gz).size / 2 ** 20).toFixed(0)} MB gzip in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    sameRows('(c) file kit vs the lines generated', (await kitRun('(c) file kit gzip NDJSON → Parquet', 'ndjson', 'events', 'events/*.ndjson.gz')).rows, rows);
  }
  if (ONLY.has('d')) {
    const big = join(work, 'src/big/orders.csv');
    t = performance.now();
    const rows = await generate(big, MEMORY_MB, orderLine, header, false);
    log(`generated ${fmt(rows)} rows, ${(statSync(big).size / 2 ** 20).toFixed(0)} MB of CSV in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    sameRows('(d) file kit vs the rows generated', (await kitRun(`(d) file kit ${MEMORY_MB} MB CSV → Parquet`, 'memory', 'big', 'big/*.csv')).rows, rows);
  }
} finally {
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'file.json'), `${JSON.stringify({ ...results, fileMb: FILE_MB, ndjsonMb: NDJSON_MB, memoryMb: MEMORY_MB }, null, 2)}\n`);
log(`→ bench/results/file.json`);
