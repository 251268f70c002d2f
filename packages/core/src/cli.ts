/**
 * The CLI every kit exposes as `kits/<source>/dist/main.js`:
 * `spec | check | discover | run [streams...] | state show|reset [streams...]`.
 * Results go to stdout as JSON; logs go to stderr. Exit codes: see {@link EXIT}.
 */
import { randomUUID } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import type { Logger } from 'pino';
import type { BronzeTarget } from './bronze/types.js';
import { configJsonSchema, describeSettings, loadConfig, readConfigFile } from './config.js';
import { DatakitError, EXIT, isDatakitError, toDatakitError } from './errors.js';
import { createLogger } from './logger.js';
import { RunMetrics, type RunStatus } from './metrics.js';
import { redactor } from './redact.js';
import { withRetries } from './retry.js';
import { parseSplit, stateKey } from './naming.js';
import { runStreams, selectStreams, type StreamReport } from './runner.js';
import { runtimeSettings, type RuntimeSettings } from './runtime.js';
import { createTarget } from './targets.js';
import type { Assignment, Context, Kit, Split } from './types.js';
import { isoFromMicros, microsFromDate, stringifyExact } from './values.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  logger?: Logger;
  /** Aborts like SIGTERM (tests); the real CLI wires process signals. */
  signal?: AbortSignal;
}

interface Loaded<C> {
  config: C;
  runtime: RuntimeSettings;
  logger: Logger;
}

/** Parse `i/n` (0-based partition i of n). */
function parsePartition(text: string): { index: number; count: number } {
  const split = parseSplit(text);
  if (!split) throw new DatakitError('CONFIG.INVALID', `--partition ${text}: expected i/n with 0 <= i < n`, { fix: 'e.g. --partition 0/4' });
  return split;
}

/**
 * Read every stream once per split of a scale-out's assignment; when the source takes the assignment
 * back (a process joined or left), stop after the streams in flight, take the new assignment and
 * read its splits (a split another process just finished costs a look at the high watermarks). The
 * reports of one stream over its splits are merged. Releases the assignment at the end.
 */
export async function runSplits(first: Assignment, read: (split: Split, revoked: AbortSignal) => Promise<StreamReport[]>, signal?: AbortSignal): Promise<StreamReport[]> {
  let assignment = first;
  let reports: StreamReport[] = [];
  try {
    for (;;) {
      for (const split of assignment.splits) {
        if (assignment.revoked.aborted) break;
        reports = mergeReports(reports, await read(split, assignment.revoked));
        if (reports.some((r) => r.status !== 'succeeded')) return reports;
      }
      // stopped (SIGTERM) while a rebalance was pending: what was read is stored; leave
      if (!assignment.revoked.aborted || signal?.aborted) return reports;
      assignment = await assignment.next();
    }
  } finally {
    await assignment.release();
  }
}

/** Reports of the same streams from several splits, one per stream (rows, bytes, outputs summed). */
export function mergeReports(a: StreamReport[], b: StreamReport[]): StreamReport[] {
  const out = new Map(a.map((r) => [r.stream, r]));
  const rank = { succeeded: 0, interrupted: 1, failed: 2 } as const;
  for (const r of b) {
    const was = out.get(r.stream);
    if (!was) {
      out.set(r.stream, r);
      continue;
    }
    const newColumns = [...new Set([...(was.newColumns ?? []), ...(r.newColumns ?? [])])];
    out.set(r.stream, {
      ...r,
      status: rank[r.status] >= rank[was.status] ? r.status : was.status,
      rows: was.rows + r.rows,
      ...(was.quarantined || r.quarantined ? { quarantined: (was.quarantined ?? 0) + (r.quarantined ?? 0) } : {}),
      bytes: was.bytes + r.bytes,
      outputs: [...was.outputs, ...r.outputs],
      durationSeconds: was.durationSeconds + r.durationSeconds,
      ...(newColumns.length ? { newColumns } : {}),
      ...(was.error && !r.error ? { error: was.error } : {}),
    });
  }
  return [...out.values()];
}

/**
 * Run the CLI for a kit and resolve with the exit code (does not exit).
 * @example process.exitCode = await runCli(postgresKit, process.argv.slice(2));
 */
export async function runCli<C>(kit: Kit<C>, argv: string[], io: CliIO = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const print = (v: unknown): void => out(redactor.scrub(stringifyExact(v, 2)) + '\n');
  let logger: Logger | undefined = io.logger;
  const controller = new AbortController();
  if (io.signal?.aborted) controller.abort(io.signal.reason);
  io.signal?.addEventListener('abort', () => controller.abort(io.signal?.reason));
  let exitCode: number = EXIT.OK;

  const load = (opts: { config?: string }): Loaded<C> => {
    const configPath = opts.config ?? env.DATAKIT_CONFIG;
    const file = configPath ? readConfigFile(configPath) : {};
    const rt = loadConfig(runtimeSettings, { env, file });
    const kc = loadConfig(kit.config, { env, file });
    redactor.add([...rt.secrets, ...kc.secrets]);
    logger ??= createLogger({ name: kit.name, ...(env.LOG_LEVEL ? { level: env.LOG_LEVEL } : {}) });
    return { config: kc.config, runtime: rt.config, logger };
  };
  const context = (l: Loaded<C>, runId: string, partition?: Context['partition']): Context => ({
    logger: l.logger,
    signal: controller.signal,
    batchSize: l.runtime.batchSize,
    runId,
    ...(partition ? { partition } : {}),
  });
  const retrying = <T>(l: Loaded<C>, what: string, fn: () => Promise<T>): Promise<T> =>
    withRetries(fn, { maxRetries: l.runtime.maxRetries, logger: l.logger, what, signal: controller.signal });
  const openTarget = async (l: Loaded<C>, source: string): Promise<BronzeTarget> => {
    const target = await createTarget(l.runtime);
    await retrying(l, 'bronze target', () => target.open(source));
    return target;
  };

  const program = new Command()
    .name(`${kit.name}-extractor`)
    .description(`Datakits ${kit.name} extractor ${kit.version}: lands ${kit.name} data exactly in bronze.`)
    .version(kit.version)
    .addOption(new Option('-c, --config <file>', 'config file (YAML or JSON) with settings and per-stream options'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s), writeErr: (s) => process.stderr.write(s) });

  program.command('spec').description('print the configuration schema (JSON Schema) and settings table').action(() => {
    const kitSchema = configJsonSchema(kit.config);
    const coreSchema = configJsonSchema(runtimeSettings);
    print({
      kit: kit.name,
      version: kit.version,
      config: { ...kitSchema, properties: { ...(kitSchema.properties as object), ...(coreSchema.properties as object) } },
      settings: [...describeSettings(kit.config), ...describeSettings(runtimeSettings)],
    });
  });

  program.command('check').description('connect to the source and the bronze target and prove both can be used').action(async () => {
    const l = load(program.opts());
    const ctx = context(l, randomUUID());
    await retrying(l, 'check', () => kit.check(ctx, l.config));
    const target = await openTarget(l, l.runtime.bronzeSource ?? kit.name);
    await target.close();
    l.logger.info({ bronze: target.location }, 'check passed');
    print({ status: 'succeeded', source: 'ok', bronze: target.location });
  });

  program.command('discover').description('print the catalog: streams with columns, logical types, keys and cursor candidates').action(async () => {
    const l = load(program.opts());
    const streams = await retrying(l, 'discover', () => kit.discover(context(l, randomUUID()), l.config));
    print({ kit: kit.name, streams: streams.map(({ source: _source, ...s }) => s) });
  });

  program
    .command('run')
    .description('extract the named streams (default: all, filtered by STREAMS_INCLUDE/EXCLUDE) into bronze')
    .argument('[streams...]', 'stream names')
    .option('--state-reset', 'forget the stored state of the selected streams first (full reload, swapped in atomically)')
    .option('--partition <i/n>', 'read partition i of n (0-based) of each stream: disjoint key ranges')
    .action(async (names: string[], opts: { stateReset?: boolean; partition?: string }) => {
      const l = load(program.opts());
      const partition = opts.partition ? parsePartition(opts.partition) : undefined;
      const started = new Date();
      const runId = randomUUID();
      const source = l.runtime.bronzeSource ?? kit.name;
      const run = { source, runId, loadedAtMicros: microsFromDate(started), logger: l.logger };
      const ctx = context(l, runId, partition);
      const metrics = new RunMetrics();
      // from here on every outcome is pushed: a run failing on discover or credentials included
      let status: RunStatus = 'failed';
      let selected: string[] = names;
      let reports: StreamReport[] = [];
      let target: BronzeTarget | undefined;
      let pushedAs = partition;
      try {
        l.logger.info({ runId, source, partition: opts.partition }, 'run started');
        const all = await retrying(l, 'discover', () => kit.discover(ctx, l.config));
        const streams = selectStreams(all, names, l.runtime.include, l.runtime.exclude);
        selected = streams.map((s) => s.name);
        target = await openTarget(l, source);
        const open = target;
        const common = { kit, config: l.config, runtime: l.runtime, target, run, streams, metrics };
        let states = await target.loadState(source);
        // a scale-out through the source's coordination (a Kafka consumer group), unless --partition fixes the split
        const stored = Object.keys(states);
        const assignment = partition || !kit.assign ? undefined : await retrying(l, 'assign', () => kit.assign!(ctx, l.config, streams, stored));
        if (assignment && opts.stateReset) {
          await assignment.release();
          throw new DatakitError('CONFIG.INVALID', '--state-reset cannot be combined with a scale-out: each process would reset what the others already stored', {
            fix: 'run `state reset <stream…>` once while no process of the group runs, then start them',
          });
        }
        if (opts.stateReset) {
          await target.resetState(source, streams.map((s) => stateKey(s.name, partition)));
          states = await target.loadState(source);
        }
        if (!assignment) reports = await runStreams({ ...common, ctx, states });
        else {
          reports = await runSplits(
            assignment,
            async (split, revoked) => {
              // metrics are pushed under the first split read, so the group's containers do not overwrite each other's
              pushedAs ??= split;
              return runStreams({ ...common, ctx: { ...ctx, partition: split }, states: await open.loadState(source), revoked });
            },
            controller.signal,
          );
        }
        const failed = reports.filter((r) => r.status === 'failed');
        const interrupted = controller.signal.aborted || reports.some((r) => r.status === 'interrupted');
        status = failed.length ? 'failed' : interrupted ? 'interrupted' : 'succeeded';
        const finished = new Date();
        print({
          kit: kit.name,
          version: kit.version,
          runId,
          source,
          bronze: target.location,
          status,
          startedAt: isoFromMicros(run.loadedAtMicros),
          finishedAt: finished.toISOString(),
          durationSeconds: (finished.getTime() - started.getTime()) / 1000,
          rows: reports.reduce((a, r) => a + r.rows, 0),
          ...(reports.some((r) => r.quarantined) ? { quarantined: reports.reduce((a, r) => a + (r.quarantined ?? 0), 0) } : {}),
          bytes: reports.reduce((a, r) => a + r.bytes, 0),
          streams: reports,
        });
        if (failed.length) {
          const code = failed[0]!.error?.code;
          exitCode = code ? new DatakitError(code, '').exitCode : EXIT.INTERNAL;
        } else if (interrupted) exitCode = signalExit(controller.signal.reason);
        l.logger.info({ status, rows: reports.reduce((a, r) => a + r.rows, 0), streams: reports.length }, 'run finished');
      } catch (e) {
        if (controller.signal.aborted && !isDatakitError(e)) status = 'interrupted';
        throw e;
      } finally {
        await target?.close().catch(() => undefined);
        // streams the run never reached (it failed before them) count as failed extractions
        const reached = new Set(reports.map((r) => r.stream));
        if (status !== 'succeeded') for (const name of selected) if (!reached.has(name)) metrics.extractions.inc({ kit: kit.name, stream: name, status });
        metrics.runs.inc({ kit: kit.name, status });
        if (l.runtime.pushgatewayUrl) {
          await metrics
            .push(l.runtime.pushgatewayUrl, kit.name, source, pushedAs)
            .then(() => l.logger.debug({ status }, 'metrics pushed'))
            .catch((e: unknown) => l.logger.warn({ err: redactor.scrub(String(e)) }, 'metrics push failed (the run outcome is unchanged)'));
        }
      }
    });

  const state = program.command('state').description('show or reset stored state');
  state
    .command('show')
    .argument('[streams...]')
    .description('print the stored state of the source (all streams or the named ones)')
    .action(async (names: string[]) => {
      const l = load(program.opts());
      const source = l.runtime.bronzeSource ?? kit.name;
      const target = await openTarget(l, source);
      try {
        const all = await target.loadState(source);
        const streams = names.length ? Object.fromEntries(storedKeys(all, names).map((k) => [k, all[k]])) : all;
        print({ source, bronze: target.location, streams });
      } finally {
        await target.close();
      }
    });
  state
    .command('reset')
    .argument('<streams...>')
    .description('forget the stored state of the named streams; their next run reloads them fully')
    .action(async (names: string[]) => {
      const l = load(program.opts());
      const source = l.runtime.bronzeSource ?? kit.name;
      const target = await openTarget(l, source);
      try {
        const keys = storedKeys(await target.loadState(source), names);
        await target.resetState(source, keys);
        print({ source, reset: keys });
      } finally {
        await target.close();
      }
    });

  /**
   * The stored state keys of the named streams: the stream's own key and those of its partitions
   * (`orders#0/4`), or a key given exactly. A name with no stored state is an error (a typo must not
   * pass as a reset).
   */
  const storedKeys = (all: Record<string, unknown>, names: string[]): string[] => {
    const keys = Object.keys(all);
    return names.flatMap((n) => {
      const hits = keys.filter((k) => k === n || k.split('#')[0] === n);
      if (!hits.length) {
        const known = [...new Set(keys.map((k) => k.split('#')[0]!))].slice(0, 20).join(', ');
        throw new DatakitError('CONFIG.UNKNOWN_STREAM', `no stored state for stream "${n}"; stored: ${known || '(none)'}`, { fix: 'run `state show` to list the streams with stored state' });
      }
      return hits;
    });
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.exit(signalExit(sig));
    }
    logger?.warn({ signal: sig }, 'stopping: storing the current batch and its checkpoint');
    controller.abort(sig);
    // the contract: exit within 10 s even if a source call hangs; state is whatever was stored
    setTimeout(() => process.exit(signalExit(sig)), 9_000).unref();
  };
  const wireSignals = !io.signal;
  if (wireSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.OK : EXIT.CONFIG;
    }
    const err = toDatakitError(e);
    if (controller.signal.aborted && !isDatakitError(e)) return signalExit(controller.signal.reason);
    const message = redactor.scrub(err.where?.kit ? err.describe() : `${kit.name}: ${err.describe()}`);
    (logger ?? createLogger({ name: kit.name })).error({ code: err.code, ...(err.code === 'INTERNAL.ERROR' ? { stack: err.stack } : {}) }, message);
    print({ status: 'failed', error: { code: err.code, message } });
    return err.exitCode;
  } finally {
    if (wireSignals) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}

function signalExit(reason: unknown): number {
  return reason === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
}

/** The entry point of `kits/<source>/src/main.ts`: run the CLI on `process.argv` and exit. */
export async function runKit<C>(kit: Kit<C>): Promise<never> {
  const code = await runCli(kit, process.argv.slice(2));
  // let stdout drain before exiting (pipes are async)
  await new Promise<void>((r) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', () => r()) : r()));
  process.exit(code);
}
