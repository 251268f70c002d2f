/**
 * The binary COPY writer against the text one, on a real server: the same rows through both give
 * the same table, value for value; numerics are byte for byte what the server's own `numeric_send`
 * gives; and what either refuses, the binary writer refuses with the row and column.
 */
import { finished } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import type { Column } from '@datakit/core';
import { DATE_NEG_INFINITY, DATE_POS_INFINITY, TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY, parseDate, parseTimestamp } from '@datakit/core';
import { binaryEncoders, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, copyBinaryChunks } from '../src/bronze/postgres/copy-binary.js';
import { copyFormat } from '../src/bronze/postgres/copy-format.js';
import { copyEncoders, copyTextChunks } from '../src/bronze/postgres/copy-text.js';
import { copySql, createTableSql } from '../src/bronze/postgres/sql.js';

let db: pg.Client;

beforeAll(async () => {
  const url = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('wh_binary'));
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query("SET TimeZone = 'UTC'");
});

afterAll(async () => {
  await db?.end();
});

const col = (name: string, type: Column['type'], warehouseType?: string): Column => ({ name, type, nullable: true, sourceType: 'test', ...(warehouseType ? { warehouseType } : {}) });

/** COPY `rows` into a new table `name` in text or binary format. */
async function copyInto(name: string, columns: Column[], rows: unknown[][], binary: boolean): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS public."${name}"`);
  await db.query(createTableSql('public', name, columns));
  const stream = db.query(copyStreams.from(copySql('public', name, columns, binary)));
  const done = finished(stream);
  const chunks = binary ? copyBinaryChunks(rows, columns, binaryEncoders(columns)!, name, () => undefined) : copyTextChunks(rows, columns, copyEncoders(columns), name, () => undefined);
  if (binary) stream.write(COPY_BINARY_HEADER);
  for (const chunk of chunks) if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
  stream.end(binary ? COPY_BINARY_TRAILER : undefined);
  await done;
}

/** Every row of a table as its record text, in id order. */
async function rowTexts(name: string): Promise<string[]> {
  const r = await db.query<{ t: string }>(`SELECT t::text AS t FROM public."${name}" t ORDER BY id`);
  return r.rows.map((x) => x.t);
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLUMNS: Column[] = [
  col('id', 'int32'),
  col('i32', 'int32'),
  col('i64', 'int64'),
  col('f', 'float64'),
  col('b', 'boolean'),
  col('dec', { decimal: [38, 10] }),
  col('num', 'string', 'numeric'),
  col('dt', 'date'),
  col('t', 'time'),
  col('ts', 'timestamp'),
  col('tstz', 'timestamptz'),
  col('by', 'bytes'),
  col('jb', 'json'),
  col('js', 'json', 'json'),
  col('u', 'uuid'),
  col('s', 'string'),
  col('vc', 'string', 'character varying(5)'),
  col('ch', 'string', 'character(4)'),
];

/** Hand-picked edges per column, cycled through the rows. */
const EDGES: Record<string, unknown[]> = {
  i32: [0, -1, 2147483647, -2147483648, 42n],
  i64: [0n, 9223372036854775807n, -9223372036854775808n, 9007199254740991n, 9007199254740992n, 9007199254740993n, -9007199254740993n, 12, -4294967296n, 4294967295n],
  f: [-0, 0, Number.NaN, Infinity, -Infinity, 5e-324, -5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1e21, 123456789012345680000n],
  b: [true, false],
  dec: ['0', '-0', '-0.000', '1.2345', '-12.3400', '9999999999999999999999999999.9999999999', '0.0000000001', '007.50', '.5', '5.', '1.5e3', '-2E-5', '12e0', '1.23450e-2', ' 12.5 ', '100000000', '0.1000', 'NaN', '10000.0001', '1e27'],
  num: ['NaN', 'Infinity', '-Infinity', 'inf', '-inf', '1e-300', `${'9'.repeat(1000)}.${'1'.repeat(1000)}`, '-0.0000000000000000000000000001', '123456789012345678901234567890.123456789012345678901234567890', '0E+5', '1.50e1', '0.00001000'],
  dt: [0, -1, DATE_POS_INFINITY, DATE_NEG_INFINITY, parseDate('0044-03-15 BC'), parseDate('4713-01-01 BC'), parseDate('5874897-12-31'), parseDate('2000-01-01'), parseDate('2024-02-29')],
  t: [0n, 86_400_000_000n, 1n, 86_399_999_999n, 45_296_789_012],
  ts: [0n, -1n, TIMESTAMP_POS_INFINITY, TIMESTAMP_NEG_INFINITY, parseTimestamp('294276-12-31 23:59:59.999999'), parseTimestamp('4713-11-24 00:00:00 BC'), 9007199254740991n, 9007199254740992n, -9007199254740993n, 946_684_800_000_000n, 1_700_000_000_123_456],
  tstz: [0n, -1n, TIMESTAMP_POS_INFINITY, TIMESTAMP_NEG_INFINITY, parseTimestamp('294276-12-31 23:59:59.999999Z'), parseTimestamp('4713-11-24 00:00:00Z BC'), 9007199254740993n, 946_684_800_000_001n],
  by: [new Uint8Array([]), new Uint8Array([0, 0x5c, 0xff, 0x0a, 0x09]), Buffer.from('\\N\t', 'latin1'), new Uint8Array(256).map((_, i) => i)],
  jb: ['{"b": 1, "a": [1.10, -0, 1e400]}', '"\\u00e9😀\\t"', 'null', '{}', '[]', '123456789012345678901234567890', '{"a": {"a": {"a": "deep"}}, "a ": " x "}'],
  js: [' [1.10,  2] ', '{"dup": 1, "dup": 2}', '"tab\\there"', 'true'],
  u: ['0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f11', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11'],
  s: ['', 'tab\there', 'new\nline', 'cr\rlf', 'back\\slash', '\\N', '\\.', 'ünïcödé 中文 😀👨‍👩‍👧', 'a\u0001b\u007f', ' spaces '],
  vc: ['', 'abcde', 'ab   ', 'é😀', 'abcde   '],
  ch: ['', 'ab', 'abcd', 'abcd  '],
};

/** A random value of a column (all 64 bits of a double, any date/timestamp PostgreSQL keeps). */
function randomValue(name: string, rnd: () => number): unknown {
  const int = (n: number): number => Math.floor(rnd() * n);
  const digits = (n: number): string => Array.from({ length: n }, () => int(10)).join('');
  switch (name) {
    case 'i32':
      return int(2 ** 32) - 2 ** 31;
    case 'i64':
      return BigInt.asIntN(64, (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32)));
    case 'f': {
      const v = new DataView(new ArrayBuffer(8));
      v.setUint32(0, int(2 ** 32));
      v.setUint32(4, int(2 ** 32));
      return v.getFloat64(0);
    }
    case 'b':
      return rnd() < 0.5;
    case 'dec':
      return `${rnd() < 0.5 ? '-' : ''}${digits(1 + int(28))}${rnd() < 0.8 ? `.${digits(int(11))}` : ''}`;
    case 'num':
      return `${rnd() < 0.5 ? '-' : ''}${digits(1 + int(60))}.${digits(int(60))}${rnd() < 0.3 ? `e${int(200) - 100}` : ''}`;
    case 'dt':
      return int(parseDate('5874897-12-31') - parseDate('4713-01-01 BC')) + parseDate('4713-01-01 BC');
    case 't':
      return BigInt(int(86_400_000_001));
    case 'ts':
    case 'tstz': {
      const lo = parseTimestamp('4713-11-24 00:00:00 BC');
      const hi = parseTimestamp('294276-12-31 23:59:59.999999');
      const span = Number(hi - lo);
      // half anywhere in the range, half near now (the values that fit a double)
      return rnd() < 0.5 ? lo + BigInt(Math.floor(rnd() * span)) : BigInt(int(4_000_000_000_000_000)) - 2_000_000_000_000_000n;
    }
    case 'by':
      return new Uint8Array(int(40)).map(() => int(256));
    case 'jb':
    case 'js':
      return JSON.stringify({ k: int(1000), s: String.fromCodePoint(...Array.from({ length: int(8) }, () => 32 + int(0x2fff))), n: rnd() });
    case 'u':
      return Array.from({ length: 16 }, () => int(256).toString(16).padStart(2, '0'))
        .join('')
        .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    case 's':
      return String.fromCodePoint(...Array.from({ length: int(30) }, () => (rnd() < 0.9 ? 32 + int(95) : 0x80 + int(0x10000 - 0x80 - 0x800) + (rnd() < 0.5 ? 0 : 0x800))).filter((c) => c < 0xd800 || c > 0xdfff));
    case 'vc':
      return digits(int(6));
    case 'ch':
      return digits(int(5));
    default:
      throw new Error(name);
  }
}

describe('warehouse binary COPY', () => {
  it('is chosen when every column has a binary form, and text otherwise', () => {
    expect(copyFormat(COLUMNS).binary).toBe(true);
    expect(copyFormat([...COLUMNS, col('iv', 'string', 'interval')]).binary).toBe(false);
    expect(copyFormat([col('x', 'int64', 'numeric(30,0)')]).binary).toBe(false); // an int64 as numeric: text input
    expect(copyFormat([col('x', 'string', 'NUMERIC(10, 2)')]).binary).toBe(false);
  });

  it('lands the same table as the text format, value for value, over edges and 4,000 random rows', async () => {
    const rnd = random(20261202);
    const names = COLUMNS.slice(1).map((c) => c.name);
    const rows: unknown[][] = [];
    const edgeRows = Math.max(...Object.values(EDGES).map((e) => e.length));
    for (let r = 0; r < edgeRows + 4000; r++) {
      rows.push([
        r,
        ...names.map((n) => {
          if (r < edgeRows) return EDGES[n]![r % EDGES[n]!.length];
          return rnd() < 0.1 ? null : randomValue(n, rnd);
        }),
      ]);
    }
    rows.push([rows.length, ...names.map(() => null)]);
    await copyInto('via_text', COLUMNS, rows, false);
    await copyInto('via_binary', COLUMNS, rows, true);
    const [text, binary] = [await rowTexts('via_text'), await rowTexts('via_binary')];
    expect(binary).toHaveLength(rows.length);
    for (let i = 0; i < rows.length; i++) if (binary[i] !== text[i]) expect({ row: i, binary: binary[i] }).toEqual({ row: i, binary: text[i] });
    // and what the text format's contract promises, seen through the binary table
    const some = await db.query<Record<string, string>>(
      `SELECT i64::text, f::text, dec::text, num::text, dt::text, ts::text, tstz::text, u::text, ch::text, length(ch::text) AS chlen FROM public.via_binary WHERE id IN (1, 2, 5) ORDER BY id`,
    );
    expect(some.rows[0]).toEqual({ i64: '9223372036854775807', f: '0', dec: '0.0000000000', num: 'Infinity', dt: '1969-12-31', ts: '1969-12-31 23:59:59.999999', tstz: '1969-12-31 23:59:59.999999+00', u: '00000000-0000-0000-0000-000000000000', ch: 'ab', chlen: 2 });
    expect(some.rows[1]).toMatchObject({ i64: '-9223372036854775808', f: 'NaN', dec: '0.0000000000', ts: 'infinity', tstz: 'infinity', u: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
    expect(some.rows[2]).toMatchObject({ i64: '9007199254740993', f: '5e-324', dec: '9999999999999999999999999999.9999999999' });
  });

  it('sends a field larger than a chunk whole, between small rows', async () => {
    const columns = [col('id', 'int32'), col('s', 'string'), col('by', 'bytes')];
    const big = 'ü😀x'.repeat(100_000);
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    const rows: unknown[][] = [...Array.from({ length: 2000 }, (_, i) => [i, `é${i}`, null]), [2000, big, bytes], [2001, 'z', new Uint8Array([1])]];
    const chunks = [...copyBinaryChunks(rows, columns, binaryEncoders(columns)!, 't', () => undefined)];
    expect(chunks.length).toBeGreaterThan(2);
    await copyInto('big_binary', columns, rows, true);
    const got = await db.query<{ id: number; s: string; by: Buffer | null }>('SELECT id, s, by FROM public.big_binary WHERE id >= 1999 ORDER BY id');
    expect(got.rows.map((r) => [r.id, r.s, r.by === null ? null : Buffer.from(r.by).equals(Buffer.from(rows[r.id]![2] as Uint8Array))])).toEqual([
      [1999, 'é1999', null],
      [2000, big, true],
      [2001, 'z', true],
    ]);
  });

  it('writes numerics byte for byte as numeric_send gives them back', async () => {
    const rnd = random(7);
    const values = [...EDGES.dec!, ...EDGES.num!].map(String);
    for (let i = 0; i < 2000; i++) values.push(String(randomValue(i % 2 ? 'num' : 'dec', rnd)));
    const columns = [col('n', 'string', 'numeric')];
    const ours = Buffer.concat([...copyBinaryChunks(values.map((v) => [v]), columns, binaryEncoders(columns)!, 't', () => undefined)]);
    const theirs = await db.query<{ b: Buffer }>('SELECT numeric_send(v::numeric) AS b FROM unnest($1::text[]) WITH ORDINALITY AS x(v, i) ORDER BY i', [values]);
    let at = 0;
    for (let i = 0; i < values.length; i++) {
      at += 2; // the row's field count
      const len = ours.readInt32BE(at);
      const field = ours.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      // ±Infinity and NaN: only the sign word counts (numeric_send's display scale there is whatever the header held)
      const special = (field.readUInt16BE(4) & 0xc000) === 0xc000;
      const same = special ? field.subarray(0, 6).equals(theirs.rows[i]!.b.subarray(0, 6)) && field.length === theirs.rows[i]!.b.length : field.equals(theirs.rows[i]!.b);
      if (!same) expect({ value: values[i], bytes: field.toString('hex') }).toEqual({ value: values[i], bytes: theirs.rows[i]!.b.toString('hex') });
    }
    expect(at).toBe(ours.length);
  });

  it('refuses what the text format would refuse or round, naming the row and column', async () => {
    const bad: [Column, unknown, RegExp][] = [
      [col('u', 'uuid'), 'not-a-uuid', /not a uuid/],
      [col('u', 'uuid'), '0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f1', /not a uuid/],
      [col('u', 'uuid'), '0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f11x', /not a uuid/],
      [col('u', 'uuid'), '{0e2a6a55-6ef1-4d43-9f0c-3c6e0e8b8f11', /not a uuid/],
      [col('d', { decimal: [10, 2] }), '1.234', /more than 2 fractional digits/],
      [col('d', { decimal: [10, 2] }), '1.2e-2', /more than 2 fractional digits/],
      [col('d', { decimal: [10, 2] }), '12.5.1', /not a decimal/],
      [col('d', { decimal: [10, 2] }), '', /not a decimal/],
      [col('d', { decimal: [10, 2] }), '1e', /not a decimal/],
      [col('d', { decimal: [10, 2] }), 12.5, /expected a decimal string/],
      [col('n', 'int32'), 2 ** 31, /out of the integer range/],
      [col('n', 'int64'), 2n ** 63n, /out of the int64 range/],
      [col('n', 'int64'), 2 ** 53, /expected an integer/],
      [col('s', 'string'), 'lone \ud800', /unpaired UTF-16 surrogate/],
      [col('t', 'timestamptz'), -(2n ** 63n) + 5n, /out of range/],
    ];
    for (const [c, v, message] of bad) {
      const columns = [col('id', 'int32'), c];
      let error: unknown;
      try {
        [...copyBinaryChunks([[1, null], [2, v]], columns, binaryEncoders(columns)!, 'bronze.t', () => undefined)];
      } catch (e) {
        error = e;
      }
      expect({ v, error }).toMatchObject({ v, error: { code: 'DATA.INVALID_RECORD', where: { record: 2, column: c.name }, message: expect.stringMatching(message) } });
    }
    // what only the server can tell (a date past its range, a varchar too long) fails the COPY there
    const serverSide: [Column, unknown][] = [
      [col('d', 'date'), parseDate('5874898-01-01')],
      [col('v', 'string', 'character varying(2)'), 'abc'],
      // 294277-01-01: an int64 past PostgreSQL's last timestamp
      [col('t', 'timestamptz'), 9_224_318_016_000_000_000n],
    ];
    for (const [c, v] of serverSide) {
      await expect(copyInto('refused', [col('id', 'int32'), c], [[1, v]], true)).rejects.toThrow(/out of range|too long/);
      await expect(copyInto('refused', [col('id', 'int32'), c], [[1, v]], false)).rejects.toThrow(/out of range|too long/);
    }
  });
});
