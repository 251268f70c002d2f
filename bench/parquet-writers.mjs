#!/usr/bin/env node
// Parquet writers compared on one orders-like dataset (docs/decisions/0001-parquet-writer.md):
// (a) parquetjs-lite, (b) hyparquet-writer through the core's ParquetTarget — same 2M rows, same row
// group size, Snappy, each writer in its own Node process so peak RSS is its own. A "generate" run
// (rows built, nothing written) is the reference for what the data generation itself costs.
// Then a fidelity probe: edge values written with each writer's best type and read back with DuckDB.
//
// parquetjs-lite is not a repository dependency: install it outside the repo and point at it:
//   mkdir -p /tmp/pqbench && (cd /tmp/pqbench && npm install parquetjs-lite)
//   PARQUETJS_LITE_DIR=/tmp/pqbench/node_modules/parquetjs-lite node bench/parquet-writers.mjs
// Needs the core built (`pnpm --filter @datakit/core build`). ROWS=… changes the row count; HEAP_MB=…
// caps each writer's V8 heap (--max-old-space-size), as the image does from the container's limit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const coreDist = join(repo, 'packages/core/dist/bronze/parquet/index.js');
const requireCore = createRequire(join(repo, 'packages/core/package.json'));
const PQ_DIR = process.env.PARQUETJS_LITE_DIR ?? '/tmp/pqbench/node_modules/parquetjs-lite';
const ROWS = Number(process.env.ROWS ?? 2_000_000);
const BATCH = 10_000;
const ROW_GROUP = 65_536;

const COLUMNS = [
  ['id', 'int64', false], ['customer_id', 'int32', false], ['amount', { decimal: [18, 4] }, false], ['description', 'string', false],
  ['status', 'string', false], ['is_paid', 'boolean', false], ['created_at', 'timestamptz', false], ['order_date', 'date', false],
  ['attrs', 'json', false], ['ext_id', 'uuid', false], ['score', 'float64', false], ['coupon', 'string', true],
].map(([name, type, nullable]) => ({ name, type, nullable, sourceType: 'bench' }));

const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled'];
const WORDS = ['blue', 'widget', 'large', 'express', 'gift', 'wrapped', 'refurbished', 'bundle', 'premium', 'spare'];

/** Row `i` in the core's value forms (deterministic). */
function row(i) {
  let x = (i * 2654435761) >>> 0;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const words = Array.from({ length: 4 + (i % 7) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
  const cents = BigInt(Math.floor(rnd() * 1e9));
  const us = 1_700_000_000_000_000n + BigInt(i) * 1_234_567n;
  const hex = (i.toString(16).padStart(12, '0') + 'a1b2c3d4e5f60718a9b8c7d6').slice(0, 32);
  return [
    BigInt(i + 1), Math.floor(rnd() * 1e6), `${cents / 10000n}.${String(cents % 10000n).padStart(4, '0')}`, `order ${i}: ${words}`,
    STATUSES[i % 5], i % 3 !== 0, us, 19_000 + (i % 1500), `{"channel":"${i % 2 ? 'web' : 'shop'}","items":${1 + (i % 9)},"ref":${9_007_199_254_740_993n + BigInt(i)}}`,
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`, rnd() * 100, i % 5 === 0 ? null : `SAVE${i % 40}`,
  ];
}

function* batches() {
  for (let start = 0; start < ROWS; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) rows.push(row(i));
    yield rows;
  }
}

// ---------------------------------------------------------------------------------------------
// child: one writer

async function writeOurs(dir) {
  const { ParquetTarget } = await import(pathToFileURL(coreDist).href);
  const target = new ParquetTarget({ root: dir, rowGroupRows: ROW_GROUP, compression: 'snappy' });
  await target.open('bench');
  const run = { source: 'bench', runId: 'bench', loadedAtMicros: 0n, logger: { info() {}, warn() {}, error() {}, debug() {} } };
  const sink = await target.openStream({ run, stream: { name: 'orders', columns: COLUMNS, syncMode: 'full_refresh' }, columns: COLUMNS, bronzeName: 'orders', stateKey: 'orders', staged: true });
  let n = 0;
  for (const rows of batches()) await sink.write(rows, { n: (n += rows.length) }, true);
  await sink.finish();
  return join(dir, 'bench', 'orders');
}

function parquetjsSchema(lib) {
  const c = { compression: 'SNAPPY' };
  return new lib.ParquetSchema({
    id: { type: 'INT64', ...c }, customer_id: { type: 'INT32', ...c }, amount: { type: 'UTF8', ...c }, description: { type: 'UTF8', ...c },
    status: { type: 'UTF8', ...c }, is_paid: { type: 'BOOLEAN', ...c }, created_at: { type: 'TIMESTAMP_MICROS', ...c }, order_date: { type: 'DATE', ...c },
    attrs: { type: 'UTF8', ...c }, ext_id: { type: 'UTF8', ...c }, score: { type: 'DOUBLE', ...c }, coupon: { type: 'UTF8', optional: true, ...c },
  });
}

async function writeParquetjs(dir) {
  const lib = createRequire(import.meta.url)(PQ_DIR);
  const out = join(dir, 'orders');
  (await import('node:fs')).mkdirSync(out, { recursive: true });
  const w = await lib.ParquetWriter.openFile(parquetjsSchema(lib), join(out, 'part-000000.parquet'), { rowGroupSize: ROW_GROUP });
  const names = COLUMNS.map((c) => c.name);
  for (const rows of batches()) {
    for (const r of rows) {
      const o = {};
      for (let i = 0; i < names.length; i++) if (r[i] !== null) o[names[i]] = r[i];
      await w.appendRow(o);
    }
  }
  await w.close();
  return out;
}

async function child(writer) {
  const dir = mkdtempSync(join(tmpdir(), `pqbench-${writer}-`));
  const t = performance.now();
  let out;
  if (writer === 'generate') {
    let n = 0;
    for (const rows of batches()) n += rows.length;
  } else out = writer === 'ours' ? await writeOurs(dir) : await writeParquetjs(dir);
  const seconds = (performance.now() - t) / 1000;
  // before DuckDB is loaded for the check below
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  const files = out ? readdirSync(out).filter((f) => f.endsWith('.parquet')).map((f) => join(out, f)) : [];
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  let check;
  if (files.length) {
    const { DuckDBInstance } = requireCore('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const list = files.map((f) => `'${f}'`).join(', ');
    const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${list}])`)).getRows().map((r) => `${r[0]}:${r[1]}`);
    const [[count, sum]] = (await conn.runAndReadAll(`SELECT count(*), sum(id) FROM read_parquet([${list}])`)).getRows();
    check = { rows: Number(count), sumId: String(sum), types };
    conn.closeSync();
    db.closeSync();
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ writer, seconds, bytes, files: files.length, maxRssMB, check }));
}

// ---------------------------------------------------------------------------------------------
// fidelity probe: edge values, each writer's best type, read back with DuckDB

const PROBES = [
  ['int64 max', 'int64', 9223372036854775807n, { type: 'INT64' }, 'i::VARCHAR', '9223372036854775807'],
  ['int64 2^53+1', 'int64', 9007199254740993n, { type: 'INT64' }, 'i::VARCHAR', '9007199254740993'],
  ['decimal(38,10) min', { decimal: [38, 10] }, '-9999999999999999999999999999.9999999999', { type: 'UTF8' }, 'typeof(i) || \' \' || i::VARCHAR', 'DECIMAL(38,10) -9999999999999999999999999999.9999999999'],
  ['timestamptz µs pre-1970', 'timestamptz', -1n, { type: 'TIMESTAMP_MICROS' }, 'typeof(i) || \' \' || i::VARCHAR', 'TIMESTAMP WITH TIME ZONE 1969-12-31 23:59:59.999999+00'],
  ['date pre-1970', 'date', -1, { type: 'DATE' }, 'i::VARCHAR', '1969-12-31'],
  ['double NaN', 'float64', Number.NaN, { type: 'DOUBLE' }, 'i::VARCHAR', 'nan'],
  ['json text, big number', 'json', '{"n": 12345678901234567890}', { type: 'JSON' }, 'typeof(i) || \' \' || i::VARCHAR', 'JSON {"n": 12345678901234567890}'],
  ['uuid', 'uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', { type: 'UTF8' }, 'typeof(i)', 'UUID'],
];

async function probe() {
  const { ParquetFileWriter } = await import(pathToFileURL(coreDist).href);
  const lib = existsSync(PQ_DIR) ? createRequire(import.meta.url)(PQ_DIR) : undefined;
  const { DuckDBInstance } = requireCore('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const dir = mkdtempSync(join(tmpdir(), 'pqprobe-'));
  const outcome = async (write, expr, want) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.parquet`);
    try {
      await write(path);
    } catch (e) {
      return `refused (${String(e?.message ?? e).slice(0, 40)})`;
    }
    const [[got]] = (await conn.runAndReadAll(`SELECT ${expr} FROM read_parquet('${path}')`)).getRows();
    return got === want ? 'exact' : `differs: ${got}`;
  };
  const rows = [];
  for (const [what, type, value, pqType, expr, want] of PROBES) {
    const ours = await outcome(async (path) => {
      const f = await ParquetFileWriter.open(path, [{ name: 'i', type, nullable: false, sourceType: 'probe' }]);
      await f.append([[value]]);
      await f.finish();
    }, expr, want);
    const theirs = lib
      ? await outcome(async (path) => {
          const w = await lib.ParquetWriter.openFile(new lib.ParquetSchema({ i: pqType }), path);
          await w.appendRow({ i: value });
          await w.close();
        }, expr, want)
      : 'not installed';
    rows.push({ value: what, ours, parquetjsLite: `${pqType.type}: ${theirs}` });
  }
  conn.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

// ---------------------------------------------------------------------------------------------

const mode = process.argv.find((a) => a.startsWith('--writer='))?.slice(9);
if (mode) {
  await child(mode);
} else {
  if (!existsSync(coreDist)) {
    console.error(`parquet-writers: ${coreDist} is missing: run pnpm --filter @datakit/core build`);
    process.exit(2);
  }
  const writers = ['generate', 'ours', ...(existsSync(PQ_DIR) ? ['parquetjs-lite'] : [])];
  if (!existsSync(PQ_DIR)) console.error(`parquet-writers: ${PQ_DIR} not found: skipping parquetjs-lite (see the header of this file)`);
  const heapNote = process.env.HEAP_MB ? `, --max-old-space-size=${process.env.HEAP_MB}` : '';
  console.log(`${ROWS.toLocaleString('en')} orders-like rows, row groups of ${ROW_GROUP}, Snappy, node ${process.version}${heapNote}\n`);
  const results = [];
  for (const w of writers) {
    const heap = process.env.HEAP_MB ? [`--max-old-space-size=${process.env.HEAP_MB}`] : [];
    const r = spawnSync(process.execPath, [...heap, fileURLToPath(import.meta.url), `--writer=${w}`], { encoding: 'utf8', maxBuffer: 1 << 24, env: process.env });
    if (r.status !== 0) {
      console.error(`parquet-writers: ${w} failed:\n${r.stderr}`);
      process.exit(1);
    }
    results.push(JSON.parse(r.stdout));
  }
  const gen = results.find((r) => r.writer === 'generate');
  for (const r of results) {
    const write = r.writer === 'generate' ? '' : `  write-only ≈ ${Math.round(ROWS / Math.max(0.001, r.seconds - gen.seconds)).toLocaleString('en')} rows/s`;
    console.log(`${r.writer.padEnd(15)} ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(ROWS / r.seconds).toLocaleString('en').padStart(10)} rows/s  peak RSS ${Math.round(r.maxRssMB)} MB  ${(r.bytes / 1048576).toFixed(1)} MB in ${r.files} file(s)${write}`);
    if (r.check) console.log(`${''.padEnd(15)} DuckDB: ${r.check.rows} rows, sum(id) ${r.check.sumId}\n${''.padEnd(15)} ${r.check.types.join(', ')}`);
  }
  console.log('\nfidelity (written, read back with DuckDB):');
  console.table(await probe());
}
