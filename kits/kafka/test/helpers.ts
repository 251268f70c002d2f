/**
 * Test helpers: the mock cluster's brokers, unique topics, a producer, the kit config from an env, and
 * runs through core's runner into a MemoryTarget or through the CLI in process.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { createLogger, loadConfig, runCli, runStreams, runtimeSettings, RunMetrics, type Logger, type Batch, type Context, type SourceState, type StreamReport } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';
import { kafkaConfig, kafkaKit, type KafkaKitConfig } from '@datakit/kit-kafka';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

/** Brokers of the mock cluster started by global-setup.ts. */
export function brokers(): string {
  const b = process.env.DATAKIT_TEST_KAFKA_BROKERS;
  if (!b) throw new Error('DATAKIT_TEST_KAFKA_BROKERS is not set: run the integration project (test/global-setup.ts)');
  return b;
}

/** A topic name no other test uses (the mock auto-creates it with 4 partitions on first use). */
export function uniqueTopic(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** A kafkajs client on the mock cluster. */
export function kafka(): Kafka {
  return new Kafka({ brokers: brokers().split(','), clientId: 'datakit-test', logLevel: logLevel.NOTHING });
}

let producer: Producer | undefined;

/** Send messages (kafkajs's shape) to a topic; `partition` per message picks it. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  if (!producer) {
    producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }
  for (let i = 0; i < messages.length; i += 5000) await producer.send({ topic, messages: messages.slice(i, i + 5000) });
}

/** Create a topic without messages (the mock auto-creates it on a metadata request). */
export async function createTopic(topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

/** Disconnect the shared producer (afterAll). */
export async function closeProducer(): Promise<void> {
  await producer?.disconnect();
  producer = undefined;
}

/** `n` JSON messages `{"id": i}` spread over the 4 partitions round robin (message i → partition i % 4). */
export function jsonMessages(n: number, from = 0, partitions = 4): Message[] {
  return Array.from({ length: n }, (_, k) => ({ partition: (from + k) % partitions, key: `k${from + k}`, value: JSON.stringify({ id: from + k }) }));
}

/** The kit config for a topic selection and extra env. */
export function configFor(env: Record<string, string> = {}): KafkaKitConfig {
  return loadConfig(kafkaConfig, { env: { KAFKA_BROKERS: brokers(), ...env } }).config;
}

/** A context for direct reads (a new run id each time: the run budget is per run). */
export function context(opts: { batchSize?: number; signal?: AbortSignal; partition?: Context['partition'] } = {}): Context {
  return { logger, signal: opts.signal ?? new AbortController().signal, batchSize: opts.batchSize ?? 1000, runId: randomUUID(), ...(opts.partition ? { partition: opts.partition } : {}) };
}

/** Read one topic directly and collect the batches. */
export async function readBatches(config: KafkaKitConfig, topic: string, state?: unknown, ctx: Context = context()): Promise<Batch[]> {
  const stream = (await kafkaKit.discover(ctx, config)).find((s) => s.name === topic)!;
  const out: Batch[] = [];
  for await (const b of kafkaKit.read(ctx, config, stream, state)) out.push(b);
  return out;
}

/** Run topics through core's runner into a MemoryTarget (state kept in the target between calls). */
export async function runMemory(
  config: KafkaKitConfig,
  topics: string[],
  opts: { target?: MemoryTarget; batchSize?: number; signal?: AbortSignal; partition?: Context['partition'] } = {},
): Promise<{ reports: StreamReport[]; target: MemoryTarget }> {
  const target = opts.target ?? new MemoryTarget();
  const batchSize = opts.batchSize ?? 1000;
  const ctx = context({ batchSize, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.partition ? { partition: opts.partition } : {}) });
  const runtime = { ...runtimeSettings.parse({ batchSize, maxRetries: 0 }), progressIntervalMs: 600_000 };
  const all = await kafkaKit.discover(ctx, config);
  const streams = topics.map((n) => all.find((s) => s.name === n)!);
  const states: SourceState = await target.loadState('kafka');
  const reports = await runStreams({
    kit: kafkaKit,
    config,
    runtime,
    ctx,
    target,
    run: { source: 'kafka', runId: ctx.runId, loadedAtMicros: 1n, logger },
    streams,
    states,
    metrics: new RunMetrics(),
  });
  return { reports, target };
}

/** Live rows of a topic in a MemoryTarget as objects (metadata columns dropped). */
export function liveObjects(target: MemoryTarget, topic: string, bronzeName = topic): Record<string, unknown>[] {
  const gen = target.live.get(`kafka/${bronzeName}`);
  if (!gen) return [];
  const names = gen.columns.map((c) => c.name).filter((n) => !n.startsWith('_bronze_'));
  return gen.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, i < r.length - 3 ? r[i] : null])));
}

/** Live rows of a topic's quarantine output in a MemoryTarget as objects (metadata columns dropped). */
export function quarantineObjects(target: MemoryTarget, topic: string): Record<string, unknown>[] {
  const gen = target.live.get(`kafka/${topic}`);
  const names = (gen?.quarantineColumns ?? []).map((c) => c.name).filter((n) => !n.startsWith('_bronze_'));
  return (gen?.quarantine ?? []).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
}

/** `partition:offset` of every live row (to count each message exactly once). */
export function positionsOf(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => `${String(r._kafka_partition)}:${String(r._kafka_offset)}`);
}

/** Run the CLI in process; resolves with the exit code and the parsed stdout. */
export async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: Record<string, unknown> }> {
  let text = '';
  const code = await runCli(kafkaKit, argv, { env: { KAFKA_BROKERS: brokers(), ...env }, stdout: (t) => (text += t), logger });
  return { code, out: text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
