import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import pino from 'pino';
import { loadConfig, runtimeSettings, type Column, type Row } from '@datakit/core';
import { ParquetFileWriter, ParquetTarget, type ParquetCompression } from '../src/bronze/parquet/index.js';
import { createTarget } from '../src/targets.js';

const col = (name: string, type: Column['type'], nullable = true): Column => ({ name, type, nullable, sourceType: 'test' });
const columns: Column[] = [col('id', 'int64', false), col('s', 'string'), col('j', 'json'), col('bin', 'bytes'), col('tz', 'timestamptz')];

/** Rows whose text repeats (compressible) and whose bytes do not. */
const rows: Row[] = Array.from({ length: 3000 }, (_, i) => [
  BigInt(i),
  i % 7 === 0 ? null : `row ${i % 50} héllo 🎉`,
  // runs of equal JSON (the converter reuses the previous bytes) between distinct documents
  i % 10 < 3 ? '[]' : `{"i":${i},"big":123456789012345678901234567890,"pad":"${'x'.repeat(i % 300)}"}`,
  i % 11 === 0 ? null : randomBytes(i % 40),
  1_700_000_000_000_000n + BigInt(i),
]);

type Canon = string | bigint | null;
const canon = (v: unknown): Canon => (v === null || v === undefined ? null : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v as Canon));
const expected = rows.map((r) => r.map(canon));

const CODECS: Record<ParquetCompression, string> = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', none: 'UNCOMPRESSED' };

async function duckRows(path: string, select: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(`SELECT ${select} FROM read_parquet('${path}') ORDER BY id`)).getRows() as unknown[][];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function hyparquetRows(path: string): Promise<{ codecs: string[]; rows: Canon[][] }> {
  const buf = readFileSync(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const metadata = parquetMetadata(file);
  const decoder = new TextDecoder();
  const objects = await parquetReadObjects({
    file,
    utf8: false,
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input), GZIP: (input: Uint8Array) => gunzipSync(input) },
    parsers: { timestampFromMicroseconds: (us: bigint) => us, jsonFromBytes: (b: Uint8Array) => b && decoder.decode(b) },
  });
  const codecs = [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec ?? '')))];
  return { codecs, rows: objects.map((o) => columns.map((c) => (c.type === 'string' && o[c.name] instanceof Uint8Array ? decoder.decode(o[c.name] as Uint8Array) : canon(o[c.name])))) };
}

describe('Parquet compression', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'datakit-pq-comp-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(Object.entries(CODECS))('writes %s pages that DuckDB and hyparquet read back exactly', async (compression, codec) => {
    const path = join(root, compression, 'part-000000.parquet');
    const f = await ParquetFileWriter.open(path, columns, { compression: compression as ParquetCompression, rowGroupRows: 1000 });
    await f.append(rows.slice(0, 1700));
    await f.append(rows.slice(1700), 1701);
    await f.finish();
    const read = await hyparquetRows(path);
    expect(read.codecs).toEqual([codec]);
    expect(read.rows).toEqual(expected);
    const duck = await duckRows(path, 'id, s, j::VARCHAR, hex(bin), epoch_us(tz)');
    expect(duck.map(([id, s, j, bin, tz]) => [id, s, j, bin === null ? null : String(bin).toLowerCase(), tz])).toEqual(expected);
  });

  it('writes ZSTD when no compression is given', async () => {
    const path = join(root, 'default', 'part-000000.parquet');
    const f = await ParquetFileWriter.open(path, columns);
    await f.append(rows.slice(0, 10));
    await f.finish();
    expect((await hyparquetRows(path)).codecs).toEqual(['ZSTD']);
  });

  it('writes row groups larger than its output buffer byte for byte', async () => {
    // 8 KiB incompressible values: a row group of 1,000 is 8 MiB, twice the 4 MiB buffer
    const big: Row[] = Array.from({ length: 1500 }, (_, i) => [BigInt(i), null, null, randomBytes(8192), 0n]);
    const path = join(root, 'big', 'part-000000.parquet');
    const f = await ParquetFileWriter.open(path, columns, { compression: 'none', rowGroupRows: 1000 });
    await f.append(big);
    const done = await f.finish();
    expect(done.bytes).toBe(readFileSync(path).byteLength);
    const got = await duckRows(path, 'id, md5(bin)');
    expect(got).toEqual(big.map((r) => [r[0], createHash('md5').update(r[3] as Uint8Array).digest('hex')]));
  }, 30_000);

  it('takes PARQUET_COMPRESSION from the settings into the files the target writes', async () => {
    expect(loadConfig(runtimeSettings, { env: {} }).config.parquetCompression).toBe('zstd');
    expect(() => loadConfig(runtimeSettings, { env: { PARQUET_COMPRESSION: 'lz4' } })).toThrow(/PARQUET_COMPRESSION/);
    const { config } = loadConfig(runtimeSettings, { env: { BRONZE_URL: `file://${join(root, 'settings')}`, PARQUET_COMPRESSION: 'snappy' } });
    const target = await createTarget(config);
    await target.open('src');
    const run = { source: 'src', runId: 'r1', loadedAtMicros: 0n, logger: pino({ level: 'silent' }) };
    const sink = await target.openStream({ run, stream: { name: 't', columns, syncMode: 'full_refresh' }, columns, bronzeName: 't', stateKey: 't', staged: true });
    await sink.write(rows.slice(0, 5).map((r) => [...r]), { done: true }, true);
    const { outputs } = await sink.finish();
    await target.close();
    expect(outputs).toHaveLength(1);
    expect((await hyparquetRows(join(root, 'settings', outputs[0]!))).codecs).toEqual(['SNAPPY']);
  });

  it('refuses an unknown compression as a configuration error', () => {
    expect(() => new ParquetTarget({ root, compression: 'lz4' as ParquetCompression })).toThrow(expect.objectContaining({ code: 'CONFIG.INVALID' }));
  });
});
