/// <reference types="jest" />
/**
 * Shared plumbing of the contract suite: the options with defaults, the golden rows, fresh targets,
 * and the comparisons every case uses.
 */
import { join } from 'node:path';
import type { Column, Stream } from '@datakit/core';
import type { CanonicalRow, ReadBack } from '../read-back.ts';
import { jsonbTexts } from '../read-back.ts';
import { runInProcess, type CliResult } from './cli.ts';
import { diffRows, keyMultisetDiff, readGolden } from './golden.ts';
import { openTarget, type TargetHandle } from './targets.ts';
import type { ContractSource, ContractStream, ContractTarget, KitContractOptions } from './types.ts';

/** What every case gets. */
export interface Suite<C> {
  opts: KitContractOptions<C>;
  targets: readonly ContractTarget[];
  /** The read-only source (created in the suite's `beforeAll`). */
  source(): ContractSource;
  stream(name: string): ContractStream;
  /** Golden rows of a fixture stream. */
  golden(name: string): CanonicalRow[];
  /** The columns `discover` reports for a stream (one discover per suite, cached). */
  declaredColumns(name: string): Promise<Column[]>;
  /** Run `fn` with a fresh target, closed afterwards. */
  withTarget<T>(kind: ContractTarget, fn: (t: TargetHandle) => Promise<T>): Promise<T>;
  /** `run <streams>` in-process. */
  run(env: Record<string, string>, streams: string[], opts?: { signal?: AbortSignal; args?: string[] }): Promise<CliResult>;
}

export function createSuite<C>(opts: KitContractOptions<C>, source: () => ContractSource): Suite<C> {
  const goldens = new Map<string, CanonicalRow[]>();
  let catalog: Promise<Stream[]> | undefined;
  const stream = (name: string): ContractStream => {
    const s = opts.fixtures.streams.find((x) => x.name === name);
    if (!s) throw new Error(`contract fixtures: stream ${JSON.stringify(name)} is not in fixtures.streams`);
    return s;
  };
  return {
    opts,
    targets: opts.targets ?? ['parquet', 'warehouse'],
    source,
    stream,
    golden(name) {
      let rows = goldens.get(name);
      if (!rows) {
        const s = stream(name);
        rows = readGolden(join(opts.fixtures.dir, s.golden ?? join('expected', `${name}.jsonl`)));
        goldens.set(name, rows);
      }
      return rows;
    },
    async declaredColumns(name) {
      catalog ??= runInProcess(opts.kit, ['discover'], source().env).then((r) => {
        expectExit(r, 0);
        return (r.json as { streams: Stream[] }).streams;
      });
      const found = (await catalog).find((x) => x.name === name);
      if (!found) throw new Error(`discover does not list the fixture stream ${JSON.stringify(name)}`);
      return found.columns;
    },
    async withTarget(kind, fn) {
      const t = await openTarget(kind, opts.kit.name, opts.warehouseServerUrl?.() ?? process.env.DATAKIT_TEST_PG_URL);
      try {
        return await fn(t);
      } finally {
        await t.close();
      }
    },
    run(env, streams, o = {}) {
      return runInProcess(opts.kit, ['run', ...(o.args ?? []), ...streams], env, o.signal ? { signal: o.signal } : {});
    },
  };
}

/**
 * Expected rows as the target stores them. Only a warehouse `jsonb` column the kit left to core's
 * default (a logical `json` column without a `warehouseType`) is compared through `jsonb`'s
 * normalisation (key order, whitespace, duplicate keys); a column whose kit declared its warehouse
 * type — `json` to keep the text, `jsonb` — must hold the golden text exactly.
 */
export async function asStoredBy(t: TargetHandle, expected: CanonicalRow[], got: ReadBack, declared: readonly Column[]): Promise<CanonicalRow[]> {
  if (t.kind !== 'warehouse') return expected;
  const kept = new Set(declared.filter((c) => c.warehouseType !== undefined).map((c) => c.name));
  const jsonCols = got.columns.filter((c) => c.type === 'jsonb' && !kept.has(c.name)).map((c) => c.name);
  if (!jsonCols.length) return expected;
  const out = expected.map((r) => ({ ...r }));
  for (const c of jsonCols) {
    const texts = out.map((r) => (typeof r[c] === 'string' ? (r[c] as string) : null));
    const normal = await jsonbTexts(t.env.BRONZE_URL!, texts);
    out.forEach((r, i) => {
      if (typeof r[c] === 'string') r[c] = normal[i]!;
    });
  }
  return out;
}

/** Warehouse columns whose type is not the `warehouseType` the kit declared for them. */
export function warehouseTypeProblems(t: TargetHandle, got: ReadBack, declared: readonly Column[]): string[] {
  if (t.kind !== 'warehouse') return [];
  return declared.flatMap((c) => {
    if (c.warehouseType === undefined) return [];
    const landed = got.columns.find((x) => x.name === c.name)?.type;
    return landed === c.warehouseType ? [] : [`column ${c.name}: declared warehouse type ${c.warehouseType}, landed as ${String(landed)}`];
  });
}

/** Differences between golden rows and what the target holds (empty when exact), declared warehouse types included. */
export async function compareWithGolden(t: TargetHandle, expected: CanonicalRow[], got: ReadBack, declared: readonly Column[], key?: readonly string[]): Promise<string[]> {
  return [...warehouseTypeProblems(t, got, declared), ...diffRows(await asStoredBy(t, expected, got, declared), got.rows, key)];
}

/** Keys (canonical strings) of a stream in a target. */
export async function keysIn(t: TargetHandle, stream: string, key: string): Promise<string[]> {
  const r = await t.read(stream, [key]);
  return r.rows.map((row) => String(row[key]));
}

/** Assert a key multiset: nothing lost, nothing doubled, nothing unexpected. */
export function expectExactKeys(expected: readonly string[], actual: readonly string[]): void {
  const d = keyMultisetDiff(expected, actual);
  expect({ rows: actual.length, lost: d.lost, doubled: d.doubled, unexpected: d.unexpected, examples: d.examples }).toEqual({
    rows: expected.length,
    lost: 0,
    doubled: 0,
    unexpected: 0,
    examples: [],
  });
}

/** Expect a CLI result's exit code, showing what it printed when it differs. */
export function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) {
    // the whole output in the failure message: what the CLI said is the diagnosis
    const tail = (t: string): string => (t.length > 4000 ? `…${t.slice(-4000)}` : t);
    throw new Error(`expected exit code ${code}, got ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
}

/** Fail when a secret appears anywhere in the text. */
export function expectNoSecrets(text: string, secrets: readonly string[]): void {
  const leaked = secrets.filter((s) => s && (text.includes(s) || text.includes(encodeURIComponent(s))));
  expect(leaked).toEqual([]);
}
