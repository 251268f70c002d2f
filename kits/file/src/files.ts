/**
 * The files of a stream: every listed file matching one of its globs, old enough (FILE_MIN_AGE_SECONDS),
 * oldest first (then by path), optionally only this process's share with `--partition i/n`.
 */
import { createHash } from 'node:crypto';
import type { Context } from '@datakit/core';
import { compileGlob, scopesOf } from './glob.js';
import type { FileEntry, FileStore } from './store/types.js';
import type { StreamSpec } from './streams.js';

/** A stable share of a path in `n` partitions (hash of the path). */
export function partitionOf(path: string, n: number): number {
  return createHash('sha1').update(path).digest().readUInt32BE(0) % n;
}

/**
 * List the stream's files.
 * @example const files = await listFiles(store, spec, ctx, 0);
 */
export async function listFiles(store: FileStore, spec: StreamSpec, ctx: Pick<Context, 'signal' | 'partition'>, minAgeSeconds: number): Promise<FileEntry[]> {
  const globs = spec.globs.map(compileGlob);
  const found = new Map<string, FileEntry>();
  const newest = BigInt(Date.now() - minAgeSeconds * 1000) * 1000n;
  for (const scope of scopesOf(globs)) {
    for await (const f of store.list(scope, ctx.signal)) {
      if (found.has(f.path) || !globs.some((g) => g.matches(f.path))) continue;
      if (minAgeSeconds > 0 && f.modifiedMicros > newest) continue;
      found.set(f.path, f);
    }
  }
  let files = [...found.values()];
  const p = ctx.partition;
  if (p && p.count > 1) files = files.filter((f) => partitionOf(f.path, p.count) === p.index);
  return files.sort((a, b) => (a.modifiedMicros < b.modifiedMicros ? -1 : a.modifiedMicros > b.modifiedMicros ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
