/**
 * The bronze targets as the contract suite sees them from outside: where to point the CLI, how to
 * read a stream back independently, where the state is stored, and how to plant a corrupt one.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bronzeStreamName, warehouseTableName, type StoredStreamState } from '@datakit/core';
import { readParquet, readWarehouse, visibleParquetFiles, warehouseClient, type ReadBack } from '../read-back.ts';
import { createDatabase, testDatabaseName } from '../services/postgres.ts';
import type { ContractTarget } from './types.ts';

/** One empty bronze target for one test case. */
export interface TargetHandle {
  kind: ContractTarget;
  /** `BRONZE_URL` pointing at it. */
  env: Record<string, string>;
  /** Read the live data of a stream (what readers see). */
  read(stream: string, columns?: string[]): Promise<ReadBack>;
  /** The stored state of a stream, read from the target's storage directly. */
  state(stream: string): Promise<StoredStreamState | undefined>;
  /** Replace the stored state of a stream with `value` (any JSON). */
  plantState(stream: string, value: unknown): Promise<void>;
  /** True when readers see the stream (a live stream directory or `br_` table). */
  visible(stream: string): Promise<boolean>;
  /** Names of everything data-like the target holds (stream dirs with files, bronze tables). */
  written(): Promise<string[]>;
  close(): Promise<void>;
}

/** A fresh target of this kind for bronze source `source` (the kit name). */
export async function openTarget(kind: ContractTarget, source: string, serverUrl: string | undefined): Promise<TargetHandle> {
  return kind === 'parquet' ? parquetTarget(source) : warehouseTarget(source, serverUrl);
}

function parquetTarget(source: string): TargetHandle {
  const root = mkdtempSync(join(tmpdir(), 'datakit-contract-'));
  const statePath = join(root, '_state', `${source}.json`);
  const streamDir = (stream: string): string => join(root, source, bronzeStreamName(stream));
  const loadAll = (): Record<string, unknown> => {
    if (!existsSync(statePath)) return {};
    const doc = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    const streams = doc.streams;
    return streams && typeof streams === 'object' && !Array.isArray(streams) ? (streams as Record<string, unknown>) : doc;
  };
  return {
    kind: 'parquet',
    env: { BRONZE_URL: `file://${root}` },
    async read(stream, columns) {
      const dir = streamDir(stream);
      if (!existsSync(dir)) throw new Error(`bronze stream directory ${dir} does not exist`);
      return readParquet(dir, columns ? { columns } : {});
    },
    async state(stream) {
      return loadAll()[stream] as StoredStreamState | undefined;
    },
    async visible(stream) {
      return existsSync(streamDir(stream));
    },
    async plantState(stream, value) {
      mkdirSync(join(root, '_state'), { recursive: true });
      const doc = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>) : {};
      if (doc.streams && typeof doc.streams === 'object') (doc.streams as Record<string, unknown>)[stream] = value;
      else doc[stream] = value;
      writeFileSync(statePath, JSON.stringify(doc));
    },
    async written() {
      const dir = join(root, source);
      if (!existsSync(dir)) return [];
      return readdirSync(dir).filter((d) => visibleParquetFiles(join(dir, d)).length > 0 || readdirSync(join(dir, d)).length > 0);
    },
    async close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function warehouseTarget(source: string, serverUrl: string | undefined): Promise<TargetHandle> {
  if (!serverUrl) throw new Error('the warehouse target needs a Postgres server: set DATAKIT_TEST_PG_URL (the testkit jest globalSetup does)');
  const url = await createDatabase(serverUrl, testDatabaseName('contract_wh'));
  const table = (stream: string): string => warehouseTableName(bronzeStreamName(stream));
  const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const c = await warehouseClient(url);
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    kind: 'warehouse',
    env: { BRONZE_URL: url },
    read: (stream, columns) => readWarehouse(url, table(stream), columns ? { columns } : {}),
    async state(stream) {
      const rows = await query<{ state: string }>(
        `SELECT state::text AS state FROM bronze._datakit_state WHERE source = $1 AND stream = $2`,
        [source, stream],
      ).catch((e: { code?: string }) => (e.code === '42P01' || e.code === '3F000' ? [] : Promise.reject(e)));
      return rows[0] ? (JSON.parse(rows[0].state) as StoredStreamState) : undefined;
    },
    async visible(stream) {
      const rows = await query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bronze' AND c.relname = $1`, [table(stream)]).catch(() => []);
      return rows.length > 0;
    },
    async plantState(stream, value) {
      await query(
        `INSERT INTO bronze._datakit_state (source, stream, state) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (source, stream) DO UPDATE SET state = excluded.state`,
        [source, stream, JSON.stringify(value)],
      );
    },
    async written() {
      const rows = await query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'bronze' AND c.relkind IN ('r', 'p', 'v') AND c.relname <> '_datakit_state' ORDER BY 1`,
      );
      return rows.map((r) => r.relname);
    },
    async close() {
      const u = new URL(url);
      const name = decodeURIComponent(u.pathname.slice(1));
      const admin = await warehouseClient(serverUrl);
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
