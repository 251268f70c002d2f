/// <reference types="jest" />
/**
 * Contract cases on a large input: an early `break` and an abort release everything; kill -9 and
 * SIGTERM of the built CLI mid-run, then a re-run, lose and double nothing; memory stays bounded.
 */
import { createLogger, loadConfig, type Context } from '@datakit/core';
import { BOUNDED_NODE_OPTIONS, FatalWait, spawnCli, waitFor, type CliChild, type CliResult } from './cli.ts';
import { expectExactKeys, expectExit, expectNoSecrets, keysIn, type Suite } from './suite.ts';
import type { TargetHandle } from './targets.ts';
import type { ContractSource } from './types.ts';

/** Small commits so a run stores state many times before it ends. */
const SMALL_COMMITS = { BATCH_SIZE: '2000', PARQUET_ROLL_ROWS: '2000', LOG_LEVEL: 'warn' };
const LONG = 300_000;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait until the stored state of `stream` shows at least `commits` commits (fails as soon as the run ends). */
function committed(t: TargetHandle, stream: string, commits: number, run: CliChild | (() => CliResult | undefined)): Promise<number> {
  const ended = (): string | undefined => {
    if (typeof run === 'function') {
      const r = run();
      return r ? `exit ${r.code}:\n${r.stdout.slice(-2000)}` : undefined;
    }
    return run.child.exitCode !== null || run.child.signalCode !== null ? `exit ${run.child.exitCode ?? run.child.signalCode}:\n${run.output().slice(-2000)}` : undefined;
  };
  return waitFor(
    `${commits} commits of ${stream} in ${t.kind}`,
    async () => {
      const end = ended();
      if (end) throw new FatalWait(`the run ended before ${commits} commits (${end})`);
      const st = await t.state(stream).catch(() => undefined);
      return st && st.seq >= commits ? st.seq : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

/** A re-run resumed from the stored state: it read fewer rows than the whole input. */
function expectResumed(r: CliResult, total: number): void {
  const rows = (r.json as { rows?: number } | undefined)?.rows;
  expect({ resumedFromState: typeof rows === 'number' && rows < total, rows }).toEqual({ resumedFromState: true, rows });
}

async function releasedAll(src: ContractSource): Promise<void> {
  if (!src.openResources) return;
  const open = await waitFor('the kit to release its connections', async () => ((await src.openResources!()) === 0 ? 'none' : undefined), { timeoutMs: 5_000 }).catch(async () => src.openResources!());
  expect({ openResources: open }).toEqual({ openResources: 'none' });
}

export function interruptCases<C>(s: Suite<C>): void {
  const { kit, main, fixtures } = s.opts;
  const large = fixtures.large;

  describe('a large input', () => {
    let src: ContractSource;
    let keys: string[];
    beforeAll(async () => {
      src = await s.opts.source('large');
      keys = await large.seed(src, large.rows ?? LONG);
    }, 300_000);
    afterAll(async () => {
      await src?.close();
    });

    it('releases every resource and returns promptly when the consumer breaks after the first batch', async () => {
      const logger = createLogger({ level: 'silent', pretty: false });
      const config = loadConfig(kit.config, { env: src.env }).config;
      const ctx: Context = { logger, signal: new AbortController().signal, batchSize: 100, runId: 'contract-early-break' };
      const stream = (await kit.discover(ctx, config)).find((x) => x.name === large.stream);
      expect(stream?.name).toBe(large.stream);
      let batches = 0;
      let rows = 0;
      const consume = async (): Promise<void> => {
        for await (const batch of kit.read(ctx, config, stream!, undefined)) {
          batches++;
          rows += batch.rows.length;
          break;
        }
      };
      await withTimeout(consume(), 10_000, 'read() did not return after break');
      expect({ batches, rowsAtMostBatchSize: rows > 0 && rows <= 100 }).toEqual({ batches: 1, rowsAtMostBatchSize: true });
      await releasedAll(src);
    });

    describe.each(s.targets)('into %s', (kind) => {
      it('stops on abort (runCli io.signal) with exit 143, then resumes from the stored state without losing or doubling rows', async () => {
        await s.withTarget(kind, async (t) => {
          const env = { ...src.env, ...t.env, ...SMALL_COMMITS };
          const controller = new AbortController();
          let finished: CliResult | undefined;
          const running = s.run(env, [large.stream], { signal: controller.signal }).then((r) => (finished = r));
          const seen = await committed(t, large.stream, 2, () => finished);
          controller.abort('SIGTERM');
          const r = await withTimeout(running, 10_000, 'the run did not stop on abort');
          expectExit(r, 143);
          expect(r.json).toMatchObject({ status: 'interrupted' });
          const stored = await t.state(large.stream);
          expect(stored?.seq).toBeGreaterThanOrEqual(seen);
          await releasedAll(src);
          // the re-run (the built CLI: fast) uses the default batch and file sizes: resuming must not depend on them
          const again = await spawnCli(main, ['run', large.stream], { ...src.env, ...t.env, LOG_LEVEL: 'warn' }).done;
          expectExit(again, 0);
          expectResumed(again, keys.length);
          expectExactKeys(keys, await keysIn(t, large.stream, large.key));
        });
      }, 300_000);

      it('resumes after SIGKILL of the built CLI mid-run without losing or doubling rows', async () => {
        await s.withTarget(kind, async (t) => {
          const env = { ...src.env, ...t.env, ...SMALL_COMMITS };
          const first = spawnCli(main, ['run', large.stream], env);
          await committed(t, large.stream, 3, first);
          first.child.kill('SIGKILL');
          const killed = await first.done;
          expect(killed.signal).toBe('SIGKILL');
          const rerun = await spawnCli(main, ['run', large.stream], env).done;
          expectExit(rerun, 0);
          expect(rerun.json).toMatchObject({ status: 'succeeded' });
          expectResumed(rerun, keys.length);
          expectNoSecrets(killed.stdout + killed.stderr + rerun.stdout + rerun.stderr, src.secrets);
          expectExactKeys(keys, await keysIn(t, large.stream, large.key));
        });
      }, 300_000);

      it('exits 143 within 10 s of SIGTERM with its state stored, then resumes without losing or doubling rows', async () => {
        await s.withTarget(kind, async (t) => {
          const env = { ...src.env, ...t.env, ...SMALL_COMMITS };
          const first = spawnCli(main, ['run', large.stream], env);
          const seen = await committed(t, large.stream, 2, first);
          const sent = Date.now();
          first.child.kill('SIGTERM');
          const stopped = await first.done;
          const seconds = (Date.now() - sent) / 1000;
          expectExit(stopped, 143);
          expect({ stoppedWithin10s: seconds < 10 }).toEqual({ stoppedWithin10s: true });
          expect(stopped.json).toMatchObject({ status: 'interrupted' });
          const stored = await t.state(large.stream);
          expect(stored?.seq).toBeGreaterThanOrEqual(seen);
          const rerun = await spawnCli(main, ['run', large.stream], env).done;
          expectExit(rerun, 0);
          expectResumed(rerun, keys.length);
          expectNoSecrets(stopped.stdout + stopped.stderr + rerun.stdout + rerun.stderr, src.secrets);
          expectExactKeys(keys, await keysIn(t, large.stream, large.key));
        });
      }, 300_000);

      it('reads the whole input with a 256 MB heap and a peak RSS under 400 MB', async () => {
        await s.withTarget(kind, async (t) => {
          const env = { ...src.env, ...t.env, NODE_OPTIONS: BOUNDED_NODE_OPTIONS, LOG_LEVEL: 'warn' };
          const child = spawnCli(main, ['run', large.stream], env, { measure: true });
          const r = await child.done;
          expectExit(r, 0);
          expectNoSecrets(r.stdout + r.stderr, src.secrets);
          const peakMb = Math.round((child.peakRssKb() ?? Infinity) / 1024);
          expect({ rows: (r.json as { rows?: number }).rows, peakRssUnder400Mb: peakMb < 400, peakMb }).toEqual({ rows: keys.length, peakRssUnder400Mb: true, peakMb });
          expectExactKeys(keys, await keysIn(t, large.stream, large.key));
        });
      }, 300_000);
    });
  });
}
