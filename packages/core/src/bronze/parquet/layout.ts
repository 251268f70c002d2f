/**
 * Where a stream's files live under a Parquet root, and the atomic generation swap.
 *
 * ```
 * <root>/<source>/<bronze name>                      → symlink (relative) to the live generation
 * <root>/<source>/_generations/<bronze name>/<gen>/  part-000000.parquet, part-000001.parquet, …
 *                                   …/<gen>/_quarantine/  part-000001.parquet: records set aside by commit 1
 * <root>/_state/<source>.json                        state of every stream of the source
 * ```
 *
 * A reader points at `<root>/<source>/<bronze name>/` and sees exactly the live generation; the
 * generations, temp files (`.part-….parquet.tmp`) and swap links (`.<name>.swap-<gen>`) are under
 * names that start with `_` or `.`, which DuckDB, Spark and Polars skip.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DatakitError } from '../../errors.js';
import { errnoCode, fsyncDir, removeQuietly, writeFailed } from './fs.js';

/**
 * The directory inside a generation holding the stream's quarantine output (`Batch.quarantine`):
 * readers of `<stream>/*.parquet` do not see it; `<stream>/_quarantine/*.parquet` reads it.
 */
export const QUARANTINE_DIR = '_quarantine';

/** The directory under `<root>/<source>` that holds every stream's generations. */
export const GENERATIONS_DIR = '_generations';
/** A generation id: UTC time (sortable) and a short random suffix, `20261124T090102Z-a1b2`. */
export const GENERATION_RE = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
const PART_RE = /^part-(\d{6,})\.parquet$/;

/** A new generation id (see {@link GENERATION_RE}). */
export function newGenerationId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** `part-000042.parquet`: the file of commit `seq`. */
export function partFileName(seq: number): string {
  return `part-${String(seq).padStart(6, '0')}.parquet`;
}

/** The paths of one stream (its bronze name may end in `/partition=<i>of<n>`). */
export class StreamLayout {
  /** The live symlink readers point at. */
  readonly link: string;
  /** The directory of this stream's generations. */
  readonly generations: string;

  constructor(
    readonly root: string,
    readonly source: string,
    readonly bronzeName: string,
  ) {
    this.link = join(root, source, bronzeName);
    this.generations = join(root, source, GENERATIONS_DIR, bronzeName);
  }

  /** The directory of a generation. */
  generationDir(generation: string): string {
    return join(this.generations, generation);
  }

  /** A path relative to the root (for reports). */
  relative(path: string): string {
    return relative(this.root, path);
  }

  /**
   * The generation the live link points at (undefined when there is no link, or it points outside
   * this stream's generations). A real directory in its place is `BRONZE.WRITE_FAILED`: the target
   * never replaces data it did not write.
   */
  async liveGeneration(): Promise<string | undefined> {
    // a split (`orders/partition=0of2`) lives in a directory named like the stream: not inside the
    // link of the stream written unsplit, where the next swap of that stream would drop it
    const slash = this.bronzeName.indexOf('/');
    if (slash > 0) {
      const whole = join(this.root, this.source, this.bronzeName.slice(0, slash));
      const isLink = await lstat(whole).then(
        (st) => st.isSymbolicLink(),
        () => false,
      );
      if (isLink) {
        throw new DatakitError('BRONZE.WRITE_FAILED', `${whole} holds the stream written unsplit (a link to its live generation); its split ${this.bronzeName} cannot be written inside it`, {
          fix: `read the stream unsplit as before, or move ${whole} and its _generations away and reset its state`,
        });
      }
    }
    let isLink: boolean;
    try {
      isLink = (await lstat(this.link)).isSymbolicLink();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw writeFailed(`inspecting ${this.link}`, e);
    }
    if (!isLink) {
      throw new DatakitError('BRONZE.WRITE_FAILED', `${this.link} is a real directory or file, not the symlink to the live generation this target maintains; it will not replace it`, {
        fix: `move ${this.link} away (or use another BRONZE_URL / BRONZE_SOURCE)`,
      });
    }
    const target = resolve(dirname(this.link), await readlink(this.link));
    return dirname(target) === this.generations ? basename(target) : undefined;
  }

  /**
   * Make `generation` live atomically: a new symlink `.<name>.swap-<gen>` is renamed over the live
   * link, then the parent directory is fsynced. Readers see the old generation or the new one.
   */
  async swapIn(generation: string): Promise<void> {
    const parent = dirname(this.link);
    const tmp = join(parent, `.${basename(this.link)}.swap-${generation}`);
    try {
      await mkdir(parent, { recursive: true });
      await unlink(tmp).catch((e: unknown) => {
        if (errnoCode(e) !== 'ENOENT') throw e;
      });
      await symlink(relative(parent, this.generationDir(generation)), tmp, 'dir');
      await rename(tmp, this.link);
      await fsyncDir(parent);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw writeFailed(`making generation ${generation} of ${this.link} live`, e);
    }
  }

  /** Remove this stream's generation directories other than `keep` (and leftover swap links). */
  async sweep(keep: readonly (string | undefined)[]): Promise<string[]> {
    const removed: string[] = [];
    const entries = await readdir(this.generations).catch(() => [] as string[]);
    for (const name of entries) {
      if (!GENERATION_RE.test(name) || keep.includes(name)) continue;
      await removeQuietly(join(this.generations, name));
      removed.push(name);
    }
    const parent = dirname(this.link);
    const prefix = `.${basename(this.link)}.swap-`;
    for (const name of await readdir(parent).catch(() => [] as string[])) {
      if (name.startsWith(prefix)) await unlink(join(parent, name)).catch(() => undefined);
    }
    return removed;
  }
}

/**
 * Delete what a crash left in a generation (and its quarantine directory): part files of commits
 * that were never stored (`seq >= committed`) and temp files. Returns the removed names, relative to
 * `dir`.
 */
export async function removeOrphans(dir: string, committed: number): Promise<string[]> {
  const quarantined = await removeOrphansIn(join(dir, QUARANTINE_DIR), committed, true);
  return [...(await removeOrphansIn(dir, committed, false)), ...quarantined.map((name) => join(QUARANTINE_DIR, name))];
}

async function removeOrphansIn(dir: string, committed: number, mayBeMissing: boolean): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if (mayBeMissing && errnoCode(e) === 'ENOENT') return removed;
    throw writeFailed(`listing ${dir}`, e);
  }
  for (const name of entries) {
    const m = PART_RE.exec(name);
    if ((m && Number(m[1]) >= committed) || name.endsWith('.tmp')) {
      await unlink(join(dir, name)).catch((e: unknown) => {
        if (errnoCode(e) !== 'ENOENT') throw writeFailed(`removing ${join(dir, name)}`, e);
      });
      removed.push(name);
    }
  }
  if (removed.length) await fsyncDir(dir).catch(() => undefined);
  return removed;
}
