/**
 * The pages of a stream as a lazy sequence of record lists, with the checkpoint (`RestState`)
 * updated *before* each list is handed out: when the consumer holds a page, the state says where the
 * read continues after it. A stream is one partition, or one per parent record (child streams);
 * a partition is paged through once, or window by window.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from '@datakit/core';
import { addDuration, compareCursor, cursorInstant, cursorParam, formatInstant, instantOf, isoOf, parseDuration } from './cursor.js';
import type { LoadedDefinition } from './definition/load.js';
import type { IncrementalDefinition, StreamDefinition } from './definition/schema.js';
import { bodyError } from './errors.js';
import { fetchPage } from './fetch-page.js';
import { inOrder } from './in-order.js';
import { AbortedError, type HttpClient } from './http/client.js';
import { isJsonObject, type JsonValue } from './json.js';
import { createPaginator, type PagePosition } from './paginate.js';
import { buildRequest, fieldText, keyOf, type RangeParams, type Vars } from './request.js';
import { MAX_BOUNDARY_KEYS, type CursorState, type Progress, type RestState } from './state.js';

/** What a read needs. */
export interface ReadRun {
  loaded: LoadedDefinition;
  http: HttpClient;
  ctx: Context;
}

/** A page's records and the checkpoint change it makes, applied when the page is handed out. */
interface PageEvent {
  records: JsonValue[];
  apply: () => void;
}

interface PageOut {
  records: JsonValue[];
  next: PagePosition | undefined;
  pages: number;
}

/** 32-bit FNV-1a, to split parents across `--partition i/n`. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const primaryKey = (s: StreamDefinition): string[] => (s.primary_key === undefined ? [] : Array.isArray(s.primary_key) ? s.primary_key : [s.primary_key]);

/** Reads one stream's pages, keeping its checkpoint current. */
export class Extractor {
  constructor(
    private readonly run: ReadRun,
    private readonly def: StreamDefinition,
    private readonly st: RestState,
  ) {}

  /** Record lists, page by page; the state is current whenever one is handed out. */
  async *events(): AsyncGenerator<JsonValue[]> {
    const part = this.run.ctx.partition;
    if (!this.def.parent) {
      if (part && part.count > 1 && part.index !== 0) return; // one process reads a root stream
      for await (const ev of this.partition({}, this.st, this.st.progress, undefined, () => undefined)) {
        ev.apply();
        yield ev.records;
      }
      return;
    }
    const { alias, includeFields } = { alias: this.def.parent.as, includeFields: this.def.parent.include_fields ?? [] };
    const parentDef = this.run.loaded.streams.get(this.def.parent.stream)!;
    const parents = (this.st.parents ??= {});
    if (!this.st.pass) {
      this.st.pass = randomUUID().slice(0, 8);
      delete this.st.progress;
    }
    const pass = this.st.pass;
    const resume = this.st.progress;
    // the children of up to `concurrency` parents are fetched at once; pages are applied in order
    const partitions = async function* (this: Extractor): AsyncGenerator<() => AsyncIterable<PageEvent>> {
      for await (const { record, vars } of this.records(parentDef, {})) {
        const key = this.parentKey(parentDef, record);
        if (part && part.count > 1 && hash(key) % part.count !== part.index) continue;
        const entry = (parents[key] ??= {});
        if (entry.pass === pass) continue;
        const progress = resume?.key === key ? resume : undefined;
        const extra: Record<string, JsonValue> = {};
        for (const f of includeFields) extra[`_${alias}_${f.replace(/\W/g, '_')}`] = (isJsonObject(record) ? record[f] : undefined) ?? null;
        yield () => this.partition({ ...vars, [alias]: record }, entry, progress, key, () => (entry.pass = pass), includeFields.length ? extra : undefined);
      }
    }.call(this);
    for await (const ev of inOrder(partitions, this.run.loaded.api.rate_limit.concurrency, 2)) {
      ev.apply();
      yield ev.records;
    }
    for (const [k, e] of Object.entries(parents)) {
      delete e.pass;
      if (e.cursor === undefined && !e.keys) delete parents[k];
    }
    delete this.st.pass;
    delete this.st.progress;
    yield [];
  }

  private parentKey(parentDef: StreamDefinition, record: JsonValue): string {
    const pk = primaryKey(parentDef);
    if (pk.length) return keyOf(record, pk);
    const fields = [...`${this.def.path} ${JSON.stringify(this.def.params ?? {})} ${JSON.stringify(this.def.body ?? {})}`.matchAll(new RegExp(`\\{${this.def.parent!.as}\\.([^{}\\s]+)\\}`, 'g'))].map((m) => m[1]!);
    return fields.length ? keyOf(record, [...new Set(fields)]) : JSON.stringify(record);
  }

  /** Every record of a stream (used for parents: read in full, without incremental settings). */
  private async *records(def: StreamDefinition, vars: Vars): AsyncGenerator<{ record: JsonValue; vars: Vars }> {
    if (def.parent) {
      const parentDef = this.run.loaded.streams.get(def.parent.stream)!;
      for await (const p of this.records(parentDef, vars)) yield* this.records({ ...def, parent: undefined }, { ...p.vars, [def.parent.as]: p.record });
      return;
    }
    for await (const page of this.pages(def, vars, undefined, undefined, 0)) for (const record of page.records) yield { record, vars };
  }

  /** Pages of one request sequence, from `pos`. */
  private async *pages(def: StreamDefinition, vars: Vars, range: RangeParams | undefined, pos: PagePosition | undefined, pagesBefore: number): AsyncGenerator<PageOut> {
    const api = this.run.loaded.api;
    const paginator = createPaginator(def.pagination ?? api.pagination);
    const fmt = { format: def.response_format, selector: def.record_selector ?? api.record_selector };
    const secretParams = this.run.http.auth?.secretParams ?? [];
    let n = pagesBefore;
    for (;;) {
      if (this.run.ctx.signal.aborted) throw new AbortedError();
      const req = buildRequest({ api, stream: def, vars, paginator, page: paginator.request(pos), ...(range ? { range } : {}), pageNumber: n + 1 });
      const page = await fetchPage(this.run.http, req, fmt);
      n += 1;
      let next = paginator.next(pos, page);
      if (next && paginator.maxPages !== undefined && n >= paginator.maxPages) next = undefined;
      if (next && JSON.stringify(next) === JSON.stringify(pos)) throw bodyError(page.where, 'pagination does not advance: the next page is the page just read');
      if (next && 'url' in next && secretParams.length) {
        const u = new URL(next.url);
        for (const p of secretParams) u.searchParams.delete(p); // never store a secret in state; auth adds it back
        next = { url: u.toString() };
      }
      this.run.ctx.logger.debug({ page: n, records: page.records.length, url: page.where.url, more: next !== undefined }, 'page read');
      yield { records: page.records, next, pages: n };
      if (!next) return;
      pos = next;
    }
  }

  /**
   * One partition (the root, or one parent), windowed or not. Each page comes with the state change
   * it makes (`apply`), run by the consumer in order; `done` runs when the partition completes.
   */
  private async *partition(vars: Vars, cs: CursorState, progress: Progress | undefined, key: string | undefined, done: () => void, extra?: Record<string, JsonValue>): AsyncGenerator<PageEvent> {
    const inc = this.def.incremental;
    const complete = (): void => {
      delete this.st.progress;
      done();
    };
    const decorate = (records: JsonValue[]): JsonValue[] => (extra ? records.map((r) => (isJsonObject(r) ? { ...r, ...extra } : r)) : records);
    if (inc?.window) {
      for await (const ev of this.windows(inc, vars, cs, progress, key, complete)) yield { records: decorate(ev.records), apply: ev.apply };
      return;
    }
    const fmt = inc?.format ?? 'raw';
    const lookback = inc?.lookback ? parseDuration(inc.lookback) : undefined;
    const from = progress ? progress.from : cs.cursor !== undefined ? cursorParam(cs.cursor, fmt, lookback) : inc?.start !== undefined ? cursorParam(inc.start, fmt) : undefined;
    const range: RangeParams | undefined = inc?.cursor_param && from !== undefined ? { in: inc.in, params: { [inc.cursor_param]: from } } : undefined;
    const fromUs = from !== undefined ? (cursorInstant(from, fmt) ?? instantOf(from)) : undefined;
    const pk = primaryKey(this.def);
    const boundary = cs.cursor !== undefined && cs.keys?.length && pk.length ? new Set(cs.keys) : undefined;
    let max = progress?.max;
    let maxKeys = progress?.maxKeys ?? [];
    const pageVars = from !== undefined ? { ...vars, incremental: { start: from } } : vars;
    for await (const page of this.pages(this.def, pageVars, range, progress?.page, progress?.pages ?? 0)) {
      let records = page.records;
      if (inc) {
        const kept: JsonValue[] = [];
        for (const r of records) {
          const v = fieldText(r, inc.cursor_field);
          if (v !== undefined) {
            if (inc.filter && from !== undefined && this.before(v, from, fromUs, fmt)) continue;
            if (boundary && compareCursor(v, cs.cursor!) === 0 && boundary.has(keyOf(r, pk))) continue;
            const c = max === undefined ? 1 : compareCursor(v, max);
            if (c > 0) {
              max = v;
              maxKeys = pk.length ? [keyOf(r, pk)] : [];
            } else if (c === 0 && pk.length && maxKeys.length <= MAX_BOUNDARY_KEYS) maxKeys.push(keyOf(r, pk));
          }
          kept.push(r);
        }
        records = kept;
      }
      const [next, pages, seenMax, seenKeys] = [page.next, page.pages, max, [...maxKeys]];
      const apply = (): void => {
        if (next) {
          this.st.progress = { ...(key !== undefined ? { key } : {}), ...(from !== undefined ? { from } : {}), page: next, pages, ...(seenMax !== undefined ? { max: seenMax, maxKeys: seenKeys } : {}) };
          return;
        }
        if (seenMax !== undefined) {
          const c = cs.cursor === undefined ? 1 : compareCursor(seenMax, cs.cursor);
          const keys = c === 0 ? [...new Set([...(cs.keys ?? []), ...seenKeys])] : seenKeys;
          if (c >= 0) {
            cs.cursor = seenMax;
            if (keys.length && keys.length <= MAX_BOUNDARY_KEYS) cs.keys = keys;
            else delete cs.keys;
          }
        }
        complete();
      };
      yield { records: decorate(records), apply };
    }
  }

  private before(value: string, from: string, fromUs: bigint | undefined, fmt: string): boolean {
    const us = fromUs !== undefined ? (instantOf(value) ?? cursorInstant(value, fmt)) : undefined;
    return us !== undefined && fromUs !== undefined ? us < fromUs : compareCursor(value, from) < 0;
  }

  private async *windows(inc: IncrementalDefinition, vars: Vars, cs: CursorState, progress: Progress | undefined, key: string | undefined, complete: () => void): AsyncGenerator<PageEvent> {
    const w = inc.window!;
    const fmt = inc.format;
    const step = parseDuration(w.step);
    const lookback = inc.lookback ? parseDuration(inc.lookback) : undefined;
    const untilUs = progress?.until !== undefined ? instantOf(progress.until)! : w.end === 'now' ? BigInt(Date.now()) * 1000n : instantOf(w.end);
    const startUs = progress?.window !== undefined ? instantOf(progress.window) : cs.cursor !== undefined ? cursorInstant(cs.cursor, fmt) : instantOf(inc.start!);
    if (untilUs === undefined || startUs === undefined) throw new RangeError(`incremental window of stream ${this.def.name}: start, end or the stored cursor is not a timestamp`);
    const until = isoOf(untilUs);
    let ws = progress?.window !== undefined || !lookback || cs.cursor === undefined ? startUs : addDuration(startUs, lookback, -1);
    let pos = progress?.page;
    let pagesBefore = progress?.pages ?? 0;
    const base = key !== undefined ? { key } : {};
    let read = false;
    while (ws < untilUs) {
      let we = addDuration(ws, step);
      if (we > untilUs || we <= ws) we = untilUs;
      const [s, e] = [formatInstant(ws, fmt), formatInstant(we, fmt)];
      const params: Record<string, string> = {};
      if (inc.cursor_param) params[inc.cursor_param] = s;
      if (inc.end_param) params[inc.end_param] = e;
      for await (const page of this.pages(this.def, { ...vars, incremental: { start: s, end: e } }, { in: inc.in, params }, pos, pagesBefore)) {
        const [from, to] = [ws, we];
        const records = inc.filter ? page.records.filter((r) => this.inWindow(fieldText(r, inc.cursor_field), from, to, fmt)) : page.records;
        const { next, pages } = page;
        read = true;
        yield {
          records,
          apply: () => {
            if (next) this.st.progress = { ...base, until, window: isoOf(from), page: next, pages };
            else if (to < untilUs) this.st.progress = { ...base, until, window: isoOf(to), pages: 0 };
            else {
              cs.cursor = fmt === 'epoch_seconds' || fmt === 'epoch_millis' ? formatInstant(untilUs, fmt) : until;
              delete cs.keys;
              complete();
            }
          },
        };
      }
      ws = we;
      pos = undefined;
      pagesBefore = 0;
    }
    if (!read) yield { records: [], apply: complete }; // no window to read: the partition is done
  }

  private inWindow(value: string | undefined, ws: bigint, we: bigint, fmt: string): boolean {
    if (value === undefined) return true;
    const us = instantOf(value) ?? cursorInstant(value, fmt);
    return us === undefined || (us >= ws && us < we);
  }
}
