import { postgresKit } from '../src/kit.js';
import { configOf, ctxOf, failure, readAll, rowsOf, testDb, type TestDb } from './support.js';

const SETUP = `
CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz, note text, tags text[]);
INSERT INTO orders SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour', 'n' || i, ARRAY['a', 'b'] FROM generate_series(1, 10) AS i;
ANALYZE orders;

CREATE SCHEMA "Sales Dept 🚀";
CREATE TABLE "Sales Dept 🚀"."select" (
  "order" int NOT NULL,
  "1st value" numeric(10, 2),
  "with space" text,
  "MixedCase" boolean,
  "emoji 🎉" text,
  "quote""d" text,
  "modified_at" timestamp,
  PRIMARY KEY ("order", "quote""d")
);
INSERT INTO "Sales Dept 🚀"."select" VALUES (1, 1.5, 'a b', true, '🎉', 'q1', '2024-01-01 00:00'), (2, NULL, NULL, NULL, NULL, 'q"2', NULL);
CREATE TABLE "Sales Dept 🚀"."1st Table" (x int);
CREATE VIEW "Sales Dept 🚀"."v orders" AS SELECT id, note FROM public.orders WHERE id <= 3;
CREATE MATERIALIZED VIEW "Sales Dept 🚀".mv AS SELECT id FROM public.orders;
CREATE MATERIALIZED VIEW "Sales Dept 🚀".mv_empty AS SELECT 1 AS x WITH NO DATA;
CREATE TABLE "Sales Dept 🚀".measurements (id bigint, at date NOT NULL, v float8, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE "Sales Dept 🚀".measurements_2024 PARTITION OF "Sales Dept 🚀".measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE "Sales Dept 🚀".measurements_2025 PARTITION OF "Sales Dept 🚀".measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO "Sales Dept 🚀".measurements SELECT i, date '2024-06-01' + i * 7, i FROM generate_series(1, 60) AS i;
ANALYZE "Sales Dept 🚀".measurements;

CREATE SCHEMA other;
CREATE TABLE other.hidden (id int);
`;

let db: TestDb;
beforeAll(async () => {
  db = await testDb('pgdisc', SETUP);
});

const SALES = 'Sales Dept 🚀';
const config = (extra: Record<string, string> = {}) => configOf({ SOURCE_DATABASE_URL: db.url, SOURCE_SCHEMAS: `public,${SALES}`, ...extra });

describe('discover', () => {
  it('lists tables, partitioned tables, views and populated materialized views of the configured schemas, leaf partitions excluded', async () => {
    const streams = await postgresKit.discover(ctxOf(), config());
    expect(streams.map((s) => s.name).sort()).toEqual(
      ['orders', `${SALES}.1st Table`, `${SALES}.measurements`, `${SALES}.mv`, `${SALES}.select`, `${SALES}.v orders`].sort(),
    );
    expect(streams.every((s) => s.syncMode === 'full_refresh')).toBe(true);
  });

  it('reports hostile column names, logical types, keys, cursor candidates and row estimates', async () => {
    const streams = await postgresKit.discover(ctxOf(), config());
    const sel = streams.find((s) => s.name === `${SALES}.select`)!;
    expect(sel.namespace).toBe(SALES);
    expect(sel.columns.map((c) => [c.name, c.type, c.nullable, c.sourceType])).toEqual([
      ['order', 'int32', false, 'integer'],
      ['1st value', { decimal: [10, 2] }, true, 'numeric(10,2)'],
      ['with space', 'string', true, 'text'],
      ['MixedCase', 'boolean', true, 'boolean'],
      ['emoji 🎉', 'string', true, 'text'],
      ['quote"d', 'string', false, 'text'],
      ['modified_at', 'timestamp', true, 'timestamp without time zone'],
    ]);
    expect(sel.primaryKey).toEqual(['order', 'quote"d']);
    expect(sel.cursorCandidates).toEqual(['order', 'modified_at']);

    const orders = streams.find((s) => s.name === 'orders')!;
    expect(orders.primaryKey).toEqual(['id']);
    expect(orders.cursorCandidates).toEqual(['id', 'updated_at']);
    expect(orders.rowEstimate).toBe(10);
    expect(orders.columns.find((c) => c.name === 'tags')?.type).toBe('json');

    const view = streams.find((s) => s.name === `${SALES}.v orders`)!;
    expect(view.primaryKey).toBeUndefined();
    expect(view.rowEstimate).toBeUndefined();

    const parted = streams.find((s) => s.name === `${SALES}.measurements`)!;
    expect(parted.primaryKey).toEqual(['id', 'at']);
    expect(parted.rowEstimate).toBe(60);
  });

  it('reads hostile relations and a view end to end', async () => {
    const ctx = ctxOf({ batchSize: 1 });
    const cfg = config({ SOURCE_CHUNK_ROWS: '1' });
    const streams = await postgresKit.discover(ctx, cfg);
    const sel = streams.find((s) => s.name === `${SALES}.select`)!;
    expect(rowsOf(await readAll(ctx, cfg, sel))).toEqual([
      [1, '1.50', 'a b', true, '🎉', 'q1', 1704067200000000n],
      [2, null, null, null, null, 'q"2', null],
    ]);
    const view = streams.find((s) => s.name === `${SALES}.v orders`)!;
    expect(rowsOf(await readAll(ctx, cfg, view)).map((r) => r[0]).sort()).toEqual([1n, 2n, 3n]);
    const parted = streams.find((s) => s.name === `${SALES}.measurements`)!;
    expect(rowsOf(await readAll(ctx, cfg, parted))).toHaveLength(60);
  });

  it('marks a stream incremental when CURSOR_FIELDS names it, by stream name or schema.table', async () => {
    const streams = await postgresKit.discover(ctxOf(), config({ CURSOR_FIELDS: `public.orders=updated_at,${SALES}.select=modified_at` }));
    const orders = streams.find((s) => s.name === 'orders')!;
    expect([orders.syncMode, orders.cursorField]).toEqual(['incremental', ['updated_at']]);
    const sel = streams.find((s) => s.name === `${SALES}.select`)!;
    expect([sel.syncMode, sel.cursorField]).toEqual(['incremental', ['modified_at']]);
  });

  it('takes cursor fields and lookbacks from the config file streams section', async () => {
    const cfg = configOf({ SOURCE_DATABASE_URL: db.url }, { streams: { orders: { cursor_field: 'updated_at', lookback: '5 minutes', chunk_rows: 3 } } });
    const orders = (await postgresKit.discover(ctxOf(), cfg)).find((s) => s.name === 'orders')!;
    expect(orders.cursorField).toEqual(['updated_at']);
  });

  it.each([
    ['a missing cursor column', { CURSOR_FIELDS: 'orders=updatedat' }, /CURSOR_FIELDS: stream "orders" has no column "updatedat"/],
    ['a stream that does not exist', { CURSOR_FIELDS: 'ordres=updated_at' }, /CURSOR_FIELDS names stream "ordres"/],
    ['an array cursor', { CURSOR_FIELDS: 'orders=tags' }, /cannot use "tags"/],
    ['a lookback the server cannot read as an interval', { CURSOR_FIELDS: 'orders=updated_at', CURSOR_LOOKBACK: 'ten minutes' }, /CURSOR_LOOKBACK: stream "orders"/],
    ['an interval lookback on an integer cursor', { CURSOR_FIELDS: 'orders=id', CURSOR_LOOKBACK: '10 minutes' }, /CURSOR_LOOKBACK: stream "orders": a bigint cursor takes a non-negative number/],
  ])('rejects %s with CONFIG.INVALID naming the setting and the stream', async (_what, env, message) => {
    const e = await failure(postgresKit.discover(ctxOf(), config(env)));
    expect(e.code).toBe('CONFIG.INVALID');
    expect(e.message).toMatch(message);
  });

  it('lists nothing from a schema the user cannot read, and check names it', async () => {
    const role = `dk_disc_${Date.now()}`;
    await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw-disc'; GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON public.orders TO ${role}`);
    const u = new URL(db.url);
    u.username = role;
    u.password = 'pw-disc';
    const cfg = configOf({ SOURCE_DATABASE_URL: u.toString(), SOURCE_SCHEMAS: 'public,other' });
    const streams = await postgresKit.discover(ctxOf(), cfg);
    expect(streams.map((s) => s.name)).toEqual(['orders']);
    const e = await failure(postgresKit.check(ctxOf(), cfg));
    expect(e.code).toBe('SOURCE.PERMISSION_DENIED');
    expect(e.message).toContain('"other"');
  });
});
