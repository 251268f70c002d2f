/**
 * A million rows of the benchmark's orders shape through the built CLI with Node's old space capped at
 * 256 MB: the run completes, every row lands once, and memory stays bounded. Two runs: one with
 * exactly `--max-old-space-size=256` (the flag alone; V8's young generation at its default), one with
 * the flags the image's entrypoint gives a memory-limited container, where peak RSS must stay < 400 MB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BOUNDED_NODE_OPTIONS, expectExactKeys, readParquet, spawnCli } from '@datakit/testkit';
import { testDb, type TestDb } from './support.js';

const MAIN = join(__dirname, '../dist/main.js');
const ROWS = 1_000_000;

const SETUP = `
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(18, 4) NOT NULL, description text,
  status varchar(20) NOT NULL, is_paid bool NOT NULL, created_at timestamptz NOT NULL, order_date date NOT NULL,
  attrs jsonb, ext_id uuid NOT NULL, score float8, coupon text);
INSERT INTO orders
SELECT i, i % 50000, (i::bigint * 7919 % 100000000) / 10000.0, 'order ' || i || ' of customer ' || (i % 50000),
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + i % 4], i % 3 = 0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', date '2024-01-01' + (i % 700),
       jsonb_build_object('n', i, 'tag', 't' || (i % 9)), md5(i::text)::uuid, i / 7.0,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'C' || (i % 1000) END
  FROM generate_series(1, ${ROWS}) AS i;
ANALYZE orders;
`;

let db: TestDb;
const dirs: string[] = [];
beforeAll(async () => {
  db = await testDb('pgmem', SETUP);
}, 300_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function runInto(nodeOptions: string): Promise<{ peakMb: number; rows: number | undefined; ids: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-mem-'));
  dirs.push(dir);
  const child = spawnCli(MAIN, ['run', 'orders'], { SOURCE_DATABASE_URL: db.url, BRONZE_URL: pathToFileURL(dir).href, NODE_OPTIONS: nodeOptions, LOG_LEVEL: 'warn' }, { measure: true });
  const r = await child.done;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.slice(-3000)}`);
  const back = await readParquet(join(dir, 'postgres', 'orders'), { columns: ['id'] });
  return {
    peakMb: Math.round((child.peakRssKb() ?? Infinity) / 1024),
    rows: (r.json as { rows?: number }).rows,
    ids: back.rows.map((row) => String(row.id)),
  };
}

const expectedIds = (): string[] => Array.from({ length: ROWS }, (_, i) => String(i + 1));

describe('a million rows under a 256 MB old space', () => {
  it('completes with --max-old-space-size=256 alone, every row landed once', async () => {
    const r = await runInto('--max-old-space-size=256');
    expect(r.rows).toBe(ROWS);
    expectExactKeys(expectedIds(), r.ids);
  }, 600_000);

  it("stays under 400 MB of peak RSS with the image entrypoint's flags", async () => {
    const r = await runInto(BOUNDED_NODE_OPTIONS);
    expect({ rows: r.rows, peakRssUnder400Mb: r.peakMb < 400, peakMb: r.peakMb }).toEqual({ rows: ROWS, peakRssUnder400Mb: true, peakMb: r.peakMb });
    expectExactKeys(expectedIds(), r.ids);
  }, 600_000);
});
