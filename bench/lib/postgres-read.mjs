#!/usr/bin/env node
// Child process of postgres.bench.mjs: drive `postgresKit.read()` over one whole stream and count rows,
// nothing else (no bronze target), so its time and memory are the kit's extraction alone.
// Env: SOURCE_DATABASE_URL, BENCH_STREAM (default orders), BATCH_SIZE (default 10000).
// Prints one JSON line: { rows, batches, seconds, discoverSeconds, maxRssKb }.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const kitDir = join(root, 'kits/postgres');
const requireKit = createRequire(join(kitDir, 'package.json'));
const core = await import(pathToFileURL(requireKit.resolve('@datakit/core')).href);
const { postgresKit } = await import(pathToFileURL(join(kitDir, 'dist/index.js')).href);

const want = process.env.BENCH_STREAM ?? 'orders';
const batchSize = Number(process.env.BATCH_SIZE ?? 10_000);
const logger = core.createLogger({ level: process.env.LOG_LEVEL ?? 'silent', pretty: false });
const ctx = { logger, signal: new AbortController().signal, batchSize, runId: 'bench' };
const { config } = core.loadConfig(postgresKit.config, { env: process.env });

const t0 = performance.now();
const streams = await postgresKit.discover(ctx, config);
const stream = streams.find((s) => s.name === want) ?? streams.find((s) => s.name.split('.').at(-1) === want);
if (!stream) throw new Error(`no stream ${want} (have: ${streams.map((s) => s.name).join(', ')})`);
const t1 = performance.now();
let rows = 0;
let batches = 0;
for await (const batch of postgresKit.read(ctx, config, stream, undefined)) {
  rows += batch.rows.length;
  batches++;
}
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({ rows, batches, seconds: (t2 - t1) / 1000, discoverSeconds: (t1 - t0) / 1000, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
