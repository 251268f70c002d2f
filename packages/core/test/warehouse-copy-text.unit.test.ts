import type { Column } from '@datakit/core';
import { copyEncoders, copyTextChunks, escapeCopyText } from '../src/bronze/postgres/copy-text.js';
import { mapPgError, parseCopyWhere, scrubberFor } from '../src/bronze/postgres/errors.js';
import { columnSqlType } from '../src/bronze/postgres/sql.js';
import { parseExactJson } from '../src/bronze/postgres/state.js';
import { newGenerationId, stagingTableName } from '../src/bronze/postgres/generation.js';

const col = (name: string, type: Column['type'], warehouseType?: string): Column => ({ name, type, nullable: true, sourceType: 't', ...(warehouseType ? { warehouseType } : {}) });

function copyText(columns: Column[], rows: unknown[][]): string {
  return Buffer.concat([...copyTextChunks(rows, columns, copyEncoders(columns), 'bronze.t', () => undefined)]).toString('utf8');
}

describe('warehouse COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(escapeCopyText('a\\b\tc\nd\re\u0001f "g" \'h\' \\N')).toBe('a\\\\b\\tc\\nd\\re\u0001f "g" \'h\' \\\\N');
  });

  it('writes NULL as \\N and the empty string as an empty field', () => {
    expect(copyText([col('a', 'string'), col('b', 'string')], [[null, ''], [undefined, '\\N']])).toBe('\\N\t\n\\N\t\\\\N\n');
  });

  it('writes doubles in their shortest round-trip form, keeping -0, NaN and infinities', () => {
    const f = [col('f', 'float64')];
    expect(copyText(f, [[-0], [Number.NaN], [Infinity], [-Infinity], [0.1], [5e-324], [1e21]])).toBe('-0\nNaN\nInfinity\n-Infinity\n0.1\n5e-324\n1e+21\n');
  });

  it('remembers only what it may: repeated values, -0 after 0, and bytes changed under one reference', () => {
    const columns = [col('f', 'float64'), col('s', 'string'), col('b', 'bytes'), col('t', 'timestamptz')];
    const bytes = new Uint8Array([1, 2]);
    const rows: unknown[][] = [[0, 'a', bytes, 1n], [-0, 'a', bytes, 1n], [0, 'b', null, 2n]];
    const first = copyText(columns, rows.slice(0, 1));
    bytes[0] = 0xff;
    const rest = copyText(columns, rows);
    expect(first).toBe('0\ta\t\\\\x0102\t1970-01-01 00:00:00.000001+00\n');
    expect(rest).toBe('0\ta\t\\\\xff02\t1970-01-01 00:00:00.000001+00\n-0\ta\t\\\\xff02\t1970-01-01 00:00:00.000001+00\n0\tb\t\\N\t1970-01-01 00:00:00.000002+00\n');
    // one encoder set across rows: the bytes column sees the same reference with new content
    const enc = copyEncoders(columns);
    const once = (r: unknown[][]) => Buffer.concat([...copyTextChunks(r, columns, enc, 't', () => undefined)]).toString('utf8');
    expect(once([[0, 'a', bytes, 1n]])).toContain('xff02');
    bytes[1] = 0xee;
    expect(once([[0, 'a', bytes, 1n]])).toContain('xffee');
  });

  it('refuses a decimal with more fractional digits than its scale, instead of letting PostgreSQL round it', () => {
    const d = [col('d', { decimal: [18, 4] })];
    expect(copyText(d, [['1.2345'], ['-12'], ['1.23450'], ['1.2e3'], ['NaN']])).toBe('1.2345\n-12\n1.23450\n1.2e3\nNaN\n');
    expect(() => copyText(d, [['1.23456']])).toThrow(/more than 4 fractional digits/);
  });

  it('keeps multi-byte text whole across chunks, and sends a line larger than a chunk on its own', () => {
    const columns = [col('i', 'int32'), col('s', 'string')];
    const rows = [...Array.from({ length: 3000 }, (_, i) => [i, `é😀\t${i}`]), [-1, 'ü'.repeat(200_000)], [-2, 'z']];
    const chunks = [...copyTextChunks(rows, columns, copyEncoders(columns), 't', () => undefined)];
    const expected = rows.map(([i, t]) => `${i}\t${String(t).replace('\t', '\\t')}\n`).join('');
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
    expect(chunks.some((c) => c.length === Buffer.byteLength(`-1\t${'ü'.repeat(200_000)}\n`))).toBe(true);
    for (const c of chunks) expect(c.toString('utf8').endsWith('\n')).toBe(true); // whole lines, whole characters
  });

  it('writes bytes as bytea hex behind an escaped backslash', () => {
    expect(copyText([col('b', 'bytes')], [[new Uint8Array([0, 0x5c, 0xff])]])).toBe('\\\\x005cff\n');
  });

  it('splits large batches into chunks of about 64 KiB', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [i, 'x'.repeat(100)]);
    const columns = [col('i', 'int32'), col('s', 'string')];
    let bytes = 0;
    const chunks = [...copyTextChunks(rows, columns, copyEncoders(columns), 't', (n) => (bytes += n))];
    expect(chunks.length).toBeGreaterThan(5);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(70 * 1024);
    expect(bytes).toBe(chunks.reduce((s, c) => s + c.length, 0));
  });

  it('refuses values that would change on the way in, naming record and column', () => {
    const d = [col('d', { decimal: [10, 2] })];
    expect(copyText(d, [['1.500'], ['-3'], ['NaN']])).toBe('1.500\n-3\nNaN\n');
    expect(() => copyText(d, [['1.00'], ['1.005']])).toThrow(expect.objectContaining({ code: 'DATA.INVALID_RECORD', where: { record: 2, column: 'd' } }));
    expect(() => copyText([col('i', 'int64')], [[2 ** 60]])).toThrow(/unsafe integer/);
    expect(() => copyText([col('s', 'string')], [['\udc00x']])).toThrow(/surrogate/);
    // a warehouseType column takes its type's text form as is
    expect(copyText([col('n', { decimal: [10, 2] }, 'numeric')], [['1.005']])).toBe('1.005\n');
  });
});

describe('warehouse helpers', () => {
  it('maps logical types to PostgreSQL types; warehouseType wins', () => {
    expect(columnSqlType(col('a', { decimal: [38, 10] }))).toBe('numeric(38,10)');
    expect(columnSqlType(col('a', { decimal: [2000, 0] }))).toBe('numeric');
    expect(columnSqlType(col('a', 'json'))).toBe('jsonb');
    expect(columnSqlType(col('a', 'string', 'interval'))).toBe('interval');
  });

  it('finds line and column in a COPY error context, even for names with colons', () => {
    expect(parseCopyWhere('COPY br_x, line 3, column amount: "abc"', ['amount'])).toEqual({ line: 3, column: 'amount' });
    expect(parseCopyWhere('COPY br_x, line 7, column a: b: "1"', ['a', 'a: b'])).toEqual({ line: 7, column: 'a: b' });
    expect(parseCopyWhere('COPY br_x, line 2', ['a'])).toEqual({ line: 2 });
    expect(parseCopyWhere('', ['a'])).toEqual({});
    // a JSON parse error's own context comes first; the COPY line is what counts
    expect(parseCopyWhere('JSON data, line 1: {not...\nCOPY br_x, line 2, column doc', ['doc'])).toEqual({ line: 2, column: 'doc' });
  });

  it('parses state JSON with integers beyond 2^53 as bigint', () => {
    expect(parseExactJson('{"a": 18446744073709551617, "b": 42, "c": 1.5, "d": 1e300, "e": "9007199254740993"}')).toEqual({ a: 18446744073709551617n, b: 42, c: 1.5, d: 1e300, e: '9007199254740993' });
  });

  it('maps connection failures and keeps passwords out of messages', () => {
    const scrub = scrubberFor('p%40ss');
    const refused = Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], ''), {});
    expect(mapPgError(refused, scrub, 'x')).toMatchObject({ code: 'BRONZE.UNREACHABLE', retriable: true });
    expect(mapPgError(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }), scrub, 'x').code).toBe('BRONZE.UNREACHABLE');
    expect(mapPgError(new Error('timeout exceeded when trying to connect'), scrub, 'x').code).toBe('BRONZE.UNREACHABLE');
    const auth = mapPgError(Object.assign(new Error('password p@ss rejected'), { code: '28P01' }), scrub, 'x');
    expect(auth.code).toBe('BRONZE.AUTH_FAILED');
    expect(auth.message).not.toContain('p@ss');
  });

  it('names generations so they sort by time and staging tables fit in 63 bytes', () => {
    const a = newGenerationId(new Date('2026-11-24T09:01:02.345Z'));
    expect(a).toMatch(/^20261124T090102Z-[0-9a-f]{4}$/);
    expect(newGenerationId(new Date('2027-01-01T00:00:00Z')) > a).toBe(true);
    expect(Buffer.byteLength(stagingTableName('😀'.repeat(40), a))).toBeLessThanOrEqual(63);
  });
});
