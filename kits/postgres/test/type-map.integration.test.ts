import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY, isDecimal, parseDate, parseTime, parseTimestamp, type Column } from '@datakit/core';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { decodeBinaryCopy } from '../src/copy-decoder.js';
import {
  MAPPED_TYPES, buildSelect, mapColumn, mappedTypeKey, pgColumnInfoQuery, sessionSettingsSql, type MappedColumn, type PgColumnInfo,
} from '../src/type-map.js';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
let client: pg.Client;
let infos: PgColumnInfo[];
let mapped: MappedColumn[];
/** Rows read through binary COPY and the decoders, by id. */
let decoded: Map<number, unknown[]>;

beforeAll(async () => {
  const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('typemap'));
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(sessionSettingsSql());
  await client.query(readFileSync(join(__dirname, 'fixtures', 'types.sql'), 'utf8'));
  const rel = await client.query<{ oid: number }>(`SELECT 'datakit_types'::regclass::oid AS oid`);
  infos = (await client.query<PgColumnInfo>(pgColumnInfoQuery(), [rel.rows[0]!.oid])).rows;
  mapped = infos.map(mapColumn);
  const sql = `SELECT ${buildSelect(mapped, infos.map((i) => ident(i.name)))} FROM datakit_types ORDER BY id`;
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
  decoded = new Map();
  for await (const batch of decodeBinaryCopy(stream, mapped.map((m) => m.decode), 4)) {
    for (const row of batch) decoded.set(row[0] as number, row);
  }
});

afterAll(async () => {
  await client?.end();
});

const col = (name: string): Column => mapped.find((m) => m.column.name === name)!.column;
const value = (id: number, name: string): unknown => decoded.get(id)![infos.findIndex((i) => i.name === name)];

/** The server's text output of a column, converted to the logical value independently of the decoders. */
function referenceSql(m: MappedColumn, q: string): string {
  const t = m.column.type;
  if (m.column.sourceType === 'real') return `${q}::float8::text`;
  if (t === 'bytes') return `encode(${q}, 'hex')`;
  if (m.column.sourceType === 'money') return `${q}::numeric::text`;
  // bpchar::text trims the padding; its output function (used by concat) keeps it, as binary COPY does
  if (m.column.sourceType.startsWith('character(')) return `CASE WHEN ${q} IS NOT NULL THEN concat(${q}) END`;
  if (m.selectExpr(q).startsWith('to_json(')) return m.selectExpr(q);
  return `${q}::text`;
}

function fromText(text: string, c: Column): unknown {
  const t = c.type;
  if (isDecimal(t)) return text;
  switch (t) {
    case 'int32': case 'float64': return Number(text);
    case 'int64': return BigInt(text);
    case 'boolean': return text === 'true';
    case 'date': return parseDate(text);
    case 'time': return parseTime(text);
    case 'timestamp': case 'timestamptz': return parseTimestamp(text);
    case 'bytes': return Buffer.from(text, 'hex');
    default: return text;
  }
}

describe('the PostgreSQL type map on the types fixture', () => {
  it('covers every mapped type with a fixture column holding a value and a NULL', () => {
    const keys = new Set(infos.map(mappedTypeKey));
    expect(MAPPED_TYPES.filter((t) => !keys.has(t))).toEqual([]);
    const nullRow = decoded.get(1)!;
    expect(nullRow.slice(1).every((v) => v === null)).toBe(true);
    const empty = infos.filter((_, i) => ![...decoded.values()].some((r) => r[i] !== null));
    expect(empty.map((i) => i.name)).toEqual([]);
  });

  it('maps columns to the documented logical types, source types and warehouse types', () => {
    const pick = (n: string): Partial<Column> => {
      const c = col(n);
      return { type: c.type, sourceType: c.sourceType, ...(c.warehouseType ? { warehouseType: c.warehouseType } : {}) };
    };
    expect(pick('c_numeric')).toEqual({ type: 'string', sourceType: 'numeric', warehouseType: 'numeric' });
    expect(pick('c_numeric_18_4')).toEqual({ type: { decimal: [18, 4] }, sourceType: 'numeric(18,4)' });
    expect(pick('c_numeric_5_m2')).toEqual({ type: { decimal: [7, 0] }, sourceType: 'numeric(5,-2)' });
    expect(pick('c_numeric_3_5')).toEqual({ type: { decimal: [5, 5] }, sourceType: 'numeric(3,5)' });
    expect(pick('c_money')).toEqual({ type: { decimal: [19, 2] }, sourceType: 'money' });
    expect(pick('c_domain')).toEqual({ type: { decimal: [12, 2] }, sourceType: 'price' });
    expect(pick('c_domain2')).toEqual({ type: { decimal: [12, 2] }, sourceType: 'price2' });
    expect(pick('c_domain_text')).toEqual({ type: 'string', sourceType: 'short_text' });
    expect(pick('c_json')).toEqual({ type: 'json', sourceType: 'json', warehouseType: 'json' });
    expect(pick('c_jsonb')).toEqual({ type: 'json', sourceType: 'jsonb', warehouseType: 'jsonb' });
    expect(pick('c_bit')).toEqual({ type: 'string', sourceType: 'bit(4)', warehouseType: 'bit(4)' });
    expect(pick('c_interval')).toEqual({ type: 'string', sourceType: 'interval', warehouseType: 'interval' });
    expect(pick('c_enum')).toEqual({ type: 'string', sourceType: 'mood' });
    expect(pick('c_range')).toEqual({ type: 'string', sourceType: 'int4range', warehouseType: 'int4range' });
    expect(pick('c_array2d')).toEqual({ type: 'json', sourceType: 'integer[]', warehouseType: 'json' });
    expect(pick('c_composite')).toEqual({ type: 'json', sourceType: 'pair', warehouseType: 'json' });
    expect(pick('c_timestamptz')).toEqual({ type: 'timestamptz', sourceType: 'timestamp with time zone' });
    expect(pick('c_regclass')).toEqual({ type: 'string', sourceType: 'regclass' });
    expect(col('id').nullable).toBe(false);
    expect(col('c_text').nullable).toBe(true);
  });

  it('reads every fixture value exactly as the server prints it', async () => {
    const refs = mapped.map((m, i) => `${referenceSql(m, ident(infos[i]!.name))} AS c${i}`).join(', ');
    const { rows } = await client.query<Record<string, string | null>>(`SELECT ${refs} FROM datakit_types ORDER BY id`);
    expect(rows).toHaveLength(decoded.size);
    for (const ref of rows) {
      const id = Number(ref.c0);
      const row = decoded.get(id)!;
      mapped.forEach((m, i) => {
        const text = ref[`c${i}`];
        const expected = text === null || text === undefined ? null : fromText(text, m.column);
        const got = row[i];
        if (!Object.is(got, expected)) expect({ id, column: m.column.name, value: got }).toEqual({ id, column: m.column.name, value: expected });
      });
    }
  });

  // extract(epoch) itself rounds beyond year ~294000 (numeric division), hence the upper bound
  it('reads timestamps as the microseconds extract(epoch) gives', async () => {
    for (const name of ['c_timestamp', 'c_timestamp3', 'c_timestamptz']) {
      const { rows } = await client.query<{ id: number; us: string }>(
        `SELECT id, (extract(epoch FROM ${name}) * 1000000)::numeric(30,0)::text AS us FROM datakit_types WHERE isfinite(${name}) AND ${name} < '200000-01-01' ORDER BY id`,
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect([name, r.id, value(r.id, name)]).toEqual([name, r.id, BigInt(r.us)]);
    }
  });

  it('keeps the hand-checked values exact', () => {
    expect(value(2, 'c_int8')).toBe(9007199254740993n);
    expect(value(3, 'c_int8')).toBe(9223372036854775807n);
    expect(value(4, 'c_int8')).toBe(-9223372036854775808n);
    expect(value(2, 'c_oid')).toBe(4294967295n);
    expect(value(2, 'c_float4')).toBe(0.10000000149011612);
    expect(Object.is(value(6, 'c_float8'), -0)).toBe(true);
    expect(value(7, 'c_float8')).toBe(1e-310);
    expect(value(5, 'c_float8')).toBeNaN();
    expect(value(2, 'c_numeric')).toBe('123.4500');
    expect(value(3, 'c_numeric')).toBe('Infinity');
    expect(value(5, 'c_numeric_18_4')).toBe('NaN');
    expect(value(6, 'c_numeric')).toBe('0.0000');
    expect(value(2, 'c_numeric_5_m2')).toBe('12300');
    expect(value(3, 'c_money')).toBe('92233720368547758.07');
    expect(value(4, 'c_money')).toBe('-92233720368547758.08');
    expect(value(2, 'c_bpchar')).toBe('ab   ');
    expect(value(2, 'c_text')).toBe("héllo wörld 😀 日本 'quoted' \\back");
    expect(value(2, 'c_bytea')).toEqual(Buffer.from([0, 255, 0, 0]));
    expect(value(3, 'c_date')).toBe(2147483647);
    expect(value(5, 'c_date')).toBe(parseDate('0044-03-15 BC'));
    expect(value(3, 'c_time')).toBe(86_400_000_000n);
    expect(value(2, 'c_timestamptz')).toBe(1704157445123456n);
    expect(value(2, 'c_timestamp3')).toBe(1704164645123000n);
    expect(value(3, 'c_timestamptz')).toBe(9223372036854775807n);
    expect([value(3, 'c_timestamp3'), value(4, 'c_timestamp3')]).toEqual([TIMESTAMP_POS_INFINITY, TIMESTAMP_NEG_INFINITY]);
    expect(value(4, 'c_timestamp')).toBe(-211813488000000000n + 946684800000000n); // 4714-11-24 BC, PostgreSQL's minimum
    expect(value(2, 'c_timetz')).toBe('13:45:07.5+05:30');
    expect(value(2, 'c_interval')).toBe('P1Y2M3DT4H5M6.789S');
    expect(value(2, 'c_uuid')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(value(2, 'c_json')).toBe('{"a": 1, "a": 2, "big": 123456789012345678901234567890.5}');
    expect(value(2, 'c_jsonb')).toBe('{"a": null, "b": [1, 2.50, "x"], "big": 12345678901234567890123}');
    expect(value(2, 'c_enum')).toBe('happy');
    expect(value(2, 'c_domain')).toBe('12.50');
    expect(value(2, 'c_tstzrange')).toBe('["2024-01-01 00:00:00+00","2024-02-01 00:00:00+00")');
    expect(value(2, 'c_composite')).toBe('{"a":1,"b":"x \\"q\\"","c":1.50,"t":"2024-01-01T00:00:00+00:00","n":[1,null]}');
    expect(value(2, 'c_array2d')).toBe('[[1,2],[3,null]]');
    expect(value(2, 'c_numeric_array')).toBe('[1.50,"NaN",-0.001]');
    expect(value(2, 'c_bytea_array')).toBe('["\\\\x00ff",null]');
    expect(value(2, 'c_tstz_array')).toBe('["2024-01-01T00:00:00.5+00:00","infinity"]');
    expect((value(10, 'c_text') as string).length).toBe(400000);
    expect((value(10, 'c_bytea') as Buffer).length).toBe(300000);
  });

  it('writes SQL literals that find the row the value came from', async () => {
    for (const [i, m] of mapped.entries()) {
      const q = ident(infos[i]!.name);
      if (m.selectExpr(q).startsWith('to_json(')) {
        expect(() => m.toSqlLiteral('[]')).toThrow(/cannot serve as a cursor/);
        continue;
      }
      const equality =
        m.column.sourceType !== 'json' && (!m.column.warehouseType || ['numeric', 'jsonb', 'interval', 'inet', 'bit(4)', 'int4range'].includes(m.column.warehouseType));
      for (const [id, row] of decoded) {
        if (row[i] === null) continue;
        const lit = m.toSqlLiteral(row[i]);
        const cond = equality ? `${q} = ${lit}` : `${q}::text = (${lit})::text`;
        const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM datakit_types WHERE id = $1 AND ${cond}`, [id]);
        expect([m.column.name, id, lit, r.rows[0]!.n]).toEqual([m.column.name, id, lit, '1']);
      }
    }
  });

  it('lists user columns in attnum order, skipping dropped ones, with nested domains resolved', async () => {
    await client.query(`CREATE TABLE evolving (a int, gone text, "b ""q""" price2 NOT NULL, c mood[])`);
    await client.query(`ALTER TABLE evolving DROP COLUMN gone`);
    const { rows } = await client.query<PgColumnInfo>(pgColumnInfoQuery(), [(await client.query(`SELECT 'evolving'::regclass::oid AS oid`)).rows[0].oid]);
    expect(rows.map((r) => [r.name, r.attnum, r.formattedType, r.typtype, r.baseTypname ?? null, r.baseFormattedType ?? null, r.nullable])).toEqual([
      ['a', 1, 'integer', 'b', null, null, true],
      ['b "q"', 3, 'price2', 'd', 'numeric', 'numeric(12,2)', false],
      ['c', 4, 'mood[]', 'b', null, null, true],
    ]);
  });
});
