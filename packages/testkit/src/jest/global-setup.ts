/**
 * Jest globalSetup for integration projects: one PostgreSQL per jest run, published to workers as
 * `DATAKIT_TEST_PG_URL` (an existing `DATAKIT_TEST_PG_URL` is reused and left running).
 */
import { startPostgres } from '../services/postgres.ts';

export default async function globalSetup(): Promise<void> {
  if (process.env.DATAKIT_TEST_PG_URL) return;
  const pg = await startPostgres();
  process.env.DATAKIT_TEST_PG_URL = pg.url;
  (globalThis as { __datakitServices?: { stop(): Promise<void> }[] }).__datakitServices = [pg];
}
