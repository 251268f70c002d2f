/**
 * Bounded reads against the mock cluster, through core's runner into a MemoryTarget: every message
 * once, stop at the high watermarks, resume from stored offsets, empty topics, skew, latest, budgets.
 */
import { kafkaKit } from '@datakit/kit-kafka';
import { MemoryTarget } from '@datakit/testkit';
import { closeProducer, configFor, createTopic, context, jsonMessages, liveObjects, positionsOf, produce, readBatches, runMemory, uniqueTopic } from './helpers.js';

afterAll(closeProducer);

describe('bounded reads', () => {
  it('lands every message of every partition once with its lineage, then stops at the high watermarks', async () => {
    const topic = uniqueTopic('all');
    await produce(topic, [
      ...jsonMessages(40),
      { partition: 1, key: null, value: null, headers: { trace: 'abc', bin: Buffer.from([0xff, 0x00]) }, timestamp: '1700000000123' },
    ]);
    const { reports, target } = await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'json', KAFKA_KEY_FORMAT: 'string' }), [topic], { batchSize: 7 });
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 41 });
    const rows = liveObjects(target, topic);
    expect(new Set(positionsOf(rows)).size).toBe(41);
    const first = rows.find((r) => r._kafka_key === 'k5')!;
    expect(first).toMatchObject({ _kafka_topic: topic, _kafka_partition: 1, _kafka_offset: 1n, value: '{"id":5}', _kafka_headers: '[]' });
    expect(typeof first._kafka_timestamp).toBe('bigint');
    const tombstone = rows.find((r) => r._kafka_key === null)!;
    expect(tombstone).toMatchObject({ _kafka_partition: 1, _kafka_offset: 10n, value: null, _kafka_timestamp: 1700000000123000n });
    expect(JSON.parse(tombstone._kafka_headers as string)).toEqual([
      { key: 'trace', value: 'abc' },
      { key: 'bin', base64: '/wA=' },
    ]);
    expect(target.states.get('kafka')![topic]!.kit).toEqual({ offsets: { '0': '10', '1': '11', '2': '10', '3': '10' } });
  });

  it('resumes from the stored offsets and reads only what arrived since', async () => {
    const topic = uniqueTopic('resume');
    const config = configFor({ KAFKA_TOPICS: topic });
    await produce(topic, jsonMessages(20));
    const target = new MemoryTarget();
    await runMemory(config, [topic], { target });
    await produce(topic, jsonMessages(6, 20));
    const { reports } = await runMemory(config, [topic], { target });
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 6 });
    const rows = liveObjects(target, topic);
    expect(rows).toHaveLength(26);
    expect(new Set(positionsOf(rows)).size).toBe(26);
    expect(rows.every((r) => r.value instanceof Uint8Array)).toBe(true);
  });

  it('finishes an empty topic at once and stores its offsets', async () => {
    const topic = uniqueTopic('empty');
    await createTopic(topic);
    const started = Date.now();
    const { reports, target } = await runMemory(configFor({ KAFKA_TOPICS: topic }), [topic]);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(target.states.get('kafka')![topic]!.kit).toEqual({ offsets: { '0': '0', '1': '0', '2': '0', '3': '0' } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('drains partitions with heavy skew: one full partition, one with a message, two empty', async () => {
    const topic = uniqueTopic('skew');
    await produce(topic, [...Array.from({ length: 3000 }, (_, i) => ({ partition: 2, value: `m${i}` })), { partition: 0, value: 'lonely' }]);
    const { reports, target } = await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'string' }), [topic], { batchSize: 500 });
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 3001 });
    const rows = liveObjects(target, topic);
    expect(rows.filter((r) => r._kafka_partition === 2).map((r) => r.value)).toEqual(Array.from({ length: 3000 }, (_, i) => `m${i}`));
    expect(target.states.get('kafka')![topic]!.kit).toEqual({ offsets: { '0': '1', '1': '0', '2': '3000', '3': '0' } });
  });

  it('starts a first run at the end with KAFKA_START=latest and reads only later messages', async () => {
    const topic = uniqueTopic('latest');
    const config = configFor({ KAFKA_TOPICS: topic, KAFKA_START: 'latest', KAFKA_VALUE_FORMAT: 'string' });
    await produce(topic, jsonMessages(12));
    const target = new MemoryTarget();
    const first = await runMemory(config, [topic], { target });
    expect(first.reports[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    await produce(topic, jsonMessages(4, 100));
    await runMemory(config, [topic], { target });
    expect(liveObjects(target, topic).map((r) => r.value).sort()).toEqual(['{"id":100}', '{"id":101}', '{"id":102}', '{"id":103}']);
  });

  it('stops after KAFKA_MAX_MESSAGES exactly and the next run continues where it stopped', async () => {
    const topic = uniqueTopic('max');
    const config = configFor({ KAFKA_TOPICS: topic, KAFKA_MAX_MESSAGES: '25' });
    await produce(topic, jsonMessages(60));
    const target = new MemoryTarget();
    expect((await runMemory(config, [topic], { target, batchSize: 10 })).reports[0]).toMatchObject({ status: 'succeeded', rows: 25 });
    expect((await runMemory(config, [topic], { target, batchSize: 10 })).reports[0]).toMatchObject({ rows: 25 });
    expect((await runMemory(config, [topic], { target, batchSize: 10 })).reports[0]).toMatchObject({ rows: 10 });
    const rows = liveObjects(target, topic);
    expect(new Set(positionsOf(rows)).size).toBe(60);
  });

  it('starts no fetch once KAFKA_MAX_SECONDS is spent, stores the start, and the next run reads everything', async () => {
    const topic = uniqueTopic('seconds');
    await produce(topic, jsonMessages(30));
    const target = new MemoryTarget();
    const cut = await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_MAX_SECONDS: '0.000001' }), [topic], { target });
    expect(cut.reports[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(target.states.get('kafka')![topic]!.kit).toEqual({ offsets: { '0': '0', '1': '0', '2': '0', '3': '0' } });
    expect((await runMemory(configFor({ KAFKA_TOPICS: topic }), [topic], { target })).reports[0]).toMatchObject({ rows: 30 });
  });

  it('reads only partition % n === i with --partition i/n', async () => {
    const topic = uniqueTopic('split');
    await produce(topic, jsonMessages(40));
    const config = configFor({ KAFKA_TOPICS: topic });
    const one = await runMemory(config, [topic], { partition: { index: 1, count: 2 } });
    const rows = liveObjects(one.target, topic, `${topic}/partition=1of2`);
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((r) => r._kafka_partition))).toEqual(new Set([1, 3]));
    expect(one.target.states.get('kafka')![`${topic}#1/2`]!.kit).toEqual({ offsets: { '1': '10', '3': '10' } });
  });

  it('releases its connections on an early break, and stops on abort with the checkpoint of what it yielded', async () => {
    const topic = uniqueTopic('break');
    await produce(topic, jsonMessages(400));
    const config = configFor({ KAFKA_TOPICS: topic });
    const stream = (await kafkaKit.discover(context(), config))[0]!;
    for await (const b of kafkaKit.read(context({ batchSize: 10 }), config, stream, undefined)) {
      if (b.rows.length) break;
    }
    const ac = new AbortController();
    const batches = [];
    for await (const b of kafkaKit.read(context({ batchSize: 10, signal: ac.signal }), config, stream, undefined)) {
      batches.push(b);
      if (b.rows.length) ac.abort();
    }
    const withRows = batches.filter((b) => b.rows.length);
    expect(withRows).toHaveLength(1);
    const cp = withRows[0]!.checkpoint as { offsets: Record<string, string> };
    const sum = Object.values(cp.offsets).reduce((a, o) => a + Number(o), 0);
    expect(sum).toBe(10);
  });

  it('yields batches of at most BATCH_SIZE rows, each with the offsets after its last row', async () => {
    const topic = uniqueTopic('batches');
    await produce(topic, jsonMessages(30, 0, 1));
    const batches = await readBatches(configFor({ KAFKA_TOPICS: topic }), topic, { offsets: { '0': '3', '1': '0', '2': '0', '3': '0' } }, context({ batchSize: 8 }));
    expect(batches.map((b) => b.rows.length)).toEqual([8, 8, 8, 3]);
    expect(batches.map((b) => (b.checkpoint as { offsets: Record<string, string> }).offsets['0'])).toEqual(['11', '19', '27', '30']);
  });
});

describe('consumer group offsets', () => {
  it('mirrors the stored offsets to KAFKA_GROUP_ID, and a new state key starts there with KAFKA_START=group', async () => {
    const topic = uniqueTopic('group');
    const group = `${topic}-g`;
    await produce(topic, jsonMessages(20));
    const first = new MemoryTarget();
    await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group }), [topic], { target: first });
    // the next read of that state commits what the first one stored
    await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group }), [topic], { target: first });
    await produce(topic, jsonMessages(5, 20));
    const fresh = await runMemory(configFor({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, KAFKA_START: 'group' }), [topic]);
    expect(fresh.reports[0]).toMatchObject({ status: 'succeeded', rows: 5 });
    expect(liveObjects(fresh.target, topic).map((r) => Buffer.from(r.value as Uint8Array).toString()).sort()).toEqual(jsonMessages(5, 20).map((m) => m.value).sort());
  });
});
