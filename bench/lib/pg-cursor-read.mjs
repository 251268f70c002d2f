#!/usr/bin/env node
// Child process of postgres.bench.mjs, step (f): the alternative extraction the kit does not use —
// `SELECT * FROM orders` through pg + pg-cursor (the text protocol), BATCH_SIZE rows per read, every
// value left as the server's text (type parsers replaced by the identity). That is pg-cursor at its
// cheapest: an exact reader would still have to turn those texts into bigint, decimal strings, µs
// timestamps and Buffers, so this is an upper bound of its speed. Env: SOURCE_DATABASE_URL,
// BENCH_TABLE (default orders), BATCH_SIZE (default 10000). Prints one JSON line: { rows, seconds }.
import pg from 'pg';
import Cursor from 'pg-cursor';

const asText = (v) => v;
const client = new pg.Client({ connectionString: process.env.SOURCE_DATABASE_URL, types: { getTypeParser: () => asText } });
await client.connect();
const size = Number(process.env.BATCH_SIZE ?? 10_000);
const t = performance.now();
await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
const cursor = client.query(new Cursor(`SELECT * FROM ${process.env.BENCH_TABLE ?? 'orders'}`, [], { rowMode: 'array' }));
let rows = 0;
for (;;) {
  const batch = await cursor.read(size);
  if (!batch.length) break;
  rows += batch.length;
}
await cursor.close();
await client.query('COMMIT');
const seconds = (performance.now() - t) / 1000;
await client.end();
process.stdout.write(`${JSON.stringify({ rows, seconds })}\n`);
