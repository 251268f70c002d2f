/**
 * The state file of a source under a Parquet root: `<root>/_state/<source>.json`,
 * `{ "version": 1, "source": "…", "streams": { "<state key>": StoredStreamState } }`.
 *
 * Containers that run different streams (or partitions) of one source share the file, so every
 * update re-reads it under a lock file (`<source>.json.lock`, created exclusively) and replaces only
 * its own keys; the new content replaces the old atomically (temp file, fsync, rename, fsync dir).
 * A lock left behind by a killed process is broken after {@link STALE_LOCK_MS}.
 *
 * Written with {@link stringifyExact}: a bigint in a kit checkpoint is stored as an exact JSON
 * number and read back as a bigint when it is beyond 2^53.
 */
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatakitError } from '../../errors.js';
import { stringifyExact } from '../../values.js';
import type { SourceState, StoredStreamState } from '../types.js';
import { errnoCode, writeFailed, writeFileAtomic } from './fs.js';

/** The directory of the state files under the root. */
export const STATE_DIR = '_state';
/** The state file format version. */
export const STATE_VERSION = 1;
/** A lock file older than this is taken to be left by a dead process. */
export const STALE_LOCK_MS = 30_000;
/** How long an update waits for the lock before giving up. */
const LOCK_WAIT_MS = 60_000;

/** `<root>/_state/<source>.json` */
export function stateFilePath(root: string, source: string): string {
  return join(root, STATE_DIR, `${source}.json`);
}

/** Context of JSON.parse's reviver (ES2025 "JSON.parse source text access", Node ≥ 21). */
interface ReviverContext {
  source?: string;
}

/** JSON.parse that keeps integers beyond 2^53 exact, as `bigint`. */
function parseExactJson(text: string): unknown {
  return JSON.parse(text, function (_key: string, value: unknown, context?: ReviverContext) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    return value;
  });
}

const resetFix = (keys: string): string => `run --state-reset ${keys}`;

function corruptFile(path: string, reason: string, cause?: unknown): DatakitError {
  return new DatakitError('STATE.CORRUPT', `state file ${path} ${reason}`, {
    ...(cause !== undefined ? { cause } : {}),
    fix: `${resetFix('<stream…>')}; an unreadable file is set aside as ${path}.corrupt-<time> and every stream of the source reloads`,
  });
}

/** The `streams` object of a state file, unvalidated; `{}` when the file does not exist. */
async function readStreams(path: string, source: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return {};
    throw new DatakitError('STATE.CORRUPT', `state file ${path} cannot be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseExactJson(text);
  } catch (e) {
    throw corruptFile(path, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`, e);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw corruptFile(path, 'is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.version !== STATE_VERSION) throw corruptFile(path, `has version ${JSON.stringify(d.version)}, expected ${STATE_VERSION}`);
  if (d.source !== source) throw corruptFile(path, `belongs to source ${JSON.stringify(d.source)}, not ${JSON.stringify(source)}`);
  const streams = d.streams;
  if (typeof streams !== 'object' || streams === null || Array.isArray(streams)) throw corruptFile(path, 'has no "streams" object');
  return streams as Record<string, unknown>;
}

/** Validate one stored stream state (`STATE.CORRUPT` naming the stream when it is not one). */
export function validateStoredState(v: unknown, key: string, path: string): StoredStreamState {
  const bad = (reason: string): DatakitError =>
    new DatakitError('STATE.CORRUPT', `state of stream ${key} in ${path} is unreadable: ${reason}`, { where: { stream: key }, fix: resetFix(key) });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  const s = v as Record<string, unknown>;
  if (typeof s.generation !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z_-]*$/.test(s.generation)) throw bad('"generation" is not a generation id');
  if (s.phase !== 'staging' && s.phase !== 'live') throw bad('"phase" is not "staging" or "live"');
  if (typeof s.seq !== 'number' || !Number.isSafeInteger(s.seq) || s.seq < 0) throw bad('"seq" is not a count');
  if (typeof s.runId !== 'string') throw bad('"runId" is not a string');
  if (typeof s.updatedAt !== 'string') throw bad('"updatedAt" is not a string');
  if (s.columns !== undefined && !(Array.isArray(s.columns) && s.columns.every((c) => typeof c === 'string'))) throw bad('"columns" is not a list of names');
  return s as unknown as StoredStreamState;
}

/** Every stored stream state of a source (`{}` without a state file); `STATE.CORRUPT` when unreadable. */
export async function readSourceState(root: string, source: string): Promise<SourceState> {
  const path = stateFilePath(root, source);
  const streams = await readStreams(path, source);
  const out: SourceState = {};
  for (const [key, v] of Object.entries(streams)) out[key] = validateStoredState(v, key, path);
  return out;
}

/** Run `fn` holding the source's state lock. */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(`${process.pid} ${new Date().toISOString()}\n`).finally(() => fh.close());
      break;
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw writeFailed(`locking ${path}`, e);
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new DatakitError('BRONZE.WRITE_FAILED', `the state file lock ${lock} has been held for over ${LOCK_WAIT_MS / 1000}s`, { fix: 'remove the lock file if no other run of this source is active' });
      await sleep(5 + Math.floor(Math.random() * 25));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function writeStreams(path: string, source: string, streams: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, `${stringifyExact({ version: STATE_VERSION, source, streams }, 2)}\n`);
}

/**
 * Store one stream's state (or remove it, with `undefined`), leaving every other key of the file as
 * it is. Durable when it resolves.
 */
export async function saveStreamState(root: string, source: string, key: string, state: StoredStreamState | undefined): Promise<void> {
  const path = stateFilePath(root, source);
  await mkdir(join(root, STATE_DIR), { recursive: true }).catch((e: unknown) => {
    throw writeFailed(`creating ${join(root, STATE_DIR)}`, e);
  });
  await withLock(path, async () => {
    const streams = await readStreams(path, source);
    if (state === undefined) delete streams[key];
    else streams[key] = state;
    await writeStreams(path, source, streams);
  });
}

/**
 * Remove the states of these keys. A file that cannot be read at all is set aside as
 * `<source>.json.corrupt-<time>` (every stream of the source then starts anew), so a reset is
 * always the way out of `STATE.CORRUPT`.
 */
export async function removeStreamStates(root: string, source: string, keys: readonly string[]): Promise<void> {
  const path = stateFilePath(root, source);
  await mkdir(join(root, STATE_DIR), { recursive: true }).catch((e: unknown) => {
    throw writeFailed(`creating ${join(root, STATE_DIR)}`, e);
  });
  await withLock(path, async () => {
    let streams: Record<string, unknown>;
    try {
      streams = await readStreams(path, source);
    } catch {
      const aside = `${path}.corrupt-${new Date().toISOString().replace(/[-:.]/g, '')}`;
      await rename(path, aside).catch((err: unknown) => {
        throw writeFailed(`setting the unreadable state file ${path} aside`, err);
      });
      streams = {};
    }
    for (const k of keys) delete streams[k];
    await writeStreams(path, source, streams);
  });
}
