import pg from 'pg';
import pino from 'pino';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import type { Column, OpenStreamParams, Row, Stream } from '@datakit/core';
import { DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY, parseDate, parseTime, parseTimestamp } from '@datakit/core';
import { PostgresTarget } from '../src/bronze/postgres/index.js';

const SOURCE = 'types';
let url: string;
let target: PostgresTarget;
let db: pg.Client;

beforeAll(async () => {
  url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('wh_types'));
  target = new PostgresTarget(url);
  await target.open(SOURCE);
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query("SET TimeZone = 'UTC'");
});

afterAll(async () => {
  await db?.end();
  await target?.close();
});

const col = (name: string, type: Column['type'], warehouseType?: string): Column => ({ name, type, nullable: true, sourceType: 'test', ...(warehouseType ? { warehouseType } : {}) });

/** Load rows as one staged generation and make it live; returns the live table name. */
async function load(name: string, columns: Column[], rows: Row[]): Promise<void> {
  const stream: Stream = { name, columns, syncMode: 'full_refresh' };
  const params: OpenStreamParams = {
    run: { source: SOURCE, runId: 'run-1', loadedAtMicros: 0n, logger: pino({ level: 'silent' }) },
    stream,
    columns,
    bronzeName: name,
    stateKey: name,
    staged: true,
  };
  const sink = await target.openStream(params);
  await sink.write(rows, { done: true }, true);
  await sink.finish();
}

/** Every column of the table as `col::text`, ordered by the first column. */
async function texts(table: string, columns: string[]): Promise<(string | null)[][]> {
  const q = (n: string): string => `"${n.replace(/"/g, '""')}"`;
  const r = await db.query({ text: `SELECT ${columns.map((c) => `${q(c)}::text`).join(', ')} FROM bronze.${q(table)} ORDER BY 1`, rowMode: 'array' });
  return r.rows as (string | null)[][];
}

describe('warehouse target: exact values', () => {
  // json lands in jsonb, which normalises key order, spacing and -0 (warehouseType 'json' keeps the text)
  it('stores every logical type exactly, including extremes, infinities and BC dates', async () => {
    const columns = [
      col('n', 'int32'),
      col('i64', 'int64'),
      col('f', 'float64'),
      col('b', 'boolean'),
      col('d', { decimal: [38, 10] }),
      col('dt', 'date'),
      col('t', 'time'),
      col('ts', 'timestamp'),
      col('tstz', 'timestamptz'),
      col('by', 'bytes'),
      col('j', 'json'),
      col('u', 'uuid'),
    ];
    const rows: Row[] = [
      [1, 9223372036854775807n, Number.NaN, true, '9999999999999999999999999999.9999999999', parseDate('0044-03-15 BC'), 0n, parseTimestamp('2024-01-02 03:04:05.123456'), parseTimestamp('2024-01-02 03:04:05.000001Z'), new Uint8Array([0x00, 0x5c, 0xff, 0x0a, 0x09]), '{"big": 123456789012345678901234567890, "s": "a\\tb\\\\c"}', '0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f11'],
      [2, -9223372036854775808n, Infinity, false, '-9999999999999999999999999999.9999999999', DATE_POS_INFINITY, 86_399_999_999n, TIMESTAMP_POS_INFINITY, TIMESTAMP_NEG_INFINITY, new Uint8Array([]), '[1.5, -0, 1e400]', '00000000-0000-0000-0000-000000000000'],
      [3, 9007199254740993n, -Infinity, true, '0.0000000001', DATE_NEG_INFINITY, parseTime('13:45:07.5'), TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY, Buffer.from('\\N\t', 'latin1'), '"\\u00e9😀"', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
      [4, 0n, -0, false, '-12.34', parseDate('0001-01-01 BC'), 1n, parseTimestamp('0044-03-15 12:00:00.5 BC'), parseTimestamp('1969-12-31 23:59:59.999999Z'), new Uint8Array(256).map((_, i) => i).subarray(250), 'null', '12345678-1234-5678-9abc-def012345678'],
      [5, -1n, 5e-324, true, '0', parseDate('2024-02-29'), 0n, parseTimestamp('294276-12-31 23:59:59.999999'), parseTimestamp('4713-11-24 00:00:00Z BC'), Buffer.from([0x5c, 0x5c, 0x00]), '{}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      [6, 1n, 1.7976931348623157e308, false, '-0.5', 0, 0n, 0n, 0n, Buffer.from([]), '{"a": {"b": [true, false, null]}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'],
      [7, 2n, 0.1 + 0.2, true, '1', -1, 0n, -1n, -1n, Buffer.from([1]), '1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13'],
      [8, null, null, null, null, null, null, null, null, null, null, null],
    ];
    await load('all_types', columns, rows);
    expect(await texts('br_all_types', columns.map((c) => c.name))).toEqual([
      ['1', '9223372036854775807', 'NaN', 'true', '9999999999999999999999999999.9999999999', '0044-03-15 BC', '00:00:00', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.000001+00', '\\x005cff0a09', '{"s": "a\\tb\\\\c", "big": 123456789012345678901234567890}', '0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f11'],
      ['2', '-9223372036854775808', 'Infinity', 'false', '-9999999999999999999999999999.9999999999', 'infinity', '23:59:59.999999', 'infinity', '-infinity', '\\x', `[1.5, 0, 1${'0'.repeat(400)}]`, '00000000-0000-0000-0000-000000000000'],
      ['3', '9007199254740993', '-Infinity', 'true', '0.0000000001', '-infinity', '13:45:07.5', '-infinity', 'infinity', '\\x5c4e09', '"é😀"', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
      ['4', '0', '-0', 'false', '-12.3400000000', '0001-01-01 BC', '00:00:00.000001', '0044-03-15 12:00:00.5 BC', '1969-12-31 23:59:59.999999+00', '\\xfafbfcfdfeff', 'null', '12345678-1234-5678-9abc-def012345678'],
      ['5', '-1', '5e-324', 'true', '0.0000000000', '2024-02-29', '00:00:00', '294276-12-31 23:59:59.999999', '4713-11-24 00:00:00+00 BC', '\\x5c5c00', '{}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['6', '1', '1.7976931348623157e+308', 'false', '-0.5000000000', '1970-01-01', '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '\\x', '{"a": {"b": [true, false, null]}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'],
      ['7', '2', '0.30000000000000004', 'true', '1.0000000000', '1969-12-31', '00:00:00', '1969-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00', '\\x01', '1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13'],
      ['8', null, null, null, null, null, null, null, null, null, null, null],
    ]);
    const types = await db.query<{ attname: string; t: string }>(
      "SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'bronze.br_all_types'::regclass AND attnum > 0 ORDER BY attnum",
    );
    expect(types.rows.map((r) => r.t)).toEqual(['integer', 'bigint', 'double precision', 'boolean', 'numeric(38,10)', 'date', 'time without time zone', 'timestamp without time zone', 'timestamp with time zone', 'bytea', 'jsonb', 'uuid']);
  });

  it('keeps strings byte for byte: COPY escapes, unicode, emoji, literal \\N, empty string versus NULL', async () => {
    const values = ['tab\there', 'new\nline', 'cr\rlf\r\n', 'back\\slash', '\\N', '\\.', 'trailing\\', '', 'ünïcödé 中文 😀👨‍👩‍👧', 'a\u0001b\u007f', '\u00a0 leading and trailing spaces ', "quote ' and \" and ;", null];
    const columns = [col('n', 'int32'), col('s', 'string')];
    await load('strings', columns, values.map((v, i) => [i, v]));
    const got = await db.query<{ s: string | null }>('SELECT s FROM bronze.br_strings ORDER BY n');
    expect(got.rows.map((r) => r.s)).toEqual(values);
    const nulls = await db.query<{ n: number }>('SELECT n FROM bronze.br_strings WHERE s IS NULL');
    expect(nulls.rows.map((r) => r.n)).toEqual([values.length - 1]);
  });

  it('uses the column warehouseType when set: interval, inet, unconstrained numeric, json kept verbatim', async () => {
    const columns = [col('n', 'int32'), col('iv', 'string', 'interval'), col('ip', 'string', 'inet'), col('num', { decimal: [10, 2] }, 'numeric'), col('js', 'json', 'json'), col('big', 'int64', 'numeric(30,0)')];
    const big = '123456789012345678901234567890.123456789012345678901234567890';
    await load('overrides', columns, [
      [1, '1 year 2 mons 3 days 04:05:06.789', '192.168.0.1/24', big, '{"b":1,  "a":[1.10, 2]}', 99999999999999999999n],
      [2, '-00:00:00.000001', '::1', 'NaN', ' [] ', -1n],
    ]);
    expect(await texts('br_overrides', ['n', 'iv', 'ip', 'num', 'js', 'big'])).toEqual([
      ['1', '1 year 2 mons 3 days 04:05:06.789', '192.168.0.1/24', big, '{"b":1,  "a":[1.10, 2]}', '99999999999999999999'],
      ['2', '-00:00:00.000001', '::1/128', 'NaN', ' [] ', '-1'],
    ]);
    const types = await db.query<{ t: string }>("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'bronze.br_overrides'::regclass AND attnum > 0 ORDER BY attnum");
    expect(types.rows.map((r) => r.t)).toEqual(['integer', 'interval', 'inet', 'numeric', 'json', 'numeric(30,0)']);
  });

  it('lands hostile stream and column names under quoted identifiers', async () => {
    const columns = [col('select', 'int32'), col('col with space', 'string'), col('a "quoted" col', 'string'), col('ünï😀', 'string'), col('9lives', 'string'), col('x'.repeat(80), 'string'), col(`${'x'.repeat(70)}y`, 'string')];
    for (const name of ['my table', '😀 emoji', 'select', '1st', 'Mixed.Case', 'n'.repeat(100)]) {
      await load(name, columns, [[1, 'a', 'b', 'c', 'd', 'e', 'f']]);
    }
    const tables = await db.query<{ relname: string }>("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bronze' AND c.relname LIKE 'br\\_%' ORDER BY 1");
    const names = tables.rows.map((r) => r.relname);
    expect(names).toEqual(expect.arrayContaining(['br_my table', 'br_😀 emoji', 'br_select', 'br_1st', 'br_Mixed.Case']));
    expect(names.filter((n) => n.startsWith('br_nnnn'))).toHaveLength(1);
    const r = await db.query({ text: 'SELECT * FROM bronze."br_select"', rowMode: 'array' });
    expect(r.rows).toEqual([[1, 'a', 'b', 'c', 'd', 'e', 'f']]);
    expect(r.fields.map((f) => f.name).slice(0, 5)).toEqual(['select', 'col with space', 'a "quoted" col', 'ünï😀', '9lives']);
    // the two long names share 63 bytes of prefix: shortened with a hash, they stay distinct
    expect(new Set(r.fields.map((f) => f.name)).size).toBe(7);
  });

  it('rejects values it cannot store exactly instead of changing them', async () => {
    const columns = [col('n', 'int32'), col('d', { decimal: [10, 2] }), col('s', 'string')];
    const stream: Stream = { name: 'inexact', columns, syncMode: 'full_refresh' };
    const run = { source: SOURCE, runId: 'run-1', loadedAtMicros: 0n, logger: pino({ level: 'silent' }) };
    const sink = await target.openStream({ run, stream, columns, bronzeName: 'inexact', stateKey: 'inexact', staged: true });
    await expect(sink.write([[1, '1.234', 'x']], { p: 1 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { record: 1, column: 'd' } });
    await expect(sink.write([[1, '1.20', '\ud800']], { p: 1 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { record: 1, column: 's' } });
    await expect(sink.write([[1, 12.5, 'x']], { p: 1 }, true)).rejects.toMatchObject({ code: 'DATA.INVALID_RECORD', where: { column: 'd' } });
    await sink.write([[1, '1.200', 'x']], { p: 1 }, true);
    await sink.finish();
    expect(await texts('br_inexact', ['n', 'd', 's'])).toEqual([['1', '1.20', 'x']]);
  });
});
