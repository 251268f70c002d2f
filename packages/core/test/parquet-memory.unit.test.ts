import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import type { Column, Row } from '@datakit/core';
import { ParquetTarget } from '../src/bronze/parquet/index.js';

const MB = 1024 * 1024;
// a full GC before each sample, so garbage not yet collected does not count as held memory
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('Parquet memory', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'datakit-pq-mem-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes a million rows holding about one row group in memory', async () => {
    const columns: Column[] = [
      { name: 'id', type: 'int64', nullable: false, sourceType: 'bigint' },
      { name: 'qty', type: 'int32', nullable: true, sourceType: 'integer' },
      { name: 'sku', type: 'string', nullable: true, sourceType: 'text' },
    ];
    const target = new ParquetTarget({ root, rollRows: 400_000 });
    await target.open('mem');
    const run = { source: 'mem', runId: 'r', loadedAtMicros: 0n, logger: pino({ level: 'silent' }) };
    const sink = await target.openStream({ run, stream: { name: 'big', columns, syncMode: 'full_refresh' }, columns, bronzeName: 'big', stateKey: 'big', staged: true });
    const total = 1_000_000;
    const batch = 10_000;
    const used = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    gc();
    const baseline = used();
    let retained = 0;
    for (let start = 0; start < total; start += batch) {
      const rows: Row[] = [];
      for (let i = start; i < start + batch; i++) rows.push([BigInt(i), i % 1000, `sku-${i % 50_000}`]);
      await sink.write(rows, { at: start + batch }, true);
      if (start % 50_000 === 0) {
        gc();
        retained = Math.max(retained, used() - baseline);
      }
    }
    const result = await sink.finish();
    expect(result.rows).toBe(total);
    // what stays reachable is about one row group (16384 rows); 1M rows held would be well over 100 MB
    expect(retained).toBeLessThan(48 * MB);
    expect(readdirSync(join(root, 'mem', 'big')).sort()).toEqual(['part-000000.parquet', 'part-000001.parquet', 'part-000002.parquet']);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const r = await conn.runAndReadAll(`SELECT count(*), count(DISTINCT id), max(id) FROM read_parquet('${join(root, 'mem', 'big')}/*.parquet')`);
    conn.closeSync();
    instance.closeSync();
    expect(r.getRows()[0]).toEqual([1_000_000n, 1_000_000n, 999_999n]);
  }, 120_000);
});
