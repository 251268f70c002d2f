/**
 * A local directory as a {@link FileStore}: `file:///data`. Symlinked files are followed; symlinked
 * directories are not (no cycles).
 */
import { createReadStream } from 'node:fs';
import { open, opendir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { DatakitError } from '@datakit/core';
import { storeError } from '../errors.js';
import type { FileEntry, FileStore, ListScope } from './types.js';

/** A store over the directory `root` (absolute). */
export class LocalStore implements FileStore {
  readonly kind = 'file';
  constructor(private readonly root: string) {}

  async *list(scope: ListScope, signal: AbortSignal): AsyncIterable<FileEntry> {
    yield* this.walk(scope.dir, scope.depth, signal, true);
  }

  private async *walk(dir: string, depth: number, signal: AbortSignal, top: boolean): AsyncIterable<FileEntry> {
    signal.throwIfAborted();
    let handle;
    try {
      handle = await opendir(join(this.root, ...dir.split('/').filter(Boolean)));
    } catch (e) {
      // a glob's directory that does not exist (yet) lists nothing; the root itself must exist
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !(top && dir === '')) return;
      throw storeError(e, 'file', `listing ${join(this.root, dir)}`);
    }
    for await (const d of handle) {
      const rel = `${dir}${d.name}`;
      if (d.isDirectory()) {
        if (depth > 0) yield* this.walk(`${rel}/`, depth - 1, signal, false);
        continue;
      }
      if (!d.isFile() && !d.isSymbolicLink()) continue;
      const s = await stat(join(this.root, rel), { bigint: true }).catch(() => undefined);
      if (!s?.isFile()) continue;
      yield { path: rel, size: Number(s.size), modifiedMicros: s.mtimeNs / 1000n, version: s.mtimeNs.toString() };
    }
  }

  async open(entry: FileEntry, signal: AbortSignal): Promise<Readable> {
    const path = this.location(entry);
    const s = createReadStream(path, { signal, highWaterMark: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      s.once('open', () => resolve());
      s.once('error', (e) => reject(storeError(e, 'file', `opening ${path}`)));
    });
    return s;
  }

  async readRange(entry: FileEntry, start: number, end: number): Promise<Uint8Array> {
    const fh = await open(this.location(entry), 'r').catch((e: unknown) => Promise.reject(storeError(e, 'file', `opening ${this.location(entry)}`)));
    try {
      const buf = Buffer.allocUnsafe(end - start);
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  location(entry: FileEntry): string {
    return join(this.root, ...entry.path.split('/'));
  }

  async probe(): Promise<void> {
    const s = await stat(this.root).catch((e: unknown) => Promise.reject(storeError(e, 'file', `reading ${this.root}`)));
    if (!s.isDirectory()) throw new DatakitError('SOURCE.NOT_FOUND', `${this.root} is not a directory`, { fix: 'check FILE_URL' });
  }

  async close(): Promise<void> {}
}

/** The absolute directory of a `file://` URL (percent-decoded). */
export function localRoot(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1).split('/').join(sep) : path;
}
