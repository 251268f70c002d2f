#!/usr/bin/env node
// Benchmark of @datakit/kit-rest against a local HTTP API (127.0.0.1, started here, stopped at the end).
//
// 1. Throughput: 100,000 records over 1,000 pages, read by the kit (exact JSON, JSONPath selector,
//    column inference, rows, batches — and, when core's Parquet target is built, written to Parquet
//    through `runCli`) next to a plain axios loop over the same pages (JSON.parse, nothing else), in
//    the same run. Figures: seconds, records/s, and the ratio kit / axios.
// 2. Politeness: the kit with `requests_per_second: 20` (concurrency 4) over 120 pages; the server
//    measures the arrival rate (must be ≤ 20 and ≥ 18) and the most requests in any 1 s window.
//
// Needs the kit built (`pnpm bench` builds it). Writes bench/results/rest.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const kitDir = join(root, 'kits/rest');
const requireKit = createRequire(join(kitDir, 'package.json'));
const axios = requireKit('axios');
const { restKit } = await import(pathToFileURL(join(kitDir, 'dist/index.js')).href);
const core = await import(pathToFileURL(requireKit.resolve('@datakit/core')).href);

const PAGES = Number(process.env.BENCH_REST_PAGES ?? 1000);
const PER_PAGE = 100;
const RATE = 20;
const RATE_PAGES = Number(process.env.BENCH_REST_RATE_PAGES ?? 120);
const REPEAT = Number(process.env.BENCH_REST_REPEAT ?? 3);

// ---- the local API: pre-rendered pages, so the server costs almost nothing -------------------------
const raw = (t) => JSON.rawJSON(t);
function page(p) {
  const data = [];
  for (let i = 0; i < PER_PAGE; i++) {
    const n = (p - 1) * PER_PAGE + i;
    data.push({
      id: raw(String(9007199254740993n + BigInt(n))),
      name: `customer ${n}`,
      email: `c${n}@example.com`,
      amount: raw(`${n % 1000}.${String(n % 100).padStart(2, '0')}`),
      active: n % 3 !== 0,
      updated_at: new Date(Date.UTC(2024, 0, 1) + n * 1000).toISOString(),
      address: { city: `City ${n % 50}`, zip: String(10000 + (n % 89999)) },
      tags: n % 2 ? ['vip', 'eu'] : [],
    });
  }
  return Buffer.from(JSON.stringify({ data, page: p, total_pages: PAGES }));
}
const bodies = Array.from({ length: PAGES }, (_, i) => page(i + 1));
const arrivals = [];
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/rate/records') arrivals.push(performance.now());
  const p = Number(u.searchParams.get('page') ?? 1);
  const body = p >= 1 && p <= PAGES ? bodies[p - 1] : Buffer.from(JSON.stringify({ data: [], page: p, total_pages: PAGES }));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

// ---- the kit's definition ---------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'rest-bench-'));
const defFile = join(dir, 'api.json');
const stream = (name, path, pages) => ({
  name,
  path,
  record_selector: '$.data',
  primary_key: 'id',
  pagination: { type: 'page_number', total_pages_path: '$.total_pages', max_pages: pages },
});
writeFileSync(
  defFile,
  JSON.stringify({ base_url: base, rate_limit: { concurrency: 4 }, streams: [stream('records', '/records', PAGES)] }),
);
const rateFile = join(dir, 'rate.json');
writeFileSync(
  rateFile,
  JSON.stringify({ base_url: base, rate_limit: { requests_per_second: RATE, concurrency: 4 }, streams: [stream('records', '/rate/records', RATE_PAGES)] }),
);

const logger = core.createLogger({ level: 'silent', pretty: false });
const ctxOf = () => ({ logger, signal: new AbortController().signal, batchSize: 10_000, runId: 'bench' });
const parquetBuilt = existsSync(join(root, 'packages/core/dist/bronze/parquet/index.js'));

async function plainAxios() {
  const client = axios.create({ httpAgent: new http.Agent({ keepAlive: true }) });
  let records = 0;
  const t = performance.now();
  for (let p = 1; p <= PAGES; p++) {
    const res = await client.get(`${base}/records`, { params: { page: p } });
    records += res.data.data.length;
  }
  return { seconds: (performance.now() - t) / 1000, records };
}

async function kitRead(file) {
  const config = core.loadConfig(restKit.config, { env: { REST_CONFIG: file } }).config;
  const ctx = ctxOf();
  const [s] = await restKit.discover(ctx, config);
  let records = 0;
  const t = performance.now();
  for await (const batch of restKit.read(ctx, config, s, undefined)) records += batch.rows.length;
  return { seconds: (performance.now() - t) / 1000, records };
}

async function kitRunParquet() {
  const out = join(dir, `bronze-${Math.random().toString(36).slice(2)}`);
  const env = { REST_CONFIG: defFile, BRONZE_URL: pathToFileURL(out).href, BATCH_SIZE: '10000', LOG_LEVEL: 'silent' };
  let report = '';
  const t = performance.now();
  const code = await core.runCli(restKit, ['run', 'records'], { env, stdout: (s) => (report += s), logger });
  const seconds = (performance.now() - t) / 1000;
  rmSync(out, { recursive: true, force: true });
  if (code !== 0) throw new Error(`rest run exited ${code}: ${report.slice(0, 500)}`);
  return { seconds, records: JSON.parse(report).rows };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = { axios: [], kitRead: [], kitParquet: [] };
await plainAxios(); // warm up both paths
await kitRead(defFile);
for (let i = 0; i < REPEAT; i++) {
  runs.axios.push(await plainAxios());
  runs.kitRead.push(await kitRead(defFile));
  if (parquetBuilt) runs.kitParquet.push(await kitRunParquet());
}
for (const r of [...runs.axios, ...runs.kitRead, ...runs.kitParquet]) {
  if (r.records !== PAGES * PER_PAGE) throw new Error(`expected ${PAGES * PER_PAGE} records, got ${r.records}`);
}
const axiosS = median(runs.axios.map((r) => r.seconds));
const readS = median(runs.kitRead.map((r) => r.seconds));
const parquetS = runs.kitParquet.length ? median(runs.kitParquet.map((r) => r.seconds)) : undefined;

// ---- politeness: a 20 req/s budget ------------------------------------------------------------------
arrivals.length = 0;
const rateRead = await kitRead(rateFile);
const span = (arrivals.at(-1) - arrivals[0]) / 1000;
const measuredRate = (arrivals.length - 1) / span;
let maxInWindow = 0;
for (let i = 0, j = 0; i < arrivals.length; i++) {
  while (arrivals[i] - arrivals[j] >= 1000) j++;
  maxInWindow = Math.max(maxInWindow, i - j + 1);
}
server.close();
rmSync(dir, { recursive: true, force: true });

const records = PAGES * PER_PAGE;
const results = {
  kit: 'rest',
  date: new Date().toISOString(),
  node: process.version,
  throughput: {
    records,
    pages: PAGES,
    repeats: REPEAT,
    plainAxiosSeconds: axiosS,
    kitReadSeconds: readS,
    kitReadRatio: readS / axiosS,
    ...(parquetS !== undefined ? { kitRunParquetSeconds: parquetS, kitRunParquetRatio: parquetS / axiosS } : { kitRunParquet: 'skipped: core Parquet target not built' }),
    plainAxiosRecordsPerSecond: records / axiosS,
    kitReadRecordsPerSecond: records / readS,
  },
  rateLimit: {
    budget: RATE,
    requests: arrivals.length,
    records: rateRead.records,
    measuredRate,
    maxRequestsInAnyOneSecond: maxInWindow,
    ok: measuredRate <= RATE && measuredRate >= RATE * 0.9 && maxInWindow <= RATE,
  },
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/rest.json'), `${JSON.stringify(results, null, 2)}\n`);

const f = (x, d = 2) => x.toFixed(d);
console.log(`rest: ${records.toLocaleString('en')} records over ${PAGES} pages from a local API (median of ${REPEAT})`);
console.log(`  plain axios loop (JSON.parse only)     ${f(axiosS)} s  ${Math.round(records / axiosS).toLocaleString('en')} records/s`);
console.log(`  rest kit read (exact, typed rows)      ${f(readS)} s  ${Math.round(records / readS).toLocaleString('en')} records/s  ratio ${f(readS / axiosS)}x`);
if (parquetS !== undefined) console.log(`  rest kit run → Parquet (runCli)        ${f(parquetS)} s  ${Math.round(records / parquetS).toLocaleString('en')} records/s  ratio ${f(parquetS / axiosS)}x`);
else console.log('  rest kit run → Parquet                 skipped (core Parquet target not built yet)');
console.log(`rest: requests_per_second ${RATE}: ${arrivals.length} requests, measured ${f(measuredRate)} req/s, at most ${maxInWindow} in any 1 s — ${results.rateLimit.ok ? 'within budget' : 'OUT OF BUDGET'}`);
if (!results.rateLimit.ok) process.exitCode = 1;
