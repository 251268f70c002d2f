/**
 * The consumer group mirror during a run: each time core stores a checkpoint (`kit.stored`), its
 * offsets are committed to KAFKA_GROUP_ID before the next batch is read — so lag monitoring follows a
 * long run — and the group never holds an offset bronze has not stored.
 */
import { defineKit, runStreams, runtimeSettings, RunMetrics, type StreamState } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';
import { kafkaKit, parseCheckpoint } from '@datakit/kit-kafka';
import { closeProducer, configFor, context, jsonMessages, kafka, logger, produce, uniqueTopic } from './helpers.js';

afterAll(closeProducer);

async function groupOffsets(groupId: string, topic: string): Promise<Record<string, string>> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(t!.partitions.filter((p) => p.offset !== '-1').map((p) => [String(p.partition), p.offset]));
  } finally {
    await admin.disconnect();
  }
}

const asRecord = (checkpoint: StreamState, topic: string): Record<string, string> =>
  Object.fromEntries([...parseCheckpoint(checkpoint, topic)].map(([p, o]) => [String(p), o.toString()]));

describe('consumer group offsets during a run', () => {
  it('commits each stored checkpoint to the group before the next batch, never ahead of bronze', async () => {
    const topic = uniqueTopic('groupmid');
    const group = `${topic}-lag`;
    const total = 2000;
    await produce(topic, jsonMessages(total));
    const config = configFor({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group });
    // the target commits on its own every 300 rows, as the Parquet target does when a file rolls
    const target = new MemoryTarget({ commitEveryRows: 300 });
    const seen: { stored: Record<string, string>; inBronze: Record<string, string>; group: Record<string, string> }[] = [];
    const observed = defineKit({
      ...kafkaKit,
      async stored(ctx, c, stream, checkpoint) {
        await kafkaKit.stored!(ctx, c, stream, checkpoint);
        const inBronze = target.states.get('kafka')?.[topic]?.kit;
        seen.push({ stored: asRecord(checkpoint, topic), inBronze: inBronze ? asRecord(inBronze, topic) : {}, group: await groupOffsets(group, topic) });
      },
    });
    const ctx = context({ batchSize: 100 });
    const [stream] = (await kafkaKit.discover(ctx, config)).filter((s) => s.name === topic);
    const [report] = await runStreams({
      kit: observed,
      config,
      runtime: { ...runtimeSettings.parse({ batchSize: 100, maxRetries: 0 }), progressIntervalMs: 600_000 },
      ctx,
      target,
      run: { source: 'kafka', runId: ctx.runId, loadedAtMicros: 1n, logger },
      streams: [stream!],
      states: {},
      metrics: new RunMetrics(),
    });
    expect(report).toMatchObject({ status: 'succeeded', rows: total });
    const sums = seen.map((s) => Object.values(s.stored).reduce((a, o) => a + Number(o), 0));
    // mid-run commits (every 300 rows) and the last one at the end
    expect(sums.length).toBeGreaterThanOrEqual(6);
    expect(sums.at(-1)).toBe(total);
    expect(sums).toEqual([...sums].sort((a, b) => a - b));
    for (const s of seen) {
      expect(s.inBronze).toEqual(s.stored); // told only once bronze held it
      expect(s.group).toEqual(s.stored); // and the group got exactly that, no more
    }
  });
});
