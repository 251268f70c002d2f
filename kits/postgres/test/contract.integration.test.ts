/**
 * The contract suite (STYLE §6) for the PostgreSQL kit, on a real server (testkit globalSetup).
 *
 * Each source is its own database with a read-only login role, loaded with fixtures/types.sql (the
 * type table) and fixtures/contract.sql (orders, a hostile-named table, a table without a key,
 * big_events). Golden output lives in fixtures/expected/; `DATAKIT_WRITE_GOLDEN=1` rewrites it from
 * the server's own text output (review the diff before committing).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { LogicalType } from '@datakit/core';
import { createDatabase, describeKitContract, testDatabaseName, writeGolden, type CanonicalRow, type ContractSource, type ContractStream } from '@datakit/testkit';
import { postgresKit } from '../src/index.js';
import { MAPPED_TYPES, mappedTypeKey, pgColumnInfoQuery, type PgColumnInfo } from '../src/type-map.js';

const FIXTURES = join(__dirname, 'fixtures');
const TYPES_TABLE = 'datakit_types';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database with the fixtures and a read-only role for the kit. */
async function postgresSource(label: string): Promise<ContractSource & { adminUrl: string }> {
  const server = process.env.DATAKIT_TEST_PG_URL!;
  const adminUrl = await createDatabase(server, testDatabaseName(`pgc_${label}`));
  const suffix = randomBytes(4).toString('hex');
  const role = `dk_reader_${suffix}`;
  const password = `pw-${suffix}-Sup3r$ecret`;
  const badPassword = `wrong-${suffix}-N0tIt`;
  await withClient(adminUrl, async (c) => {
    await c.query(readFileSync(join(FIXTURES, 'types.sql'), 'utf8'));
    await c.query(readFileSync(join(FIXTURES, 'contract.sql'), 'utf8'));
    await c.query(`CREATE ROLE ${ident(role)} LOGIN PASSWORD '${password}'`);
    await c.query(`GRANT USAGE ON SCHEMA public TO ${ident(role)}`);
    await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ident(role)}`);
  });
  const url = (pw: string): string => {
    const u = new URL(adminUrl);
    u.username = role;
    u.password = encodeURIComponent(pw);
    return u.toString();
  };
  return {
    adminUrl,
    env: { SOURCE_DATABASE_URL: url(password) },
    badCredentials: { env: { SOURCE_DATABASE_URL: url(badPassword) }, setting: 'SOURCE_DATABASE_URL' },
    secrets: [password, badPassword],
    openResources: () =>
      withClient(adminUrl, async (c) => Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [role])).rows[0]!.n)),
    async close() {
      const name = decodeURIComponent(new URL(adminUrl).pathname.slice(1));
      await withClient(server, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${ident(role)}`);
      });
    },
  };
}

const admin = (src: ContractSource): string => (src as ContractSource & { adminUrl: string }).adminUrl;

const streams: ContractStream[] = [
  {
    name: 'orders',
    primaryKey: ['id'],
    columns: [
      ['id', 'int64'], ['customer', 'string'], ['status', 'string'], ['quantity', 'int32'], ['amount', { decimal: [12, 2] }],
      ['unit_price', 'float64'], ['discount', 'float64'], ['paid', 'boolean'], ['order_date', 'date'], ['ship_time', 'time'],
      ['created_local', 'timestamp'], ['updated_at', 'timestamptz'], ['ref', 'uuid'], ['attrs', 'json'], ['note', 'string'], ['raw', 'bytes'],
    ] as [string, LogicalType][],
  },
  { name: 'Order Lines 🚀', golden: 'expected/order-lines.jsonl', primaryKey: ['order id', 'line#'] },
  { name: 'audit_log' },
  { name: TYPES_TABLE, primaryKey: ['id'] },
  {
    name: 'beyond_parquet_timestamp',
    primaryKey: ['id'],
    refusedBy: [{ target: 'parquet', columns: ['c_timestamp'], reason: 'a timestamp past 294247 AD overflows int64 microseconds' }],
  },
  {
    name: 'nan_in_decimal',
    primaryKey: ['id'],
    refusedBy: [{ target: 'parquet', columns: ['c_numeric_18_4'], reason: 'NaN has no Parquet DECIMAL form' }],
  },
];

/** The canonical text of each column as the server prints it (independent of the kit's decoders). */
function canonicalExpr(info: PgColumnInfo): string {
  const q = ident(info.name);
  const base = info.typtype === 'd' ? info.baseTypname ?? '' : info.typname;
  if (info.typcategory === 'A' || info.typtype === 'c') return `to_json(${q})::text`;
  if (base === 'float4') return `${q}::float8::text`;
  if (base === 'money') return `${q}::numeric::text`;
  // bpchar::text trims the padding; its output function (concat) keeps it
  if (base === 'bpchar') return `CASE WHEN ${q} IS NOT NULL THEN concat(${q}) END`;
  return `${q}::text`;
}

function fromText(text: string | null, info: PgColumnInfo): CanonicalRow[string] {
  if (text === null) return null;
  const base = info.typtype === 'd' ? info.baseTypname ?? '' : info.typname;
  if (info.typcategory === 'A' || info.typtype === 'c') return text;
  if (base === 'int2' || base === 'int4') return Number(text);
  if (base === 'bool') return text === 'true';
  if (base === 'float4' || base === 'float8') {
    const n = Number(text);
    return Number.isNaN(n) ? 'NaN' : n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : Object.is(n, -0) ? '-0' : n;
  }
  return text;
}

/** Rewrite fixtures/expected/*.jsonl from the source (DATAKIT_WRITE_GOLDEN=1). */
async function writeGoldens(src: ContractSource): Promise<void> {
  await withClient(admin(src), async (c) => {
    await c.query("SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; SET IntervalStyle TO 'iso_8601'; SET extra_float_digits TO 3; SET bytea_output TO 'hex'");
    for (const s of streams) {
      const rel = await c.query<{ oid: number }>('SELECT $1::regclass::oid AS oid', [ident(s.name)]);
      const infos = (await c.query<PgColumnInfo>(pgColumnInfoQuery(), [rel.rows[0]!.oid])).rows;
      const order = (s.primaryKey ?? infos.map((i) => i.name)).map(ident).join(', ');
      const sql = `SELECT ${infos.map((i, n) => `${canonicalExpr(i)} AS c${n}`).join(', ')} FROM ${ident(s.name)} ORDER BY ${order}`;
      const rows = (await c.query<Record<string, string | null>>(sql)).rows.map((r) =>
        Object.fromEntries(infos.map((i, n) => [i.name, fromText(r[`c${n}`] ?? null, i)])),
      );
      writeGolden(join(FIXTURES, s.golden ?? join('expected', `${s.name}.jsonl`)), rows);
    }
  });
}

if (process.env.DATAKIT_WRITE_GOLDEN) {
  beforeAll(async () => {
    const src = await postgresSource('golden');
    try {
      await writeGoldens(src);
    } finally {
      await src.close();
    }
  });
}

describeKitContract({
  kit: postgresKit,
  main: join(__dirname, '../dist/main.js'),
  source: postgresSource,
  fixtures: {
    dir: FIXTURES,
    streams,
    secretSettings: ['SOURCE_DATABASE_URL'],
    invalidConfigSetting: 'SOURCE_CHUNK_ROWS',
    types: {
      stream: TYPES_TABLE,
      mappedTypes: MAPPED_TYPES,
      // json (and to_json of arrays/composites) is text-exact, so it must not land in a normalising jsonb
      warehouseTypes: { c_json: 'json', c_jsonb: 'jsonb', c_composite: 'json', c_array2d: 'json', c_money: 'numeric(19,2)', c_numeric: 'numeric' },
      coveredTypes: (src) =>
        withClient(admin(src), async (c) => {
          const rel = await c.query<{ oid: number }>('SELECT $1::regclass::oid AS oid', [TYPES_TABLE]);
          const infos = (await c.query<PgColumnInfo>(pgColumnInfoQuery(), [rel.rows[0]!.oid])).rows;
          const out: Record<string, string[]> = {};
          for (const i of infos) (out[mappedTypeKey(i)] ??= []).push(i.name);
          return out;
        }),
    },
    incremental: {
      stream: 'orders',
      env: { CURSOR_FIELDS: 'orders=updated_at' },
      key: 'id',
      appendRows: (src, n) =>
        withClient(admin(src), async (c) => {
          // the first five tie with the newest stored cursor value, the rest are newer
          const r = await c.query<{ id: string }>(
            `WITH top AS (SELECT max(id) AS id, max(updated_at) AS at FROM orders)
             INSERT INTO orders (id, customer, quantity, updated_at, note)
             SELECT top.id + i, 'late customer', i, CASE WHEN i <= 5 THEN top.at ELSE top.at + i * interval '1 minute' END, 'appended'
               FROM top, generate_series(1, $1::int) AS i
             RETURNING id::text AS id`,
            [n],
          );
          return r.rows.map((x) => x.id);
        }),
    },
    large: {
      stream: 'big_events',
      key: 'id',
      rows: 300_000,
      seed: (src, rows) =>
        withClient(admin(src), async (c) => {
          await c.query('TRUNCATE big_events');
          await c.query(
            `INSERT INTO big_events
             SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', 'kind-' || (i % 13), i * 1.0001, repeat(md5(i::text), 8)
               FROM generate_series(1, $1::int) AS i`,
            [rows],
          );
          await c.query('ANALYZE big_events');
          return Array.from({ length: rows }, (_, i) => String(i + 1));
        }),
    },
  },
});
