#!/usr/bin/env node
// In-process throughput of the core's Parquet writer (ParquetFileWriter, as the Parquet target's sink
// drives it), without a source: rows are generated in batches of BATCH (default 10,000) and only the
// writer's own time (append + finish) is counted, so the figures are the writer's ceiling.
//
// Two shapes, each with the core's metadata columns (_bronze_loaded_at, _bronze_source, _bronze_run_id)
// appended as the runner does:
//   kafka   the kafka kit's stream: _kafka_topic, _kafka_partition, _kafka_offset, _kafka_timestamp,
//           _kafka_key (bytes, 1 in 4 NULL), _kafka_headers (json), value (json, ~1 KB, the message of
//           bench/kafka.bench.mjs: a JSON object padded with hex text from a pool of 1,024 random lines)
//   orders  the postgres bench's orders table (bench/postgres.bench.mjs)
// Prints rows/s and MB/s (MB = the Parquet file's bytes for orders, the value column's bytes for kafka)
// for each run, then the median and spread; rows per CPU-second (user + system of the process, GC and
// zlib included) is steadier than wall time on a busy machine.
//
// Needs the core built (`pnpm --filter @datakit/core build`).
// Env: CORE_DIST (a core build's dist directory, to compare builds; default packages/core/dist), ROWS (default 200000), SHAPE=kafka|orders|both (default both), RUNS (default 3),
// PARQUET_COMPRESSION (passed to the writer, default the writer's), ROW_GROUP_ROWS (default the writer's).
// Profile: node --cpu-prof --cpu-prof-dir=bench/results/profiles bench/parquet-throughput.mjs
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const coreDist = process.env.CORE_DIST ?? join(root, 'packages/core/dist');
const { ParquetFileWriter } = await import(pathToFileURL(join(coreDist, 'bronze/parquet/index.js')).href);

const ROWS = Number(process.env.ROWS ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = Number(process.env.BATCH ?? 10_000);
const SHAPES = (process.env.SHAPE ?? 'both') === 'both' ? ['kafka', 'orders'] : [process.env.SHAPE];
const options = {
  ...(process.env.PARQUET_COMPRESSION ? { compression: process.env.PARQUET_COMPRESSION } : {}),
  ...(process.env.ROW_GROUP_ROWS ? { rowGroupRows: Number(process.env.ROW_GROUP_ROWS) } : {}),
};

const col = (name, type, nullable = false) => ({ name, type, nullable, sourceType: 'bench' });
const META = [col('_bronze_loaded_at', 'timestamptz'), col('_bronze_source', 'string'), col('_bronze_run_id', 'string')];
const meta = [1_764_000_000_000_000n, 'bench', '2026-12-01T00-00-00Z-abcdef'];

// ---- kafka ---------------------------------------------------------------------------------------
const SIZE = 1024;
const POOL = Array.from({ length: 1024 }, () => randomBytes(SIZE).toString('hex'));
const KEYS = Array.from({ length: 64 }, (_, i) => Buffer.from(`customer-${i}`));
const kafka = {
  columns: [
    col('_kafka_topic', 'string'), col('_kafka_partition', 'int32'), col('_kafka_offset', 'int64'), col('_kafka_timestamp', 'timestamptz'),
    col('_kafka_key', 'bytes', true), col('_kafka_headers', 'json'), col('value', 'json', true), ...META,
  ],
  row(i) {
    const topic = `bench-${Math.floor(i / 16_384)}`;
    const head = `{"id":${i},"topic":"${topic}","at":"2024-01-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z","pad":"`;
    const value = `${head}${POOL[i % POOL.length].slice(0, SIZE - head.length - 3)}"}`;
    return [topic, i % 4, BigInt(i >> 2), 1_704_067_200_000_000n + BigInt(i) * 1000n, i % 4 === 0 ? null : KEYS[i % 64], '[]', value];
  },
  valueBytes: (rows) => rows.reduce((n, r) => n + r[6].length, 0),
};

// ---- orders (as bench/postgres.bench.mjs and bench/parquet-writers.mjs) -------------------------
const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled'];
const WORDS = ['blue', 'widget', 'large', 'express', 'gift', 'wrapped', 'refurbished', 'bundle', 'premium', 'spare'];
const orders = {
  columns: [
    col('id', 'int64'), col('customer_id', 'int32'), col('amount', { decimal: [18, 4] }), col('description', 'string'), col('status', 'string'),
    col('is_paid', 'boolean'), col('created_at', 'timestamptz'), col('order_date', 'date'), col('attrs', 'json'), col('ext_id', 'uuid'),
    col('score', 'float64'), col('coupon', 'string', true), ...META,
  ],
  row(i) {
    let x = (i * 2654435761) >>> 0;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 4294967296;
    const words = Array.from({ length: 4 + (i % 7) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    const cents = BigInt(Math.floor(rnd() * 1e9));
    const hex = (i.toString(16).padStart(12, '0') + 'a1b2c3d4e5f60718a9b8c7d6').slice(0, 32);
    return [
      BigInt(i + 1), Math.floor(rnd() * 1e6), `${cents / 10000n}.${String(cents % 10000n).padStart(4, '0')}`, `order ${i}: ${words}`,
      STATUSES[i % 5], i % 3 !== 0, 1_700_000_000_000_000n + BigInt(i) * 1_234_567n, 19_000 + (i % 1500),
      `{"channel":"${i % 2 ? 'web' : 'shop'}","items":${1 + (i % 9)},"ref":${9_007_199_254_740_993n + BigInt(i)}}`,
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`, rnd() * 100, i % 5 === 0 ? null : `SAVE${i % 40}`,
    ];
  },
  valueBytes: undefined,
};

async function once(shape, dir, run) {
  const f = await ParquetFileWriter.open(join(dir, `${shape === kafka ? 'kafka' : 'orders'}-${run}.parquet`), shape.columns, options);
  let ms = 0;
  let cpuUs = 0;
  let valueBytes = 0;
  for (let start = 0; start < ROWS; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) rows.push(shape.row(i));
    if (shape.valueBytes) valueBytes += shape.valueBytes(rows);
    for (const r of rows) r.push(meta[0], meta[1], meta[2]);
    const t = performance.now();
    const c = process.cpuUsage();
    await f.append(rows, start + 1);
    ms += performance.now() - t;
    const d = process.cpuUsage(c);
    cpuUs += d.user + d.system;
  }
  const t = performance.now();
  const c = process.cpuUsage();
  const done = await f.finish();
  ms += performance.now() - t;
  const d = process.cpuUsage(c);
  cpuUs += d.user + d.system;
  return { seconds: ms / 1000, cpuSeconds: cpuUs / 1e6, fileBytes: done.bytes, valueBytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'pq-throughput-'));
try {
  console.log(`rows ${ROWS}, batch ${BATCH}, options ${JSON.stringify(options)}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const name of SHAPES) {
    const shape = name === 'kafka' ? kafka : orders;
    const rates = [];
    const cpuRates = [];
    for (let run = 0; run < RUNS; run++) {
      const r = await once(shape, dir, run);
      const mb = (shape.valueBytes ? r.valueBytes : r.fileBytes) / 1e6;
      rates.push(ROWS / r.seconds);
      cpuRates.push(ROWS / r.cpuSeconds);
      console.log(`${name.padEnd(6)} run ${run + 1}: ${Math.round(ROWS / r.seconds).toLocaleString('en')} rows/s, ${(mb / r.seconds).toFixed(1)} MB/s (${shape.valueBytes ? 'values' : 'file'}), ${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s, ${Math.round(ROWS / r.cpuSeconds).toLocaleString('en')} rows per CPU-s), file ${(r.fileBytes / 1e6).toFixed(1)} MB`);
    }
    const fmt = (xs) => `${Math.round(median(xs)).toLocaleString('en')} (min ${Math.round(Math.min(...xs)).toLocaleString('en')}, max ${Math.round(Math.max(...xs)).toLocaleString('en')})`;
    console.log(`${name.padEnd(6)} median ${fmt(rates)} rows/s, ${fmt(cpuRates)} rows per CPU-s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
