/**
 * Runner options through the built CLI (`dist/main.js`, what the image runs): bronze names of a
 * stream in a non-default schema, STREAMS_INCLUDE/EXCLUDE from env and from a config file,
 * BRONZE_SOURCE, one `_bronze_loaded_at` per run, the run report's per-stream fields, and Parquet
 * files rolling by rows and by bytes.
 *
 * Names are asserted literally (`bronze.br_sales_orders`, `postgres/sales_orders/`), not through
 * core's naming functions, so a naming change cannot hide behind the code it would break.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, readParquet, readWarehouse, spawnCli, testDatabaseName, type CliResult } from '@datakit/testkit';
import { query, testDb, type TestDb } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');

const SETUP = `
CREATE SCHEMA sales;
CREATE TABLE orders (id bigint PRIMARY KEY, note text);
INSERT INTO orders SELECT i, repeat('order ' || i || ' ', 20) FROM generate_series(1, 250) AS i;
CREATE TABLE order_lines (id int PRIMARY KEY);
INSERT INTO order_lines SELECT generate_series(1, 3);
CREATE TABLE customers (id int PRIMARY KEY);
INSERT INTO customers SELECT generate_series(1, 2);
CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric(10, 2));
INSERT INTO sales.orders VALUES (1, 10.50), (2, 20.00), (3, 0.01), (4, 99999999.99);
CREATE TABLE sales.refunds (id int PRIMARY KEY);
INSERT INTO sales.refunds VALUES (1);
`;

interface StreamReport {
  stream: string;
  status: string;
  rows: number;
  bytes: number;
  outputs: string[];
  durationSeconds: number;
  state?: { generation: string; phase: string; seq: number; runId: string };
}
interface RunReport {
  status: string;
  source: string;
  runId: string;
  startedAt: string;
  durationSeconds: number;
  streams: StreamReport[];
}

let source: TestDb;
beforeAll(async () => {
  source = await testDb('cliopts', SETUP);
});

const sourceEnv = (): Record<string, string> => ({ SOURCE_DATABASE_URL: source.url, SOURCE_SCHEMAS: 'public,sales' });
const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `dk-cliopts-${label}-`));
const warehouse = (label: string): Promise<string> => createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName(`cliopts_${label}`));

/** Run the built CLI; expect exit 0 and return its report. */
async function run(env: Record<string, string>, argv: string[]): Promise<RunReport> {
  const r: CliResult = await spawnCli(MAIN, ['run', ...argv], { ...sourceEnv(), ...env }).done;
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.json as unknown as RunReport;
}

/** `2026-01-02T03:04:05.123456Z` (the report) → `2026-01-02 03:04:05.123456+00` (the read-back form). */
const canonicalOf = (iso: string): string => iso.replace('T', ' ').replace(/Z$/, '+00');

/** The visible Parquet files of a stream directory, as root-relative paths. */
function partsOf(root: string, rel: string): string[] {
  return readdirSync(join(root, rel))
    .filter((f) => f.endsWith('.parquet') && !f.startsWith('.') && !f.startsWith('_'))
    .sort()
    .map((f) => `${rel}/${f}`);
}

const sortedIds = (rows: Record<string, unknown>[]): number[] => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('bronze names of a stream in a non-default schema', () => {
  it('lands sales.orders as the warehouse table bronze.br_sales_orders', async () => {
    const url = await warehouse('naming');
    const report = await run({ BRONZE_URL: url }, ['sales.orders']);
    expect(report.streams.map((s) => [s.stream, s.status, s.rows, s.outputs])).toEqual([['sales.orders', 'succeeded', 4, ['bronze.br_sales_orders']]]);
    const tables = await query<{ t: string }>(url, "SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'br\\_%' AND c.relkind = 'r'");
    expect(tables.map((r) => r.t)).toEqual(['bronze.br_sales_orders']);
    const got = await readWarehouse(url, 'br_sales_orders', { schema: 'bronze', columns: ['id', 'amount'] });
    expect(got.rows).toEqual([
      { id: 1, amount: '10.50' },
      { id: 2, amount: '20.00' },
      { id: 3, amount: '0.01' },
      { id: 4, amount: '99999999.99' },
    ].map((r) => expect.objectContaining(r)));
    const state = await query<{ stream: string }>(url, 'SELECT stream FROM bronze._datakit_state WHERE source = $1', ['postgres']);
    expect(state.map((r) => r.stream)).toEqual(['sales.orders']);
  });

  it('lands sales.orders in the Parquet directory postgres/sales_orders/', async () => {
    const root = tempDir('naming');
    const report = await run({ BRONZE_URL: `file://${root}` }, ['sales.orders']);
    expect(report.streams[0]!.outputs).toEqual(['postgres/sales_orders/part-000000.parquet']);
    expect(readdirSync(join(root, 'postgres')).filter((n) => !n.startsWith('_'))).toEqual(['sales_orders']);
    expect(sortedIds((await readParquet(join(root, 'postgres', 'sales_orders'))).rows)).toEqual([1, 2, 3, 4]);
    const state = JSON.parse(readFileSync(join(root, '_state', 'postgres.json'), 'utf8')) as { streams: Record<string, unknown> };
    expect(Object.keys(state.streams)).toEqual(['sales.orders']);
  });
});

describe('stream selection', () => {
  it('runs the streams STREAMS_INCLUDE matches minus those STREAMS_EXCLUDE matches (env)', async () => {
    const root = tempDir('select-env');
    const report = await run({ BRONZE_URL: `file://${root}`, STREAMS_INCLUDE: 'order*,sales.*', STREAMS_EXCLUDE: 'sales.refunds' }, []);
    expect(report.streams.map((s) => s.stream).sort()).toEqual(['order_lines', 'orders', 'sales.orders']);
    expect(readdirSync(join(root, 'postgres')).filter((n) => !n.startsWith('_')).sort()).toEqual(['order_lines', 'orders', 'sales_orders']);
  });

  it('takes include and exclude patterns from the --config file', async () => {
    const root = tempDir('select-file');
    const config = join(root, 'datakit.yaml');
    writeFileSync(config, 'STREAMS_INCLUDE: [customers, "sales.*"]\nexclude: ["sales.orders"]\n');
    const report = await run({ BRONZE_URL: `file://${root}` }, ['--config', config]);
    expect(report.streams.map((s) => s.stream).sort()).toEqual(['customers', 'sales.refunds']);
    expect(readdirSync(join(root, 'postgres')).filter((n) => !n.startsWith('_')).sort()).toEqual(['customers', 'sales_refunds']);
  });

  it('runs every stream when neither is set', async () => {
    const root = tempDir('select-all');
    const report = await run({ BRONZE_URL: `file://${root}` }, []);
    expect(report.streams.map((s) => s.stream).sort()).toEqual(['customers', 'order_lines', 'orders', 'sales.orders', 'sales.refunds']);
  });
});

describe('BRONZE_SOURCE', () => {
  it('names the Parquet source folder, the state file and _bronze_source', async () => {
    const root = tempDir('source');
    const report = await run({ BRONZE_URL: `file://${root}`, BRONZE_SOURCE: 'erp' }, ['customers']);
    expect(report.source).toBe('erp');
    expect(report.streams[0]!.outputs).toEqual(['erp/customers/part-000000.parquet']);
    expect(readdirSync(root).sort()).toEqual(['_state', 'erp']);
    expect(readdirSync(join(root, '_state'))).toEqual(['erp.json']);
    const got = await readParquet(join(root, 'erp', 'customers'));
    expect(got.rows.map((r) => r._bronze_source)).toEqual(['erp', 'erp']);
  });

  it('names _bronze_source and the state row in the warehouse', async () => {
    const url = await warehouse('source');
    await run({ BRONZE_URL: url, BRONZE_SOURCE: 'erp' }, ['customers']);
    const got = await readWarehouse(url, 'br_customers');
    expect(got.rows.map((r) => r._bronze_source)).toEqual(['erp', 'erp']);
    const state = await query<{ source: string; stream: string }>(url, 'SELECT source, stream FROM bronze._datakit_state');
    expect(state).toEqual([{ source: 'erp', stream: 'customers' }]);
  });
});

describe('one run in Parquet: load time, report fields and rolled files', () => {
  it('rolls files every PARQUET_ROLL_ROWS rows, stamps every row with the run start, and reports what it wrote', async () => {
    const root = tempDir('roll-rows');
    const env = { BRONZE_URL: `file://${root}`, BATCH_SIZE: '20', PARQUET_ROLL_ROWS: '60' };
    const report = await run(env, ['orders']);
    const s = report.streams[0]!;
    const files = partsOf(root, 'postgres/orders');
    expect(files.length).toBeGreaterThan(1);
    // the report lists exactly the visible files, and its bytes are theirs
    expect(s.outputs).toEqual(files);
    expect(s.bytes).toBe(files.reduce((n, f) => n + statSync(join(root, f)).size, 0));
    expect(s.rows).toBe(250);
    expect(s.durationSeconds).toBeGreaterThan(0);
    expect(s.durationSeconds).toBeLessThanOrEqual(report.durationSeconds);
    const stateFile = JSON.parse(readFileSync(join(root, '_state', 'postgres.json'), 'utf8')) as { streams: Record<string, unknown> };
    expect(s.state).toEqual(stateFile.streams.orders);
    expect(s.state).toMatchObject({ phase: 'live', runId: report.runId, seq: files.length });

    const got = await readParquet(join(root, 'postgres', 'orders'));
    expect(sortedIds(got.rows)).toEqual(range(250));
    const first = [...new Set(got.rows.map((r) => r._bronze_loaded_at))];
    expect(first).toEqual([canonicalOf(report.startedAt)]);

    const again = await run(env, ['orders']);
    const second = [...new Set((await readParquet(join(root, 'postgres', 'orders'))).rows.map((r) => r._bronze_loaded_at))];
    expect(second).toEqual([canonicalOf(again.startedAt)]);
    expect(second).not.toEqual(first);
  });

  // the size checked is that of the encoded (flushed) row groups, so small row groups make 250 rows roll
  it('rolls files once their row groups reach PARQUET_ROLL_BYTES, every row in exactly one file', async () => {
    const root = tempDir('roll-bytes');
    const report = await run({ BRONZE_URL: `file://${root}`, BATCH_SIZE: '25', PARQUET_ROW_GROUP_ROWS: '25', PARQUET_ROLL_BYTES: '4096' }, ['orders']);
    const files = partsOf(root, 'postgres/orders');
    expect(files.length).toBeGreaterThan(1);
    expect(report.streams[0]!.outputs).toEqual(files);
    const got = await readParquet(join(root, 'postgres', 'orders'));
    expect(sortedIds(got.rows)).toEqual(range(250));
  });
});

describe('one run in the warehouse: load time and report fields', () => {
  it('stamps every row of a multi-batch run with the run start, a new value per run, and reports the table and its state', async () => {
    const url = await warehouse('loaded');
    const env = { BRONZE_URL: url, BATCH_SIZE: '20' };
    const report = await run(env, ['orders']);
    const s = report.streams[0]!;
    expect([s.rows, s.outputs]).toEqual([250, ['bronze.br_orders']]);
    expect(s.bytes).toBeGreaterThan(250 * 100);
    expect(s.durationSeconds).toBeGreaterThan(0);
    expect(s.durationSeconds).toBeLessThanOrEqual(report.durationSeconds);
    const [stored] = await query<{ state: unknown }>(url, 'SELECT state FROM bronze._datakit_state WHERE source = $1 AND stream = $2', ['postgres', 'orders']);
    expect(s.state).toEqual(stored!.state);
    expect(s.state).toMatchObject({ phase: 'live', runId: report.runId });

    const loaded = async (): Promise<unknown[]> => [...new Set((await readWarehouse(url, 'br_orders', { columns: ['_bronze_loaded_at'] })).rows.map((r) => r._bronze_loaded_at))];
    const first = await loaded();
    expect(first).toEqual([canonicalOf(report.startedAt)]);
    const again = await run(env, ['orders']);
    const second = await loaded();
    expect(second).toEqual([canonicalOf(again.startedAt)]);
    expect(second).not.toEqual(first);
  });
});
