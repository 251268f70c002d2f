/**
 * The API definition (`REST_CONFIG=/path/api.yaml`): one YAML or JSON file describing the API and
 * its streams. Published as JSON Schema in `schema/api-definition.schema.json` (generated from this
 * zod schema), so editors validate and complete it.
 */
import { z } from 'zod';
import { authSchema } from './auth.js';
import { paginationSchema } from './pagination.js';

/** `P1D`, `PT1H30M`, `P1M`, or the short forms `7d`, `12h`, `30m`, `45s`. */
export const DURATION_RE = /^(?:P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?!$)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?|\d+[wdhms])$/;
const duration = z.string().regex(DURATION_RE, 'expected an ISO 8601 duration (P1D, PT1H) or 7d/12h/30m/45s');

/** Column types a definition may declare (anything else is inferred from the values). */
export const COLUMN_TYPE_RE = /^(string|int64|float64|boolean|json|timestamptz|timestamp|date|decimal\(\d{1,2},\d{1,2}\))$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const params = z.record(z.string(), scalar);
const headers = z.record(z.string(), z.string());

/** Incremental reads: a cursor from the records, sent back on the next run. */
export const incrementalSchema = z
  .strictObject({
    cursor_field: z.string().min(1).meta({ description: 'Record field holding the cursor (dotted path), e.g. updated_at.' }),
    cursor_param: z.string().min(1).optional().meta({ description: 'Parameter receiving the start of the range (the stored cursor, or the window start).' }),
    end_param: z.string().min(1).optional().meta({ description: 'Parameter receiving the end of the range (window end).' }),
    in: z.enum(['query', 'body']).default('query'),
    format: z
      .string()
      .min(1)
      .default('raw')
      .meta({ description: 'How cursor values are sent: raw (as the API gave it), iso8601, iso8601_ms, epoch_seconds, epoch_millis, date, or a strftime pattern (%Y-%m-%dT%H:%M:%SZ).' }),
    start: z.string().min(1).optional().meta({ description: 'Cursor value of the first run (e.g. 2024-01-01T00:00:00Z).' }),
    lookback: duration.optional().meta({ description: 'Re-read this far behind the stored cursor (late-arriving updates; re-read rows are duplicates by design).' }),
    window: z
      .strictObject({
        step: duration.meta({ description: 'Window length, e.g. P1D.' }),
        end: z.string().min(1).default('now').meta({ description: 'Last window end: now (at the start of the run) or a timestamp.' }),
      })
      .optional()
      .meta({ description: 'Read in date windows [start, start+step) from the cursor to end; the cursor advances per completed window.' }),
    filter: z.boolean().default(false).meta({ description: 'Also drop records older than the requested cursor on our side (for APIs that ignore the parameter).' }),
  })
  .meta({ description: 'Incremental extraction settings. The cursor advances only after the rows are stored in bronze.' });

/** A parent stream whose records fill this stream's placeholders. */
export const parentSchema = z.strictObject({
  stream: z.string().min(1).meta({ description: 'Name of the parent stream.' }),
  as: z.string().regex(/^[A-Za-z_][\w]*$/).default('parent').meta({ description: 'Placeholder prefix: {parent.id} by default, {customer.id} with as: customer.' }),
  include_fields: z.array(z.string().min(1)).optional().meta({ description: 'Parent fields copied into each child row as _<as>_<field>.' }),
});

/** One stream: an endpoint and how to page, select and increment it. */
export const streamSchema = z.strictObject({
  name: z.string().min(1).meta({ description: 'Stream name (run <name>, bronze folder/table name).' }),
  path: z.string().min(1).meta({ description: 'Path relative to base_url (or an absolute URL); may contain {parent.field} placeholders.' }),
  method: z.enum(['GET', 'POST']).default('GET'),
  params: params.optional().meta({ description: 'Query parameters (merged over the API defaults); values may contain placeholders.' }),
  headers: headers.optional(),
  body: z.record(z.string(), z.unknown()).optional().meta({ description: 'JSON body for POST; string values may contain placeholders.' }),
  record_selector: z.string().min(1).optional().meta({ description: 'JSONPath of the records, e.g. $.data[*]. Default: the API default, else the body when it is an array.' }),
  primary_key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  pagination: paginationSchema.optional(),
  incremental: incrementalSchema.optional(),
  parent: parentSchema.optional(),
  response_format: z.enum(['auto', 'json', 'ndjson']).default('auto').meta({ description: 'auto: from the Content-Type (application/x-ndjson, application/jsonl → ndjson).' }),
  columns: z
    .record(z.string(), z.string().regex(COLUMN_TYPE_RE, 'expected string, int64, float64, boolean, json, timestamptz, timestamp, date or decimal(p,s)'))
    .optional()
    .meta({ description: 'Declared column types (first, in this order); other fields are inferred from the values.' }),
});

/** The whole API definition. */
export const apiDefinitionSchema = z
  .strictObject({
    $schema: z.string().optional(),
    // the pattern carries the http(s)-only rule into the published JSON Schema (`protocol` does not)
    base_url: z
      .url({ protocol: /^https?$/ })
      .regex(/^https?:\/\/[^\s/?#]+/i, 'expected an http:// or https:// URL')
      .meta({ description: 'Base URL (http or https); stream paths are relative to it.' }),
    headers: headers.optional().meta({ description: 'Headers sent on every request.' }),
    params: params.optional().meta({ description: 'Query parameters sent on every request.' }),
    auth: authSchema.default({ type: 'none' }),
    pagination: paginationSchema.optional().meta({ description: 'Default pagination of every stream.' }),
    record_selector: z.string().min(1).optional().meta({ description: 'Default record selector of every stream.' }),
    rate_limit: z
      .strictObject({
        requests_per_second: z.number().positive().optional().meta({ description: 'Never start more requests than this per second (evenly spaced).' }),
        concurrency: z.number().int().positive().default(1).meta({ description: 'Never have more requests than this in flight.' }),
        max_wait_seconds: z.number().positive().default(900).meta({ description: "Longest total wait per request on the server's Retry-After / RateLimit-Reset before giving up." }),
        respect_headers: z.boolean().default(true).meta({ description: 'Pause when RateLimit-Remaining / X-RateLimit-Remaining reaches 0, until the reset.' }),
      })
      .default({ concurrency: 1, max_wait_seconds: 900, respect_headers: true }),
    retry: z
      .strictObject({
        max_retries: z.number().int().min(0).optional().meta({ description: 'Retries per request (network errors, 5xx, 429). Default: MAX_RETRIES.' }),
        backoff_base_ms: z.number().int().positive().default(500),
        backoff_max_ms: z.number().int().positive().default(30_000),
      })
      .default({ backoff_base_ms: 500, backoff_max_ms: 30_000 }),
    timeout_seconds: z.number().positive().default(60).meta({ description: 'Longest time one request (connect + response) may take.' }),
    check_stream: z.string().min(1).optional().meta({ description: 'Stream whose first page `check` requests. Default: the first stream without a parent.' }),
    streams: z.array(streamSchema).min(1),
  })
  .superRefine((api, ctx) => {
    const names = new Map<string, number>();
    api.streams.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['streams', i, 'name'], message: `duplicate stream name "${s.name}"` });
      names.set(s.name, i);
    });
    api.streams.forEach((s, i) => {
      if (s.parent && !names.has(s.parent.stream)) ctx.addIssue({ code: 'custom', path: ['streams', i, 'parent', 'stream'], message: `no stream named "${s.parent.stream}"` });
      const inc = s.incremental;
      if (inc?.window && !inc.start) ctx.addIssue({ code: 'custom', path: ['streams', i, 'incremental', 'start'], message: 'a windowed stream needs start' });
      if (inc?.end_param && !inc.window) ctx.addIssue({ code: 'custom', path: ['streams', i, 'incremental', 'end_param'], message: 'end_param needs window' });
    });
    api.streams.forEach((s, i) => {
      const seen = new Set([s.name]);
      for (let p = s.parent?.stream; p !== undefined; p = api.streams[names.get(p) ?? -1]?.parent?.stream) {
        if (seen.has(p)) {
          ctx.addIssue({ code: 'custom', path: ['streams', i, 'parent', 'stream'], message: `parent chain loops back to "${p}"` });
          break;
        }
        seen.add(p);
      }
    });
    if (api.check_stream && !names.has(api.check_stream)) ctx.addIssue({ code: 'custom', path: ['check_stream'], message: `no stream named "${api.check_stream}"` });
  });

export type ApiDefinition = z.output<typeof apiDefinitionSchema>;
export type StreamDefinition = z.output<typeof streamSchema>;
export type IncrementalDefinition = z.output<typeof incrementalSchema>;
