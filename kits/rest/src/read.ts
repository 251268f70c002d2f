/**
 * `read`: pages → batches. Pages are gathered into batches of at most `BATCH_SIZE` rows, each cut at
 * a page boundary and carrying the checkpoint after its last page (a page larger than a batch is
 * split; only its last part is a resume point). Rows are made when a batch is cut, so a field first
 * seen late becomes a new column (`Batch.columns`) and earlier rows get null. On abort, the pages
 * already read are handed over with their checkpoint and the read ends.
 */
import type { Batch, Context, Stream, StreamState } from '@datakit/core';
import { DatakitError } from '@datakit/core';
import { ColumnSet } from './columns.js';
import type { RestKitConfig } from './config.js';
import { loadDefinition } from './definition/load.js';
import { Extractor } from './extract.js';
import { AbortedError } from './http/client.js';
import type { JsonValue } from './json.js';
import { openSession } from './session.js';
import { parseState, snapshot, type RestState } from './state.js';

/** Read one stream as batches (see the module comment). */
export async function* readStream(ctx: Context, config: RestKitConfig, stream: Stream, stored: StreamState | undefined): AsyncGenerator<Batch> {
  const loaded = loadDefinition(config);
  const def = loaded.streams.get(stream.name);
  if (!def) throw new DatakitError('CONFIG.UNKNOWN_STREAM', `the API definition has no stream "${stream.name}"`, { where: { kit: 'rest' } });
  const state: RestState = parseState(stream.name, stored);
  const columns = new ColumnSet(def.columns, state.columns);
  let announced = stream.columns.length;
  const http = openSession(loaded, config, ctx);
  const batchSize = Math.max(1, ctx.batchSize);
  let pending: JsonValue[] = [];
  let lastPage = 0;

  const cut = (records: JsonValue[], withCheckpoint: boolean): Batch => {
    const rows = columns.toRows(records);
    const batch: Batch = { rows };
    if (columns.width > announced) {
      batch.columns = columns.columns();
      announced = columns.width;
    }
    if (withCheckpoint) batch.checkpoint = snapshot(state, columns.stored());
    return batch;
  };
  /** Pending records as batches; all but the last part of an oversized page carry no checkpoint. */
  function* flush(): Generator<Batch> {
    while (pending.length > batchSize) {
      yield cut(pending.slice(0, batchSize), false);
      pending = pending.slice(batchSize);
    }
    const records = pending;
    pending = [];
    yield cut(records, true);
  }

  try {
    const extractor = new Extractor({ loaded, http, ctx }, def, state);
    for await (const records of extractor.events()) {
      for (const r of records) pending.push(r);
      lastPage = Math.max(lastPage, records.length);
      // cut now if the next page (about as large as this one) would not fit
      if (pending.length + lastPage > batchSize) yield* flush();
    }
    yield* flush(); // the final checkpoint (cursor advanced, progress cleared), with or without rows
  } catch (e) {
    if (e instanceof AbortedError || ctx.signal.aborted) {
      if (pending.length) yield* flush();
      return;
    }
    throw e;
  } finally {
    http.close();
  }
}
