/**
 * The column chunk encoder (`column-chunk.ts`) over what a few rows do not reach: many row groups
 * and pages, NULLs at page edges, booleans across bytes and pages, a string dictionary that stops
 * paying part-way through a row group, and the footer statistics — read back by DuckDB and by
 * hyparquet, and the statistics checked against values computed here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { decimalFromUnscaled, type Column, type Row } from '@datakit/core';
import { ParquetFileWriter } from '../src/bronze/parquet/index.js';
import { duck } from './duck.js';

const col = (name: string, type: Column['type'], nullable = true): Column => ({ name, type, nullable, sourceType: 'test' });

const columns: Column[] = [
  col('id', 'int64', false),
  col('low', 'string'),
  col('uniq', 'string', false),
  col('big', 'string'),
  col('b', 'boolean'),
  col('f', 'float64'),
  col('d38', { decimal: [38, 4] }),
  col('d9', { decimal: [9, 2] }),
  // 9 and 13 bytes: fixed-length decimals shorter than 16 bytes
  col('d20', { decimal: [20, 2] }),
  col('d30', { decimal: [30, 5] }),
  col('u', 'uuid'),
  col('bin', 'bytes'),
];

const ROWS = Number(process.env.CHUNK_ROWS ?? 40_000);
let seed = 11;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % n;
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[rand(16)]).join('');
const chars = ['a', 'Z', '0', ' ', 'é', '日', '😀', '"', '\n'];

function makeRow(i: number): Row {
  // `low` repeats 5 values for 3,000 rows, then is unique: its dictionary stops paying mid row group
  const low = i % 97 === 0 ? null : i < 3000 ? `status-${i % 5}` : `v${i}`;
  const big = i % 7 === 0 ? null : Array.from({ length: 300 }, () => chars[rand(chars.length)]).join('');
  const b = i % 11 === 0 ? null : rand(3) === 0;
  const f = i % 13 === 0 ? null : i % 1000 === 1 ? Number.NaN : i === 5 ? -0 : (rand(2_000_001) - 1_000_000) / 7;
  const sign = rand(2) ? '-' : '';
  const d38 = i % 17 === 0 ? null : i === 1 ? '9999999999999999999999999999999999.9999' : i === 2 ? '-9999999999999999999999999999999999.9999' : `${sign}${rand(10 ** 9)}${rand(10 ** 9)}.${String(rand(10_000)).padStart(4, '0')}`;
  const d9 = i % 19 === 0 ? null : `${rand(2) ? '-' : ''}${rand(10_000_000)}.${String(rand(100)).padStart(2, '0')}`;
  const digits = (n: number): string => Array.from({ length: n }, () => rand(10)).join('');
  const d20 = i % 31 === 0 ? null : i === 1 ? '999999999999999999.99' : i === 2 ? '-999999999999999999.99' : `${rand(2) ? '-' : ''}${1 + rand(9)}${digits(rand(18))}.${digits(2)}`;
  const d30 = i % 37 === 0 ? null : i === 3 ? '-1.00000' : i === 4 ? '0.00000' : `${rand(2) ? '-' : ''}${1 + rand(9)}${digits(rand(25))}.${digits(5)}`;
  const u = i % 23 === 0 ? null : `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const bin = i % 29 === 0 ? null : Buffer.from(hex(2 * rand(20)), 'hex');
  return [BigInt(i), low, `u-${i}-${'x'.repeat(rand(40))}`, big, b, f, d38, d9, d20, d30, u, bin];
}

const rows: Row[] = Array.from({ length: ROWS }, (_, i) => makeRow(i));

type Canon = string | number | bigint | boolean | null;
const canon = (v: unknown): Canon => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v as Canon));
/** NaN never equals itself: compare doubles through their bit pattern as text. */
const doubleText = (v: unknown): Canon => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : (v as Canon));
const expected = rows.map((r) => r.map((v, i) => (columns[i]!.name === 'f' ? doubleText(v) : canon(v))));

describe('Parquet column chunks', () => {
  let root: string;
  let file: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datakit-pq-chunks-'));
    file = join(root, 'chunks.parquet');
    const w = await ParquetFileWriter.open(file, columns, { rowGroupRows: 16_384 });
    // batches of odd sizes, so row groups and pages end inside a batch
    for (let at = 0; at < ROWS; at += 3_333) await w.append(rows.slice(at, at + 3_333).map((r) => [...r]), at + 1);
    await w.finish();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips every value through DuckDB', async () => {
    const got = await duck(async (q) =>
      (await q(`SELECT id, low, uniq, big, b, CASE WHEN f IS NULL THEN NULL WHEN isnan(f) THEN 'NaN' WHEN f = 0 AND signbit(f) THEN '-0' ELSE f::VARCHAR END, d38::VARCHAR, d9::VARCHAR, d20::VARCHAR, d30::VARCHAR, u::VARCHAR, hex(bin) FROM read_parquet('${file}') ORDER BY id`)).map((r) =>
        r.map((v, i) => (i === 5 && typeof v === 'string' && v !== 'NaN' && v !== '-0' ? String(Number(v)) : i === 11 && typeof v === 'string' ? v.toLowerCase() : (v as Canon))),
      ),
    );
    // DuckDB prints decimals in their scale: the same text the rows hold
    expect(got.length).toBe(ROWS);
    expect(got).toEqual(expected);
  });

  it('round-trips every value through hyparquet', async () => {
    const buf = readFileSync(file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const metadata = parquetMetadata(ab);
    const raw = { ...metadata, schema: metadata.schema.map((e) => (e.converted_type === 'DECIMAL' ? { ...e, converted_type: undefined, logical_type: undefined } : e)) };
    const objects = await parquetReadObjects({ file: ab, metadata: raw, utf8: false, compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } });
    const scaled = (v: unknown, scale: number): Canon => {
      if (v === null || v === undefined) return null;
      if (v instanceof Uint8Array) return decimalFromUnscaled(BigInt.asIntN(v.length * 8, BigInt(`0x${Buffer.from(v).toString('hex')}`)), scale);
      return decimalFromUnscaled(BigInt(v as number | bigint), scale);
    };
    const uuid = (v: unknown): Canon => (v === null || v === undefined ? null : typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'));
    const got = objects.map((o) => [o.id, o.low ?? null, o.uniq, o.big ?? null, o.b ?? null, o.f === undefined || o.f === null ? null : doubleText(o.f), scaled(o.d38, 4), scaled(o.d9, 2), scaled(o.d20, 2), scaled(o.d30, 5), uuid(o.u), o.bin === undefined || o.bin === null ? null : canon(o.bin)]);
    expect(got).toEqual(expected);
  });

  it('writes row groups of many pages, and a dictionary only while it pays', async () => {
    const meta = await duck((q) => q(`SELECT row_group_id, path_in_schema, encodings, total_compressed_size FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`));
    const enc = (rg: number, name: string): string => String(meta.find((m) => m[0] === BigInt(rg) && m[1] === name)?.[2]);
    expect(new Set(meta.map((m) => m[0])).size).toBe(3);
    // `low`: dictionary pages, then plain ones once its values stop repeating; unique in later groups
    expect(enc(0, 'low')).toMatch(/RLE_DICTIONARY/);
    expect(enc(0, 'low')).toMatch(/PLAIN/);
    // a unique column gives its dictionary up after its first values
    expect(enc(1, 'low')).toMatch(/PLAIN/);
    expect(enc(0, 'uniq')).toMatch(/PLAIN/);
    // 16,384 values of ~400 bytes: more than one 1 MiB page, so the chunk has an offset index
    const md = parquetMetadata(readFileSync(file).buffer as ArrayBuffer);
    const big = md.row_groups[0]!.columns[3]!;
    expect(big.offset_index_offset).toBeDefined();
  });

  it('writes the min, max and NULL count of every column the readers use', async () => {
    const stats = await duck((q) => q(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`));
    const groups = [rows.slice(0, 16_384), rows.slice(16_384, 32_768), rows.slice(32_768)];
    for (const [g, groupRows] of groups.entries()) {
      for (const [i, c] of columns.entries()) {
        const values = groupRows.map((r) => r[i]).filter((v) => v !== null);
        const s = stats.find((m) => m[0] === BigInt(g) && m[1] === c.name)!;
        expect([c.name, g, s[4]]).toEqual([c.name, g, BigInt(groupRows.length - values.length)]);
        let min: unknown;
        let max: unknown;
        if (c.name === 'id') [min, max] = [String(values[0]), String(values.at(-1))];
        else if (c.name.startsWith('d') && c.name !== 'id') {
          const sorted = [...(values as string[])].sort((a, b) => (Number(a) < Number(b) ? -1 : 1));
          // exact order over the unscaled integers
          const unscaled = (v: string): bigint => BigInt(v.replace('.', ''));
          sorted.sort((a, b) => (unscaled(a) < unscaled(b) ? -1 : unscaled(a) > unscaled(b) ? 1 : 0));
          [min, max] = [sorted[0], sorted.at(-1)];
        } else if (c.name === 'f') {
          const nums = (values as number[]).filter((v) => !Number.isNaN(v));
          [min, max] = [Math.min(...nums), Math.max(...nums)];
        } else if (c.name === 'uniq' || c.name === 'low') {
          const bytes = (values as string[]).map((v) => Buffer.from(v));
          bytes.sort(Buffer.compare);
          [min, max] = [bytes[0]!.toString(), bytes.at(-1)!.toString()];
        } else continue;
        if (typeof min === 'string') {
          // strings longer than 16 bytes are truncated: the min to a prefix, the max to a greater string
          expect([c.name, g, String(min).startsWith(String(s[2])), Buffer.compare(Buffer.from(String(s[3])), Buffer.from(String(max))) >= 0]).toEqual([c.name, g, true, true]);
          continue;
        }
        const got = [s[2], s[3]].map((v) => (c.name === 'f' ? Number(v) : v));
        expect([c.name, g, ...got]).toEqual([c.name, g, min, max]);
      }
    }
  });
});
