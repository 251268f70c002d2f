/// <reference types="jest" />
/**
 * Contract cases that move data: full reads of every fixture stream compared with their golden files,
 * the exact-type table (and its coverage of the type map), and incremental runs resumed from state.
 */
import type { CanonicalRow, ReadBack } from '../read-back.ts';
import type { CliResult } from './cli.ts';
import { compareWithGolden, expectExactKeys, expectExit, keysIn, type Suite } from './suite.ts';
import type { TargetHandle } from './targets.ts';
import type { ContractSource, ContractStream, ContractTarget } from './types.ts';

const META = ['_bronze_loaded_at', '_bronze_source', '_bronze_run_id'];

/** The metadata columns hold one load time, the source name and the run id on every row. */
function metadataProblems(got: ReadBack, source: string, runIds: readonly unknown[]): string[] {
  const names = got.columns.map((c) => c.name);
  const missing = META.filter((m) => !names.includes(m));
  if (missing.length) return [`metadata columns missing: ${missing.join(', ')}`];
  const out = new Set<string>();
  for (const r of got.rows) {
    if (typeof r._bronze_loaded_at !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00$/.test(r._bronze_loaded_at)) out.add(`_bronze_loaded_at is ${String(r._bronze_loaded_at)}`);
    if (r._bronze_source !== source) out.add(`_bronze_source is ${String(r._bronze_source)}`);
    if (!runIds.includes(r._bronze_run_id)) out.add(`_bronze_run_id is ${String(r._bronze_run_id)}, the run was ${runIds.map(String).join(' or ')}`);
  }
  return [...out];
}

/**
 * Run a stream and compare what the target holds with its golden file. `earlier` is the run id of a
 * previous run: an incremental stream keeps its rows (and their run id) when a re-run appends nothing.
 */
async function landAndCompare<C>(s: Suite<C>, t: TargetHandle, name: string, earlier?: unknown): Promise<{ r: CliResult; problems: string[] }> {
  const fx = s.stream(name);
  const r = await s.run({ ...s.source().env, ...(fx.env ?? {}), ...t.env }, [name]);
  expectExit(r, 0);
  const got = await t.read(name);
  const mode = (r.json?.streams as { mode?: string }[] | undefined)?.[0]?.mode;
  const runIds = mode === 'incremental' && earlier !== undefined ? [r.json?.runId, earlier] : [r.json?.runId];
  const problems = [
    ...(await compareWithGolden(t, s.golden(name), got, await s.declaredColumns(name), fx.primaryKey)),
    ...metadataProblems(got, s.opts.kit.name, runIds),
  ];
  return { r, problems };
}

const refusal = (fx: ContractStream, kind: ContractTarget) => fx.refusedBy?.find((r) => r.target === kind);

export function fullReadCases<C>(s: Suite<C>): void {
  const fixtures = s.opts.fixtures.streams.filter((x) => x.name !== s.opts.fixtures.types.stream);
  describe.each(s.targets)('a full read into %s', (kind) => {
    const landed = fixtures.filter((fx) => !refusal(fx, kind)).map((fx) => fx.name);
    const refused = fixtures.flatMap((fx) => {
      const r = refusal(fx, kind);
      return r ? [[fx.name, r.reason, r.columns] as const] : [];
    });
    if (refused.length) {
      it.each(refused)('refuses stream %s (%s) with exit 4 naming the column, altering nothing and making nothing visible', async (name, _reason, columns) => {
        await s.withTarget(kind, async (t) => {
          const r = await s.run({ ...s.source().env, ...(s.stream(name).env ?? {}), ...t.env }, [name]);
          expectExit(r, 4);
          const error = (r.json as { streams?: { error?: { code?: string; message?: string } }[] }).streams?.[0]?.error;
          expect(error?.code).toBe('DATA.INVALID_RECORD');
          expect({ namesStream: error?.message?.includes(name), namesColumn: columns.some((c) => error?.message?.includes(c)) }).toEqual({ namesStream: true, namesColumn: true });
          expect(await t.visible(name)).toBe(false);
        });
      });
    }
    it.each(landed)('lands stream %s exactly as its golden file says, with the metadata columns', async (name) => {
      await s.withTarget(kind, async (t) => {
        const { r, problems } = await landAndCompare(s, t, name);
        expect(problems).toEqual([]);
        expect(r.json).toMatchObject({ status: 'succeeded', rows: s.golden(name).length });
        // a second run replaces a full refresh and appends nothing to an incremental stream: still exactly the golden rows
        const again = await landAndCompare(s, t, name, r.json?.runId);
        expect(again.problems).toEqual([]);
      });
    });
  });
}

export function typeTableCases<C>(s: Suite<C>): void {
  const { types } = s.opts.fixtures;
  describe('the exact-type table', () => {
    it('has a fixture column with a value and a NULL variant for every source type the type map handles', async () => {
      const covered = await types.coveredTypes(s.source());
      const golden = s.golden(types.stream);
      const problems: string[] = [];
      for (const type of types.mappedTypes) {
        const cols = covered[type] ?? [];
        if (!cols.length) {
          problems.push(`${type}: no fixture column`);
          continue;
        }
        const has = (test: (v: CanonicalRow[string]) => boolean): boolean => cols.some((c) => golden.some((row) => c in row && test(row[c]!)));
        if (!has((v) => v !== null)) problems.push(`${type}: no fixture row with a value (columns ${cols.join(', ')})`);
        if (!has((v) => v === null)) problems.push(`${type}: no NULL variant (columns ${cols.join(', ')})`);
      }
      expect(problems).toEqual([]);
    });

    it.each(s.targets)('lands every value of the type fixture exactly in %s', async (kind) => {
      await s.withTarget(kind, async (t) => {
        const { problems } = await landAndCompare(s, t, types.stream);
        expect(problems).toEqual([]);
        if (kind !== 'warehouse' || !types.warehouseTypes) return;
        const landed = new Map((await t.read(types.stream)).columns.map((c) => [c.name, c.type]));
        const wanted = Object.entries(types.warehouseTypes);
        expect(wanted.map(([c]) => [c, landed.get(c)])).toEqual(wanted);
      });
    });
  });
}

export function incrementalCases<C>(s: Suite<C>): void {
  const inc = s.opts.fixtures.incremental;
  describe.each(s.targets)('incremental runs into %s', (kind) => {
    let src: ContractSource;
    beforeAll(async () => {
      src = await s.opts.source(`incremental_${kind}`);
    });
    afterAll(async () => {
      await src?.close();
    });

    it('loads the stream, then appends exactly the new rows (cursor ties included) from the stored state', async () => {
      await s.withTarget(kind, async (t) => {
        const env = { ...src.env, ...inc.env, ...t.env };
        const first = await s.run(env, [inc.stream]);
        expectExit(first, 0);
        const initial = await keysIn(t, inc.stream, inc.key);
        const golden = s.opts.fixtures.streams.some((x) => x.name === inc.stream) ? s.golden(inc.stream).map((r) => String(r[inc.key])) : initial;
        expectExactKeys(golden, initial);
        expect(await t.state(inc.stream)).toMatchObject({ phase: 'live' });

        const added = await inc.appendRows(src, 25);
        const second = await s.run(env, [inc.stream]);
        expectExit(second, 0);
        expect(second.json).toMatchObject({ status: 'succeeded', rows: added.length });
        expectExactKeys([...initial, ...added], await keysIn(t, inc.stream, inc.key));

        const third = await s.run(env, [inc.stream]);
        expectExit(third, 0);
        expect(third.json).toMatchObject({ status: 'succeeded', rows: 0 });
        expectExactKeys([...initial, ...added], await keysIn(t, inc.stream, inc.key));
      });
    });
  });
}
