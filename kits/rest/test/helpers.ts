/**
 * Test helpers: write a definition to a temp file, load the kit config from an env, read a stream
 * directly, or run streams through core's runner into a MemoryTarget.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig, runStreams, runtimeSettings, RunMetrics, type Batch, type Context, type Logger, type SourceState, type StreamReport } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';
import { restConfig, restKit, type RestKitConfig } from '@datakit/kit-rest';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

/** A temp directory for this test file. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rest-kit-'));
}

/** Write an API definition (object → JSON, string → as is) and return its path. */
export function writeDefinition(def: unknown, dir = tempDir(), name = 'api.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof def === 'string' ? def : JSON.stringify(def, null, 2));
  return path;
}

/** The kit config for a definition file and extra env. */
export function configFor(definition: string, env: Record<string, string> = {}): RestKitConfig {
  return loadConfig(restConfig, { env: { REST_CONFIG: definition, ...env } }).config;
}

/** A context for direct reads. */
export function context(opts: { batchSize?: number; signal?: AbortSignal; partition?: Context['partition'] } = {}): Context {
  return { logger, signal: opts.signal ?? new AbortController().signal, batchSize: opts.batchSize ?? 1000, runId: 'test-run', ...(opts.partition ? { partition: opts.partition } : {}) };
}

/** Read one stream directly and collect the batches. */
export async function readBatches(config: RestKitConfig, name: string, state?: unknown, ctx: Context = context()): Promise<Batch[]> {
  const streams = await restKit.discover(ctx, config);
  const stream = streams.find((s) => s.name === name)!;
  const out: Batch[] = [];
  for await (const b of restKit.read(ctx, config, stream, state)) out.push(b);
  return out;
}

/** Run streams through core's runner into a MemoryTarget (state kept in the target between calls). */
export async function runMemory(
  config: RestKitConfig,
  names: string[],
  opts: { target?: MemoryTarget; batchSize?: number; maxRetries?: number; signal?: AbortSignal } = {},
): Promise<{ reports: StreamReport[]; target: MemoryTarget }> {
  const target = opts.target ?? new MemoryTarget();
  const batchSize = opts.batchSize ?? 1000;
  const ctx = context({ batchSize, ...(opts.signal ? { signal: opts.signal } : {}) });
  const runtime = { ...runtimeSettings.parse({ batchSize, maxRetries: opts.maxRetries ?? 0 }), progressIntervalMs: 600_000 };
  const all = await restKit.discover(ctx, config);
  const streams = names.map((n) => all.find((s) => s.name === n)!);
  const states: SourceState = await target.loadState('rest');
  const reports = await runStreams({
    kit: restKit,
    config,
    runtime,
    ctx,
    target,
    run: { source: 'rest', runId: 'test-run', loadedAtMicros: 1n, logger },
    streams,
    states,
    metrics: new RunMetrics(),
  });
  return { reports, target };
}

/** Live rows of a stream in a MemoryTarget as objects (metadata columns dropped). */
export function liveObjects(target: MemoryTarget, stream: string): Record<string, unknown>[] {
  const gen = target.live.get(`rest/${stream}`);
  if (!gen) return [];
  // rows written before the columns grew are shorter: their data columns are a prefix, metadata last
  const data = gen.columns.map((c) => c.name).filter((n) => !n.startsWith('_bronze_'));
  return gen.rows.map((r) => Object.fromEntries(data.map((n, i) => [n, i < r.length - 3 ? r[i] : null])));
}
