/**
 * Choose the bronze target from `BRONZE_URL`, else `WAREHOUSE_DATABASE_URL`, else `./bronze`.
 * Target modules load lazily, so a Parquet run never loads `pg` and vice versa.
 */
import { resolve } from 'node:path';
import type { BronzeTarget } from './bronze/types.js';
import { DatakitError } from './errors.js';
import type { RuntimeSettings } from './runtime.js';

/** The bronze URL in force: explicit, warehouse, or the embedded default `./bronze`. */
export function bronzeUrlOf(rt: RuntimeSettings): string {
  return rt.bronzeUrl ?? rt.warehouseUrl ?? `file://${resolve('bronze')}`;
}

/** Build (not open) the bronze target for the settings. */
export async function createTarget(rt: RuntimeSettings): Promise<BronzeTarget> {
  const url = bronzeUrlOf(rt);
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { postgresTargetFromUrl } = await import('./bronze/postgres/index.js');
    return postgresTargetFromUrl(url, { commitRows: rt.warehouseCommitRows, commitSeconds: rt.warehouseCommitSeconds, copyFormat: rt.warehouseCopyFormat });
  }
  if (/^s3:\/\//i.test(url)) {
    const { s3TargetFromUrl } = await import('./bronze/s3/index.js');
    return s3TargetFromUrl(url, { rollRows: rt.parquetRollRows, rollBytes: rt.parquetRollBytes, rowGroupRows: rt.parquetRowGroupRows, compression: rt.parquetCompression });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new DatakitError('CONFIG.INVALID', `BRONZE_URL: unsupported scheme in ${url.split('://')[0]}://`, { fix: 'use file:///path or postgres://…' });
  }
  const { parquetTargetFromUrl } = await import('./bronze/parquet/index.js');
  return parquetTargetFromUrl(url, { rollRows: rt.parquetRollRows, rollBytes: rt.parquetRollBytes, rowGroupRows: rt.parquetRowGroupRows, compression: rt.parquetCompression });
}
