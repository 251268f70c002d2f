/**
 * Test support for the file kit: the fixture files laid out in a directory (compressed and dated as
 * the golden files expect, Parquet written by DuckDB — independent of the kit), the shared test
 * services, and counters of what the kit holds open.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { bronzeStreamName } from '@datakit/core';
import { readParquet, runInProcess, sftpFromEnv, type CanonicalRow, type SftpService } from '@datakit/testkit';
import { fileKit } from '../src/index.js';

export const FIXTURES = join(__dirname, 'fixtures');

/** The shared SFTP server of the jest run (globalSetup). */
export function sftpService(): SftpService {
  const text = process.env.DATAKIT_TEST_SFTP;
  if (!text) throw new Error('DATAKIT_TEST_SFTP is not set: run through the kit jest config (globalSetup starts sshd)');
  return sftpFromEnv(text);
}

/** The shared S3 endpoint of the jest run. */
export function s3Endpoint(): string {
  const e = process.env.DATAKIT_TEST_S3_ENDPOINT;
  if (!e) throw new Error('DATAKIT_TEST_S3_ENDPOINT is not set: run through the kit jest config');
  return e;
}

/** Fixture files: template → path in the source, compression, modification time. */
const LAYOUT: { from: string; to: string; mtime: string; compress?: 'gzip' | 'zstd' }[] = [
  { from: 'orders/2024-01-01.csv', to: 'orders/2024-01-01.csv', mtime: '2024-01-01T06:00:00Z' },
  { from: 'orders/2024-01-02.csv', to: 'orders/2024-01-02.csv.gz', mtime: '2024-01-02T06:00:00Z', compress: 'gzip' },
  { from: 'orders/2024-01-03.csv', to: 'orders/2024-01-03.csv.zst', mtime: '2024-01-03T06:00:00Z', compress: 'zstd' },
  { from: 'lines/línea #1 100%.csv', to: 'lines/línea #1 100%.csv', mtime: '2024-01-05T00:00:00Z' },
  { from: 'events/part 1.ndjson', to: 'events/part 1.ndjson', mtime: '2024-01-06T00:00:00Z' },
  { from: 'events/part-2.jsonl', to: 'events/part-2.jsonl.gz', mtime: '2024-01-07T00:00:00Z', compress: 'gzip' },
  { from: 'types/text-types.csv', to: 'types/text-types.csv', mtime: '2024-03-01T00:00:00Z' },
];

/** The Parquet half of the type fixture, as DuckDB writes it. */
const PARQUET_TYPES_SQL = `
COPY (SELECT * FROM (VALUES
  (10::BIGINT, 2147483647::INTEGER, 9007199254740993::BIGINT, 0.1::DOUBLE, true, 12345678901234.5678::DECIMAL(18,4), DATE '2024-02-29',
   TIME '13:45:07.123456', TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05.123456+00',
   '550e8400-e29b-41d4-a716-446655440000'::UUID, '{"k":[1,2]}'::JSON, 'héllo', '\\x00\\xFF'::BLOB, {'a': 1, 'b': ['x']}),
  (11::BIGINT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) t(id, pq_int32, pq_int64, pq_double, pq_boolean, pq_decimal, pq_date, pq_time, pq_timestamp, pq_timestamptz, pq_uuid, pq_json, pq_string, pq_bytes, pq_nested))
TO '{path}' (FORMAT parquet)`;

/** Set a file's modification time (what listings report). */
export function touch(path: string, iso: string): void {
  const t = new Date(iso);
  utimesSync(path, t, t);
}

/** Run SQL in an in-memory DuckDB. */
export async function duck(sql: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  try {
    await c.run(sql);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Lay the contract fixtures out under `dir` (see {@link LAYOUT}). */
export async function writeFixtures(dir: string): Promise<void> {
  for (const f of LAYOUT) {
    const dest = join(dir, f.to);
    mkdirSync(dirname(dest), { recursive: true });
    const raw = readFileSync(join(FIXTURES, 'source', f.from));
    writeFileSync(dest, f.compress === 'gzip' ? gzipSync(raw) : f.compress === 'zstd' ? zstdCompressSync(raw) : raw);
    touch(dest, f.mtime);
  }
  const pq = join(dir, 'types/parquet-types.parquet');
  await duck(PARQUET_TYPES_SQL.replace('{path}', pq.replace(/'/g, "''")));
  touch(pq, '2024-03-01T00:00:00Z');
  mkdirSync(join(dir, 'big'), { recursive: true });
}

/** A CSV text: header and rows joined with `\n`. */
export function csvText(header: string[], rows: (string | number)[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** TCP connections this process has open to `port` on 127.0.0.1 (from /proc). */
export function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // remote address, state 01 = ESTABLISHED, inode
    if (f.length > 9 && f[2]!.endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9]!)) n++;
  }
  return n;
}

/** A fresh temp directory. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `datakit-file-${label}-`));
}

/** What a run printed, parsed. */
export interface RunReport {
  status: string;
  rows: number;
  streams: { stream: string; status: string; rows: number; newColumns?: string[]; error?: { code: string; message: string } }[];
  error?: { code: string; message: string };
}

/** `run` in-process into a Parquet root; returns the exit code and the report. */
export async function runFile(env: Record<string, string>, root: string, args: string[] = []): Promise<{ code: number | null; report: RunReport }> {
  const r = await runInProcess(fileKit, ['run', ...args], { BRONZE_URL: `file://${root}`, ...env });
  return { code: r.code, report: r.json as unknown as RunReport };
}

/** The rows of a stream in a Parquet root, as DuckDB reads them (canonical values), sorted by `by`. */
export async function landed(root: string, stream: string, by = '_bronze_file_row'): Promise<CanonicalRow[]> {
  const dir = join(root, 'file', bronzeStreamName(stream));
  if (!existsSync(dir)) return [];
  const { rows } = await readParquet(dir);
  const key = (r: CanonicalRow): string => `${String(r._bronze_file)}\u0000${String(r[by]).padStart(20, '0')}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Rows without the lineage and metadata columns. */
export function dataOnly(rows: CanonicalRow[]): CanonicalRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_bronze'))));
}
