/**
 * Durable file-system steps of the Parquet target: fsync a directory after a rename so the new name
 * survives a power loss, atomic small-file replacement, and errors mapped to `BRONZE.WRITE_FAILED`.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatakitError, isDatakitError } from '../../errors.js';

/** The error code of a Node fs error (`ENOENT`, `EEXIST`, …). */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? ((e as { code?: unknown }).code as string | undefined) : undefined;
}

/** An fs failure as `BRONZE.WRITE_FAILED` (a DatakitError passes through). */
export function writeFailed(what: string, e: unknown): DatakitError {
  if (isDatakitError(e)) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new DatakitError('BRONZE.WRITE_FAILED', `${what}: ${reason}`, { cause: e });
}

/** fsync a directory, making renames and creations inside it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replace `path` with `data` atomically: write a hidden temp file in the same directory, fsync it,
 * rename it over `path`, fsync the directory. Readers see the old or the new content, never half.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(3).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw writeFailed(`writing ${path}`, e);
  }
}

/** Remove a file or directory tree; missing is fine, other failures are ignored (best effort). */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}
