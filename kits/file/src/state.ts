/**
 * The file kit's checkpoint. Every batch carries one, so nothing is ever stored without a resume
 * point: the files finished so far (path → `size:version`), the file being read and the position of
 * its last record in the batch, and the stream's columns as landed (to catch an inferred type that
 * changed since). A resume re-opens the current file and skips the records up to that position; a
 * file whose size or version changed is a new file and is read in full.
 *
 * Bounded: files that no longer match the stream's globs (moved away, deleted) are dropped from the
 * state, so it holds at most the files present — about 60 bytes each.
 */
import { DatakitError, typeName, type Column } from '@datakit/core';
import { z } from 'zod';
import type { FileEntry } from './store/types.js';

const checkpointSchema = z.object({
  v: z.literal(1),
  files: z.record(z.string(), z.string()),
  current: z.object({ path: z.string(), sig: z.string(), pos: z.number().int().nonnegative() }).optional(),
  columns: z.array(z.tuple([z.string(), z.string()])).optional(),
});

/** A checkpoint of the file kit (see the module comment). */
export type FileCheckpoint = z.infer<typeof checkpointSchema>;

/** What identifies a file's content: `size:version` (version = ETag or modification time). */
export function signature(entry: FileEntry): string {
  return `${entry.size}:${entry.version}`;
}

/** The stored checkpoint, validated (an empty one when there is none). Throws `STATE.CORRUPT`. */
export function parseCheckpoint(state: unknown, stream: string): FileCheckpoint {
  if (state === undefined || state === null) return { v: 1, files: {} };
  const r = checkpointSchema.safeParse(state);
  if (!r.success) {
    throw new DatakitError('STATE.CORRUPT', 'stored state is not a file-kit checkpoint ({ v: 1, files, current?, columns? })', {
      where: { kit: 'file', stream },
      fix: `reset it with \`run --state-reset ${stream}\` (every file is read again)`,
    });
  }
  return r.data;
}

/** `[name, type]` of columns, as checkpoints store them. */
export function columnSignature(columns: readonly Column[]): [string, string][] {
  return columns.map((c) => [c.name, typeName(c.type)]);
}

/**
 * Compare the discovered columns with the ones landed before. Returns the landed columns discovery no
 * longer sees (they are kept, never dropped); throws `CONFIG.INVALID` when a type changed.
 */
export function reconcileColumns(stream: string, discovered: readonly Column[], landed: [string, string][] | undefined): [string, string][] {
  if (!landed) return [];
  const byName = new Map(discovered.map((c) => [c.name, typeName(c.type)]));
  const missing: [string, string][] = [];
  for (const [name, type] of landed) {
    const now = byName.get(name);
    if (now === undefined) missing.push([name, type]);
    else if (now !== type) {
      throw new DatakitError('CONFIG.INVALID', `column ${JSON.stringify(name)} landed as ${type} but is now inferred as ${now} (the sampled files changed)`, {
        where: { kit: 'file', stream },
        fix: `pin it: FILE_COLUMN_TYPES=${stream}.${name}=${type} (or reload the stream with run --state-reset ${stream})`,
      });
    }
  }
  return missing;
}
