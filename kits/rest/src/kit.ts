/**
 * The rest kit: declarative HTTP API extraction. `REST_CONFIG` names an API definition (YAML/JSON)
 * with the base URL, auth, rate limits and streams; see docs/kits/rest.md.
 */
import { createRequire } from 'node:module';
import { defineKit, type Context } from '@datakit/core';
import { restConfig, type RestKitConfig } from './config.js';
import { loadDefinition } from './definition/load.js';
import { discoverStreams } from './discover.js';
import { fetchPage } from './fetch-page.js';
import { createPaginator } from './paginate.js';
import { readStream } from './read.js';
import { addDuration, cursorParam, formatInstant, instantOf, parseDuration } from './cursor.js';
import type { StreamDefinition } from './definition/schema.js';
import { buildRequest, type RangeParams } from './request.js';
import { openSession } from './session.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The incremental parameters of a first run (the first window, for windowed streams). */
function checkRange(def: StreamDefinition): RangeParams | undefined {
  const inc = def.incremental;
  if (!inc?.start) return undefined;
  const params: Record<string, string> = {};
  const start = instantOf(inc.start);
  if (inc.window && start !== undefined) {
    if (inc.cursor_param) params[inc.cursor_param] = formatInstant(start, inc.format);
    if (inc.end_param) params[inc.end_param] = formatInstant(addDuration(start, parseDuration(inc.window.step)), inc.format);
  } else if (inc.cursor_param) params[inc.cursor_param] = cursorParam(inc.start, inc.format);
  return Object.keys(params).length ? { in: inc.in, params } : undefined;
}

/**
 * Prove the definition is valid, the credentials work (an OAuth2 token is obtained) and the check
 * stream's first page reads as records.
 */
async function check(ctx: Context, config: RestKitConfig): Promise<void> {
  const loaded = loadDefinition(config);
  const api = loaded.api;
  const def = api.check_stream ? loaded.streams.get(api.check_stream)! : api.streams.find((s) => !s.parent);
  const http = openSession(loaded, config, ctx);
  try {
    if (!def) {
      // every stream has a parent (cycles are rejected), so this cannot happen; keep the type narrow
      return;
    }
    const paginator = createPaginator(def.pagination ?? api.pagination);
    const range = checkRange(def);
    const req = buildRequest({ api, stream: def, vars: {}, paginator, page: paginator.request(undefined), ...(range ? { range } : {}), pageNumber: 1 });
    const page = await fetchPage(http, req, { format: def.response_format, selector: def.record_selector ?? api.record_selector });
    ctx.logger.info({ stream: def.name, records: page.records.length }, 'check: first page read');
  } finally {
    http.close();
  }
}

/** The rest kit. */
export const restKit = defineKit<RestKitConfig>({
  name: 'rest',
  version,
  config: restConfig,
  check,
  discover: async (_ctx, config) => discoverStreams(loadDefinition(config)),
  read: (ctx, config, stream, state) => readStream(ctx, config, stream, state),
});
