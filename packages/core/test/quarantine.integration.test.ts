/**
 * A stream's quarantine output (`Batch.quarantine`) in every bronze target — local Parquet, Parquet on
 * S3 (s3rver) and the warehouse (PostgreSQL), all on 127.0.0.1: quarantined rows land beside the
 * stream (`<stream>/_quarantine/*.parquet`, `br_<stream>__quarantine`), out of a reader's sight of
 * the stream, in the same commit as the stream's rows and checkpoint — so a commit that was never
 * stored leaves neither behind — and a full refresh replaces the quarantine with the stream.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import pino from 'pino';
import type { BronzeTarget, Column, OpenStreamParams, Row, Stream, StreamSink } from '@datakit/core';
import { createDatabase, startS3, testDatabaseName, type S3Service } from '@datakit/testkit';
import { ParquetTarget } from '../src/bronze/parquet/index.js';
import { PostgresTarget } from '../src/bronze/postgres/index.js';
import { s3TargetFromUrl } from '../src/bronze/s3/index.js';

const SOURCE = 'shop';
const BUCKET = `quarantine-${process.pid}`;
const columns: Column[] = [
  { name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' },
  { name: 'note', type: 'string', nullable: true, sourceType: 'text' },
];
const quarantineColumns: Column[] = [
  { name: 'line', type: 'int64', nullable: false, sourceType: 'line' },
  { name: 'reason', type: 'string', nullable: false, sourceType: 'reason' },
  { name: 'raw', type: 'bytes', nullable: true, sourceType: 'raw' },
];
const rowsOf = (from: number, to: number): Row[] => Array.from({ length: to - from + 1 }, (_, i) => [BigInt(from + i), `row ${from + i}`]);
const bad = (line: number): Row => [BigInt(line), `line ${line} is bad`, Buffer.from([0xff, line & 0xff, 0x00])];
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** What a reader sees of the stream and of its quarantine. */
interface Seen {
  ids: number[];
  /** `line: reason: raw as hex` of each quarantined row, by line. */
  quarantine: string[];
}

interface Harness {
  /** A target opened for SOURCE; Parquet targets roll files every `rollRows` rows. */
  target(rollRows: number): Promise<BronzeTarget>;
  seen(name: string): Promise<Seen>;
  /** The process dies: the sink is left as it is (a warehouse connection dies with its transaction). */
  crash(sink: StreamSink): Promise<void>;
}

async function duck<T>(sql: string, map: (row: unknown[]) => T): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows().map(map);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The stream's Parquet files and its quarantine's, under a local directory, read as a reader would. */
async function seenInDir(dir: string): Promise<Seen> {
  const has = (d: string): boolean => {
    try {
      return readdirSync(d).some((n) => n.endsWith('.parquet') && !n.startsWith('.'));
    } catch {
      return false;
    }
  };
  const ids = has(dir) ? await duck(`SELECT id FROM read_parquet('${dir}/*.parquet') ORDER BY id`, (r) => Number(r[0])) : [];
  const q = join(dir, '_quarantine');
  const quarantine = has(q) ? await duck(`SELECT line, reason, hex(raw) FROM read_parquet('${q}/*.parquet') ORDER BY line`, (r) => `${String(r[0])}: ${String(r[1])}: ${String(r[2]).toLowerCase()}`) : [];
  return { ids, quarantine };
}

const expected = (lines: number[]): string[] => lines.map((l) => `${l}: line ${l} is bad: ff${(l & 0xff).toString(16).padStart(2, '0')}00`);

let s3: S3Service;
let s3client: S3Client;
let warehouse: string;
let db: pg.Client;
let n = 0;

beforeAll(async () => {
  s3 = await startS3();
  s3client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await s3client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('quarantine'));
  db = new pg.Client({ connectionString: warehouse });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  s3client?.destroy();
  await s3?.stop();
});

const local = (): Harness => {
  const root = mkdtempSync(join(tmpdir(), 'datakit-quarantine-'));
  return {
    target: async (rollRows) => new ParquetTarget({ root, rowGroupRows: 2, rollRows }),
    seen: (name) => seenInDir(join(root, SOURCE, name)),
    crash: async () => undefined,
  };
};

const s3Harness = (): Harness => {
  const prefix = `lake-${++n}/bronze`;
  return {
    target: async (rollRows) => s3TargetFromUrl(`s3://${s3.accessKeyId}:${s3.secretAccessKey}@${BUCKET}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}`, { rowGroupRows: 2, rollRows }),
    // the stream's live prefix mirrored into a directory, read like the local one
    seen: async (name) => {
      const live = `${prefix}/${SOURCE}/${name}/`;
      const listed = await s3client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: live }));
      const dir = mkdtempSync(join(tmpdir(), 'datakit-quarantine-s3-'));
      try {
        for (const o of listed.Contents ?? []) {
          const file = join(dir, o.Key!.slice(live.length));
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, await (await s3client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!.transformToByteArray());
        }
        return await seenInDir(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    crash: async () => undefined,
  };
};

const warehouseHarness = (): Harness => {
  const schema = `q${++n}`;
  return {
    target: async () => new PostgresTarget(warehouse, { schema, commitRows: 1 }),
    seen: async (name) => {
      const exists = async (t: string): Promise<boolean> => (await db.query('SELECT to_regclass($1) AS r', [`${schema}."${t}"`])).rows[0].r !== null;
      const ids = (await exists(`br_${name}`)) ? (await db.query<{ id: string }>(`SELECT id FROM ${schema}."br_${name}" ORDER BY id`)).rows.map((r) => Number(r.id)) : [];
      const quarantine = (await exists(`br_${name}__quarantine`))
        ? (await db.query<{ line: string; reason: string; raw: Buffer }>(`SELECT line, reason, raw FROM ${schema}."br_${name}__quarantine" ORDER BY line`)).rows.map((r) => `${r.line}: ${r.reason}: ${r.raw.toString('hex')}`)
        : [];
      return { ids, quarantine };
    },
    crash: (sink) => sink.abort(),
  };
};

describe.each([
  ['local Parquet', local],
  ['Parquet on S3', s3Harness],
  ['the warehouse', warehouseHarness],
])('the quarantine output in %s', (_name, make) => {
  let h: Harness;
  let target: BronzeTarget;
  beforeEach(async () => {
    h = make();
    target = await h.target(4);
    await target.open(SOURCE);
  });
  afterEach(async () => {
    await target.close();
  });

  async function open(name: string, staged: boolean, syncMode: Stream['syncMode'] = 'full_refresh'): Promise<StreamSink> {
    const stream: Stream = { name, columns, quarantineColumns, syncMode };
    const states = await target.loadState(SOURCE);
    const params: OpenStreamParams = {
      run: { source: SOURCE, runId: `run-${++n}`, loadedAtMicros: 0n, logger: pino({ level: 'silent' }) },
      stream,
      columns,
      quarantineColumns,
      bronzeName: name,
      stateKey: name,
      staged,
      ...(states[name] ? { stored: states[name] } : {}),
    };
    return target.openStream(params);
  }

  it('lands quarantined rows beside the stream, out of its readers sight, and counts them apart', async () => {
    const sink = await open('orders', true);
    await sink.write(rowsOf(1, 3), { at: 3 }, true, [bad(2)]);
    await sink.write(rowsOf(4, 6), { at: 6 }, true);
    // a batch with nothing but quarantined rows is a commit of its own
    await sink.write([], { at: 9 }, true, [bad(7), bad(8), bad(9)]);
    // staged: readers see nothing yet
    expect(await h.seen('orders')).toEqual({ ids: [], quarantine: [] });
    const result = await sink.finish();
    expect(result).toMatchObject({ rows: 6, quarantined: 4, stored: { phase: 'live', kit: { at: 9 } } });
    expect(await h.seen('orders')).toEqual({ ids: range(1, 6), quarantine: expected([2, 7, 8, 9]) });
    expect(result.outputs.some((o) => o.includes('quarantine'))).toBe(true);
  });

  it('stores quarantined rows only with the commit that stores their checkpoint: a crash before it leaves neither behind', async () => {
    const first = await open('events', true, 'incremental');
    await first.write(rowsOf(1, 2), { at: 2 }, true, [bad(3)]);
    await first.finish();
    const second = await open('events', false, 'incremental');
    await second.write(rowsOf(4, 5), { at: 5 }, true, [bad(6)]);
    await second.commit();
    // rows and quarantined rows without a checkpoint: the files roll (4 rows) but are not stored
    await second.write(rowsOf(7, 10), undefined, false, [bad(11)]);
    await h.crash(second);

    // the next run resumes from { at: 5 }; its commit of the same number sets nothing aside (its
    // batches fell otherwise), so a quarantine file the crash left would not be overwritten
    expect((await target.loadState(SOURCE)).events).toMatchObject({ phase: 'live', kit: { at: 5 } });
    const third = await open('events', false, 'incremental');
    await third.write(rowsOf(7, 10), { at: 10 }, true);
    await third.write([], { at: 12 }, true, [bad(12)]);
    await third.finish();
    expect(await h.seen('events')).toEqual({ ids: [1, 2, 4, 5, 7, 8, 9, 10], quarantine: expected([3, 6, 12]) });
  });

  it('replaces the quarantine with the stream on a full refresh, by the new one or by none', async () => {
    const first = await open('items', true);
    await first.write(rowsOf(1, 2), { at: 2 }, true, [bad(3)]);
    await first.finish();
    const second = await open('items', true);
    await second.write(rowsOf(10, 11), { at: 11 }, true, [bad(12)]);
    await second.finish();
    expect(await h.seen('items')).toEqual({ ids: [10, 11], quarantine: expected([12]) });
    const third = await open('items', true);
    await third.write(rowsOf(20, 20), { at: 20 }, true);
    await third.finish();
    expect(await h.seen('items')).toEqual({ ids: [20], quarantine: [] });
  });
});

describe('the warehouse quarantine', () => {
  it('refuses a quarantined value it cannot store, naming the quarantine table, and stores neither the batch nor its checkpoint', async () => {
    const h = warehouseHarness();
    const target = await h.target(4);
    await target.open(SOURCE);
    try {
      const stream: Stream = { name: 'refused', columns, quarantineColumns, syncMode: 'full_refresh' };
      const params = (states: Awaited<ReturnType<BronzeTarget['loadState']>>): OpenStreamParams => ({
        run: { source: SOURCE, runId: `run-${++n}`, loadedAtMicros: 0n, logger: pino({ level: 'silent' }) },
        stream,
        columns,
        quarantineColumns,
        bronzeName: 'refused',
        stateKey: 'refused',
        staged: true,
        ...(states.refused ? { stored: states.refused } : {}),
      });
      const sink = await target.openStream(params(await target.loadState(SOURCE)));
      await sink.write(rowsOf(1, 2), { at: 2 }, true, [bad(3)]);
      // an int64 beyond its range: refused before it reaches the server, mid-COPY
      const error = await sink.write(rowsOf(4, 5), { at: 6 }, true, [[2n ** 70n, 'too big', null]]).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
      expect(error).toMatchObject({ code: 'DATA.INVALID_RECORD' });
      expect(error!.message).toContain('__quarantine');
      expect((await target.loadState(SOURCE)).refused).toMatchObject({ phase: 'staging', kit: { at: 2 } });
      await sink.abort();
      // the connection was not left mid-COPY: the next run resumes the staging generation and finishes
      const again = await target.openStream(params(await target.loadState(SOURCE)));
      await again.write(rowsOf(4, 5), { at: 6 }, true, [bad(6)]);
      await again.finish();
      expect(await h.seen('refused')).toEqual({ ids: [1, 2, 4, 5], quarantine: expected([3, 6]) });
    } finally {
      await target.close();
    }
  });
});
