/**
 * Records in groups (see `FormatReader.recordGroups`): a reader hands over what one chunk of input
 * held in one step, and the consumer loops over it, instead of one `await` per record through every
 * async generator between them.
 */
import type { FileRecord, FileSource, FormatReader, ReadOptions } from './types.js';

/** The records of groups, one by one. */
export async function* ungrouped(groups: AsyncIterable<FileRecord[]>): AsyncIterable<FileRecord> {
  for await (const group of groups) yield* group;
}

/** A reader's records in groups: its own, or one record per group for a reader without them. */
export async function* groupsOf(reader: FormatReader, source: FileSource, opts: ReadOptions): AsyncIterable<FileRecord[]> {
  if (reader.recordGroups) {
    yield* reader.recordGroups(source, opts);
    return;
  }
  for await (const rec of reader.records(source, opts)) yield [rec];
}
