/**
 * The `pagination` section of a stream (or the API's default for every stream).
 */
import { z } from 'zod';

const maxPages = z.number().int().positive().optional().meta({ description: 'Stop after this many pages (a safety net).' });
const paramIn = z.enum(['query', 'body']).default('query').meta({ description: 'Send the paging parameters in the query string or the JSON body.' });
const jsonPath = z.string().min(1);
const stopOnShortPage = z
  .boolean()
  .default(false)
  .meta({ description: 'Stop when a page has fewer records than the page size (saves the final empty request; only safe when the API never returns short pages early).' });

const stopOnEmptyPage = z
  .boolean()
  .default(true)
  .meta({ description: 'Stop on a page without records even when it names a next page. Set false for APIs that return empty pages mid-stream (e.g. filtering after paging).' });

/**
 * Every pagination style. Each stops when there is no next page, and on an empty page: always for
 * offset and page_number (the position would not advance), by default for the token and URL styles
 * (`stop_on_empty_page: false` follows the next page anyway).
 */
export const paginationSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('offset'),
      limit: z.number().int().positive().meta({ description: 'Records per page, sent as limit_param.' }),
      offset_param: z.string().min(1).default('offset'),
      limit_param: z.string().min(1).default('limit'),
      start: z.number().int().min(0).default(0),
      total_path: jsonPath.optional().meta({ description: 'JSONPath of the total record count in the body: stop once reached.' }),
      stop_on_short_page: stopOnShortPage,
      in: paramIn,
      max_pages: maxPages,
    }),
    z.strictObject({
      type: z.literal('page_number'),
      page_param: z.string().min(1).default('page'),
      start: z.number().int().min(0).default(1),
      page_size: z.number().int().positive().optional(),
      page_size_param: z.string().min(1).optional().meta({ description: 'Parameter receiving page_size, e.g. per_page.' }),
      total_pages_path: jsonPath.optional().meta({ description: 'JSONPath of the page count in the body: stop after that page.' }),
      total_path: jsonPath.optional().meta({ description: 'JSONPath of the total record count: stop once reached.' }),
      stop_on_short_page: stopOnShortPage,
      in: paramIn,
      max_pages: maxPages,
    }),
    z.strictObject({
      type: z.literal('cursor'),
      cursor_param: z.string().min(1).meta({ description: 'Parameter receiving the token, e.g. cursor or starting_after.' }),
      cursor_path: jsonPath.optional().meta({ description: 'JSONPath of the next token in the body, e.g. $.meta.next_cursor.' }),
      cursor_from_last_record: z.string().min(1).optional().meta({ description: "Use this field of the page's last record as the token (Stripe's starting_after=id)." }),
      has_more_path: jsonPath.optional().meta({ description: 'JSONPath of a boolean that is false on the last page, e.g. $.has_more.' }),
      in: paramIn,
      stop_on_empty_page: stopOnEmptyPage,
      max_pages: maxPages,
    }),
    z.strictObject({
      type: z.literal('next_url'),
      next_url_path: jsonPath.meta({ description: 'JSONPath of the next page URL (absolute or relative) in the body, e.g. $.links.next.' }),
      stop_on_empty_page: stopOnEmptyPage,
      max_pages: maxPages,
    }),
    z.strictObject({
      type: z.literal('link_header'),
      rel: z.string().min(1).default('next').meta({ description: 'RFC 8288 relation of the next page in the Link header.' }),
      stop_on_empty_page: stopOnEmptyPage,
      max_pages: maxPages,
    }),
    z.strictObject({
      type: z.literal('header_token'),
      header: z.string().min(1).meta({ description: 'Response header carrying the next token, e.g. X-Next-Page-Token.' }),
      cursor_param: z.string().min(1).meta({ description: 'Parameter receiving the token.' }),
      in: paramIn,
      stop_on_empty_page: stopOnEmptyPage,
      max_pages: maxPages,
    }),
  ])
  .superRefine((p, ctx) => {
    if (p.type === 'cursor' && !p.cursor_path === !p.cursor_from_last_record) {
      ctx.addIssue({ code: 'custom', path: ['cursor_path'], message: 'set exactly one of cursor_path and cursor_from_last_record' });
    }
    if (p.type === 'page_number' && p.page_size_param && p.page_size === undefined) {
      ctx.addIssue({ code: 'custom', path: ['page_size'], message: 'page_size_param needs page_size' });
    }
  })
  .meta({ description: 'How to request the next page.' });

export type PaginationDefinition = z.output<typeof paginationSchema>;
