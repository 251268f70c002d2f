/**
 * `discover`: the streams of the API definition, without a request. Columns are the declared ones
 * (`columns:`); the rest are inferred from the records at run time, appended as they appear (the run
 * report lists them) and kept in the checkpoint so later runs keep their order and types.
 */
import type { Stream } from '@datakit/core';
import { ColumnSet } from './columns.js';
import type { LoadedDefinition } from './definition/load.js';

/** The catalog of a definition. */
export function discoverStreams(loaded: LoadedDefinition): Stream[] {
  return loaded.api.streams.map((s): Stream => {
    const pk = s.primary_key === undefined ? undefined : Array.isArray(s.primary_key) ? s.primary_key : [s.primary_key];
    const inc = s.incremental;
    return {
      name: s.name,
      columns: new ColumnSet(s.columns, undefined).columns(),
      ...(pk ? { primaryKey: pk } : {}),
      ...(inc ? { cursorCandidates: [inc.cursor_field], cursorField: [inc.cursor_field] } : {}),
      syncMode: inc ? 'incremental' : 'full_refresh',
      source: { method: s.method, path: s.path, ...(s.parent ? { parent: s.parent.stream } : {}) },
    };
  });
}
