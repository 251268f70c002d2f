#!/usr/bin/env node
// Child process of postgres.bench.mjs: the Node floor — binary COPY of the whole table through pg +
// pg-copy-streams, bytes counted, nothing decoded. Env: SOURCE_DATABASE_URL, BENCH_TABLE (default orders).
// Prints one JSON line: { bytes, seconds }.
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const client = new pg.Client({ connectionString: process.env.SOURCE_DATABASE_URL });
await client.connect();
const t = performance.now();
let bytes = 0;
const stream = client.query(copyTo(`COPY ${process.env.BENCH_TABLE ?? 'orders'} TO STDOUT (FORMAT binary)`));
for await (const chunk of stream) bytes += chunk.length;
const seconds = (performance.now() - t) / 1000;
await client.end();
process.stdout.write(`${JSON.stringify({ bytes, seconds })}\n`);
