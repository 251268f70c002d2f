/** An in-memory DuckDB for a test's queries, closed when `fn` ends. */
import { DuckDBInstance } from '@duckdb/node-api';

export async function duck<T>(fn: (q: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRows() as unknown[][]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
