/// <reference types="jest" />
/**
 * Shared plumbing of the contract suite: the options with defaults, the golden rows, fresh targets,
 * and the comparisons every case uses.
 */
import { join } from 'node:path';
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
  /** Run `fn` with a fresh target, closed afterwards. */
  withTarget<T>(kind: ContractTarget, fn: (t: TargetHandle) => Promise<T>): Promise<T>;
  /** `run <streams>` in-process. */
  run(env: Record<string, string>, streams: string[], opts?: { signal?: AbortSignal; args?: string[] }): Promise<CliResult>;
}

export function createSuite<C>(opts: KitContractOptions<C>, source: () => ContractSource): Suite<C> {
  const goldens = new Map<string, CanonicalRow[]>();
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

/** Expected rows as the target stores them: a warehouse `jsonb` column normalises JSON text. */
export async function asStoredBy(t: TargetHandle, expected: CanonicalRow[], got: ReadBack): Promise<CanonicalRow[]> {
  if (t.kind !== 'warehouse') return expected;
  const jsonCols = got.columns.filter((c) => c.type === 'jsonb').map((c) => c.name);
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

/** Differences between golden rows and what the target holds (empty when exact). */
export async function compareWithGolden(t: TargetHandle, expected: CanonicalRow[], got: ReadBack, key?: readonly string[]): Promise<string[]> {
  return diffRows(await asStoredBy(t, expected, got), got.rows, key);
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
