import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import pino from 'pino';
import { uuidBytes } from '../src/bronze/parquet/convert.js';
import {
  DATE_NEG_INFINITY,
  DATE_POS_INFINITY,
  DatakitError,
  TIMESTAMP_NEG_INFINITY,
  TIMESTAMP_POS_INFINITY,
  decimalFromUnscaled,
  parseDate,
  parseTime,
  parseTimestamp,
  type Column,
  type Row,
  type Stream,
} from '@datakit/core';
import { ParquetFileWriter, ParquetTarget } from '../src/bronze/parquet/index.js';
import { duck } from './duck.js';

const col = (name: string, type: Column['type'], nullable = true): Column => ({ name, type, nullable, sourceType: 'test' });

const columns: Column[] = [
  col('id', 'int64', false),
  col('i32', 'int32'),
  col('i64', 'int64'),
  col('f64', 'float64'),
  col('b', 'boolean'),
  col('s', 'string'),
  col('j', 'json'),
  col('u', 'uuid'),
  col('bin', 'bytes'),
  col('d38', { decimal: [38, 10] }),
  col('d18', { decimal: [18, 4] }),
  col('d9', { decimal: [9, 2] }),
  col('dt', 'date'),
  col('tm', 'time'),
  col('ts', 'timestamp'),
  col('tz', 'timestamptz'),
  col('s_req', 'string', false),
];

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

const rows: Row[] = [
  [1n, 2147483647, 9223372036854775807n, 1.7976931348623157e308, true, 'héllo 🎉 \t\u0001\u001f\u007f', '{"big": 123456789012345678901234567890, "x": [1.0, 2e400]}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', bytes(0, 1, 0, 255, 0), '9999999999999999999999999999.9999999999', '99999999999999.9999', '9999999.99',
    DATE_POS_INFINITY, 86_399_999_999n, TIMESTAMP_POS_INFINITY, TIMESTAMP_POS_INFINITY, 'a'],
  [2n, -2147483648, -9223372036854775808n, -5e-324, false, '', '"text"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', bytes(), '-9999999999999999999999999999.9999999999',
    '-99999999999999.9999', '-9999999.99', DATE_NEG_INFINITY, 0n, TIMESTAMP_NEG_INFINITY, TIMESTAMP_NEG_INFINITY, ''],
  [3n, 0, 9007199254740993n, Number.NaN, true, 'Ωmega ✓ 𝄞 日本', '{"n": 9007199254740993}', '00000000-0000-0000-0000-000000000000', bytes(0), '0.0000000001', '-0.0001', '0.00',
    parseDate('0044-03-15 BC'), parseTime('13:45:07.123456'), parseTimestamp('1969-12-31 23:59:59.999999'), parseTimestamp('2024-02-29 12:34:56.789012+05:30'), 'x'],
  [4n, -1, -9007199254740993n, Number.POSITIVE_INFINITY, false, ' leading and trailing ', '[]', '12345678-9abc-def0-1234-56789abcdef0', bytes(0, 0, 0), '-12345678901234567890.0123456789',
    '12.3400', '-0.01', parseDate('1900-02-28'), 1n, parseTimestamp('0001-01-01 00:00:00.000001 BC'), parseTimestamp('1901-12-13 20:45:52.000001Z'), 'y'],
  [5n, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, 'z'],
];

/** The canonical form both readers are compared in: bigint/number/boolean/string, bytes as hex. */
type Canon = string | number | bigint | boolean | null;

const expected: Canon[][] = rows.map((r) => r.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v as Canon))));

function fromDuck(v: unknown): Canon {
  if (v === null || typeof v !== 'object') return v as Canon;
  const o = v as Record<string, unknown> & { constructor: { name: string } };
  switch (o.constructor.name) {
    case 'DuckDBDateValue':
      // DuckDB's -infinity (see convert.ts) is the core's DATE_NEG_INFINITY
      return o.days === -2147483647 ? DATE_NEG_INFINITY : (o.days as number);
    case 'DuckDBTimeValue':
      return o.micros as bigint;
    case 'DuckDBTimestampValue':
    case 'DuckDBTimestampTZValue':
      return o.micros === -9223372036854775807n ? TIMESTAMP_NEG_INFINITY : (o.micros as bigint);
    case 'DuckDBDecimalValue':
      return decimalFromUnscaled(o.value as bigint, o.scale as number);
    case 'DuckDBBlobValue':
      return Buffer.from(o.bytes as Uint8Array).toString('hex');
    case 'DuckDBUUIDValue':
      return String(v);
    default:
      throw new Error(`no canonical form for ${o.constructor.name}`);
  }
}

/** hyparquet's raw physical values: no float decimals, no Date objects. */
async function readHyparquet(file: string): Promise<{ metadata: FileMetaData; rows: Canon[][] }> {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const metadata = parquetMetadata(ab);
  // hyparquet turns DECIMAL into a float: read the unscaled integers and scale them exactly here
  const raw: FileMetaData = { ...metadata, schema: metadata.schema.map((e) => (e.converted_type === 'DECIMAL' ? { ...e, converted_type: undefined, logical_type: undefined } : e)) };
  const decoder = new TextDecoder();
  const objects = await parquetReadObjects({
    file: ab,
    metadata: raw,
    utf8: false,
    // hyparquet reads ZSTD (the writer's default) only with a decompressor: Node's own
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    parsers: { timestampFromMicroseconds: (us: bigint) => us, dateFromDays: (d: number) => d, jsonFromBytes: (b: Uint8Array) => b && decoder.decode(b) },
  });
  const out = objects.map((o) =>
    columns.map((c) => {
      const v = o[c.name] as unknown;
      if (v === null || v === undefined) return null;
      if (typeof c.type === 'object') {
        const scale = c.type.decimal[1];
        if (v instanceof Uint8Array) return decimalFromUnscaled(BigInt.asIntN(v.length * 8, BigInt(`0x${Buffer.from(v).toString('hex')}`)), scale);
        return decimalFromUnscaled(BigInt(v as number | bigint), scale);
      }
      if (c.type === 'date') return v === -2147483647 ? DATE_NEG_INFINITY : (v as number);
      if (c.type === 'timestamp' || c.type === 'timestamptz') return v === -9223372036854775807n ? TIMESTAMP_NEG_INFINITY : (v as bigint);
      if (c.type === 'bytes') return Buffer.from(v as Uint8Array).toString('hex');
      return v as Canon;
    }),
  );
  return { metadata, rows: out };
}

describe('Parquet types', () => {
  let root: string;
  let file: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datakit-pq-types-'));
    const target = new ParquetTarget({ root });
    await target.open('typesrc');
    const stream: Stream = { name: 'all types', columns, syncMode: 'full_refresh' };
    const run = { source: 'typesrc', runId: 'r1', loadedAtMicros: 0n, logger: pino({ level: 'silent' }) };
    const sink = await target.openStream({ run, stream, columns, bronzeName: 'all types', stateKey: 'all types', staged: true });
    await sink.write(rows.map((r) => [...r]), { done: true }, true);
    await sink.finish();
    const dir = join(root, 'typesrc', 'all types');
    file = join(dir, readdirSync(dir).find((n) => n.endsWith('.parquet'))!);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('declares the exact DuckDB type of every logical type', async () => {
    const types = await duck(async (q) => (await q(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r[0], r[1]]));
    expect(types).toEqual([
      ['id', 'BIGINT'], ['i32', 'INTEGER'], ['i64', 'BIGINT'], ['f64', 'DOUBLE'], ['b', 'BOOLEAN'], ['s', 'VARCHAR'], ['j', 'JSON'], ['u', 'UUID'], ['bin', 'BLOB'],
      ['d38', 'DECIMAL(38,10)'], ['d18', 'DECIMAL(18,4)'], ['d9', 'DECIMAL(9,2)'], ['dt', 'DATE'], ['tm', 'TIME'], ['ts', 'TIMESTAMP'], ['tz', 'TIMESTAMP WITH TIME ZONE'], ['s_req', 'VARCHAR'],
    ]);
  });

  it('round-trips every value exactly through DuckDB', async () => {
    const got = await duck(async (q) => (await q(`SELECT * FROM read_parquet('${file}') ORDER BY id`)).map((r) => r.map(fromDuck)));
    expect(got).toEqual(expected);
  });

  it('keeps the infinity sentinels readable as infinity in DuckDB', async () => {
    const got = await duck((q) => q(`SELECT dt::VARCHAR, ts::VARCHAR, tz::VARCHAR FROM read_parquet('${file}') WHERE id IN (1, 2) ORDER BY id`));
    expect(got).toEqual([['infinity', 'infinity', 'infinity'], ['-infinity', '-infinity', '-infinity']]);
  });

  it('round-trips every value exactly through hyparquet, with the annotations the spec defines', async () => {
    const { metadata, rows: got } = await readHyparquet(file);
    expect(got).toEqual(expected);
    const el = Object.fromEntries(metadata.schema.slice(1).map((e) => [e.name, e]));
    expect(el.id).toMatchObject({ type: 'INT64', repetition_type: 'REQUIRED' });
    expect(el.i64).toMatchObject({ type: 'INT64', repetition_type: 'OPTIONAL' });
    expect(el.s).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } });
    expect(el.j).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } });
    expect(el.u).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } });
    expect(el.bin).toMatchObject({ type: 'BYTE_ARRAY' });
    expect(el.bin?.converted_type).toBeUndefined();
    expect(el.d38).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: 10, logical_type: { type: 'DECIMAL', precision: 38, scale: 10 } });
    expect(el.d18).toMatchObject({ type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 4 });
    expect(el.d9).toMatchObject({ type: 'INT32', converted_type: 'DECIMAL', precision: 9, scale: 2 });
    expect(el.dt).toMatchObject({ type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } });
    expect(el.tm).toMatchObject({ type: 'INT64', converted_type: 'TIME_MICROS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } });
    expect(el.ts).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } });
    expect(el.tz).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } });
    expect(metadata.row_groups[0]?.columns[0]?.meta_data?.codec).toBe('ZSTD');
    const kv = metadata.key_value_metadata?.find((k) => k.key === 'datakit.columns');
    expect(JSON.parse(kv!.value!)).toContainEqual({ name: 'd38', type: 'decimal(38,10)', nullable: true, sourceType: 'test' });
  });

  it('widens decimals Parquet cannot declare as-is (scale above precision, negative scale)', async () => {
    const path = join(root, 'widen', 'part-000000.parquet');
    const f = await ParquetFileWriter.open(path, [col('a', { decimal: [3, 5] }), col('b', { decimal: [3, -2] }), col('c', { decimal: [40, 5] })]);
    await f.append([['0.00123', '99900', '-12345678901234567890123456789012345.67891']]);
    await f.finish();
    const got = await duck(async (q) => (await q(`SELECT typeof(a), a, typeof(b), b FROM read_parquet('${path}')`)).map((r) => r.map(fromDuck)));
    expect(got).toEqual([['DECIMAL(5,5)', '0.00123', 'DECIMAL(5,0)', '99900']]);
    const buf = readFileSync(path);
    const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(meta.schema[3]).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 17, precision: 40, scale: 5 });
  });

  it.each([
    ['a decimal with NaN', col('x', { decimal: [18, 4] }), 'NaN'],
    ['a decimal with too many digits', col('x', { decimal: [18, 4] }), '123456789012345.0'],
    ['a decimal that would round', col('x', { decimal: [18, 4] }), '1.00001'],
    ['a decimal given as a number', col('x', { decimal: [18, 4] }), 1.5],
    ['an int32 out of range', col('x', 'int32'), 2147483648],
    ['an int64 given as an unsafe number', col('x', 'int64'), 2 ** 53 + 2],
    ['an int64 out of range', col('x', 'int64'), 2n ** 63n],
    ['a malformed uuid', col('x', 'uuid'), 'not-a-uuid'],
    ['a string with a lone surrogate', col('x', 'string'), 'a\ud800b'],
    ['bytes given as a string', col('x', 'bytes'), 'abc'],
    ['NULL in a column that is not nullable', col('x', 'string', false), null],
  ])('refuses %s with DATA.INVALID_RECORD naming the column', async (_what, c, value) => {
    const path = join(root, 'bad', `${c.name}-${Math.random().toString(36).slice(2)}.parquet`);
    const f = await ParquetFileWriter.open(path, [c]);
    const err = await f.append([[value]], 7).catch((e: unknown) => e);
    await f.abort();
    expect(err).toBeInstanceOf(DatakitError);
    expect(err).toMatchObject({ code: 'DATA.INVALID_RECORD', where: { column: 'x', record: 7 } });
    expect((err as Error).message).toContain('"x"');
  });
});

describe('uuid bytes', () => {
  it('decodes canonical uuids of either case exactly as a hex decode, and nothing else', () => {
    for (let k = 0; k < 2000; k++) {
      const hex = Array.from({ length: 16 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
      const text = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const want = Buffer.from(hex, 'hex');
      expect(Buffer.from(uuidBytes(k % 2 ? text.toUpperCase() : text)!)).toEqual(want);
    }
    const bad = ['', 'not-a-uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111', 'a0eebc999c0b-4ef8-bb6d-6bb9bd380a11-', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1}', 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\u0661', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1 '];
    for (const s of bad) expect({ s, bytes: uuidBytes(s) }).toEqual({ s, bytes: undefined });
  });
});
