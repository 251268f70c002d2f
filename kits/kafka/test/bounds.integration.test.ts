/**
 * The built CLI's run bounds against the mock cluster: messages produced during a run are left for the
 * next one (the high watermarks are read at the start), KAFKA_MAX_SECONDS cuts a slow run and the next
 * run lands the rest, discover reports each topic's partitions, and skewed partitions with poison
 * messages land in the stream's quarantine output (Parquet and warehouse) under the quarantine policy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { kafkaKit } from '@datakit/kit-kafka';
import { createDatabase, readParquet, testDatabaseName } from '@datakit/testkit';
import { expectExactlyOnce, landed, offsetSum, query, startCli, storedSeq, waitFor, type Exit } from './cli-helpers.js';
import { closeProducer, configFor, context, createTopic, jsonMessages, produce, uniqueTopic } from './helpers.js';

let warehouse: string;

beforeAll(async () => {
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('kafka_bounds'));
});
afterAll(closeProducer);

interface StreamOut {
  stream: string;
  status: string;
  rows: number;
  state?: { kit: { offsets: Record<string, string> } };
}
interface RunOut {
  runId: string;
  status: string;
  rows: number;
  quarantined?: number;
  streams: StreamOut[];
}

const report = (e: Exit): RunOut => JSON.parse(e.out) as RunOut;

/** The JSON log lines a run wrote to stderr. */
function logLines(e: Exit): { msg?: string; [k: string]: unknown }[] {
  return e.err
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string });
}

/** Message ids (`{"id": n}` values) in the topic's bronze table, sorted. */
async function landedIds(topic: string): Promise<number[]> {
  return (await query<{ id: number }>(warehouse, `SELECT (value->>'id')::int AS id FROM bronze."br_${topic}" ORDER BY 1`)).map((r) => r.id);
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('run bounds through the built CLI', () => {
  it('leaves messages produced during a run for the next run, which lands exactly those', async () => {
    const topic = uniqueTopic('hwm');
    const before = 20_000;
    const during = 300;
    await produce(topic, jsonMessages(before));
    const env = { KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'json', BATCH_SIZE: '100' };
    const first = startCli(warehouse, ['run'], env);
    // the first commit is stored after the high watermarks were read
    await waitFor(async () => first.exited() || (await storedSeq(warehouse, topic)) >= 1);
    expect(first.exited()).toBe(false);
    await produce(topic, jsonMessages(during, before));
    // produced while the run was still reading (else this test would prove nothing)
    expect(first.exited()).toBe(false);
    const one = await first.done;
    expect(one.code).toBe(0);
    expect(report(one)).toMatchObject({ status: 'succeeded', rows: before, streams: [{ stream: topic, rows: before }] });
    expect(offsetSum(report(one).streams[0]!.state!.kit.offsets)).toBe(before);
    expect(await landedIds(topic)).toEqual(range(0, before));

    const two = await startCli(warehouse, ['run'], env).done;
    expect(two.code).toBe(0);
    expect(report(two)).toMatchObject({ status: 'succeeded', rows: during });
    expect(await landedIds(topic)).toEqual(range(0, before + during));
    expectExactlyOnce(await landed(warehouse, [`br_${topic}`]), before + during);
  });

  it('stops a slow run at KAFKA_MAX_SECONDS with exit 0 and what it read stored, and the next run lands the rest once', async () => {
    const topic = uniqueTopic('budget');
    const total = 30_000;
    // small record batches, so that small fetches (KAFKA_PARTITION_MAX_BYTES) return few messages each
    const all = jsonMessages(total);
    for (let i = 0; i < total; i += 200) await produce(topic, all.slice(i, i + 200));
    const env = { KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'json' };
    // 5-row commits into the warehouse: reading 30,000 messages takes far longer than 1 s (6,000 commits)
    const cut = await startCli(warehouse, ['run'], { ...env, BATCH_SIZE: '5', KAFKA_PARTITION_MAX_BYTES: '1024', KAFKA_MAX_SECONDS: '1', LOG_LEVEL: 'info' }).done;
    expect(cut.code).toBe(0);
    const out = report(cut);
    expect(out.status).toBe('succeeded');
    expect(out.rows).toBeGreaterThan(0);
    expect(out.rows).toBeLessThan(total);
    expect(logLines(cut).find((l) => l.msg === 'stopped before the high watermarks (budget or signal)')).toMatchObject({ topic, messages: out.rows, complete: false });
    // the stored offsets cover exactly the rows that landed
    const stored = (await query<{ state: { kit: { offsets: Record<string, string> } } }>(warehouse, `SELECT state FROM bronze._datakit_state WHERE stream = '${topic}'`))[0]!;
    expect(offsetSum(stored.state.kit.offsets)).toBe(out.rows);
    expect(await landed(warehouse, [`br_${topic}`])).toHaveLength(out.rows);

    const rest = await startCli(warehouse, ['run'], { ...env, BATCH_SIZE: '1000' }).done;
    expect(rest.code).toBe(0);
    expect(report(rest)).toMatchObject({ status: 'succeeded', rows: total - out.rows });
    expect(await landedIds(topic)).toEqual(range(0, total));
    expectExactlyOnce(await landed(warehouse, [`br_${topic}`]), total);
  });
});

describe('discover', () => {
  it("reports every topic's partitions, with messages in some partitions only and for an empty topic", async () => {
    const some = uniqueTopic('disc-some');
    const empty = uniqueTopic('disc-empty');
    await produce(some, [
      { partition: 1, value: 'a' },
      { partition: 3, value: 'b' },
    ]);
    await createTopic(empty);
    const env = { KAFKA_TOPICS: `${some},${empty}` };

    // the kit API: the partition ids of each stream
    const streams = await kafkaKit.discover(context(), configFor(env));
    expect(streams.map((s) => [s.name, s.source])).toEqual(
      [
        [some, { partitions: [0, 1, 2, 3] }],
        [empty, { partitions: [0, 1, 2, 3] }],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );

    // the CLI's catalog: the partition column's source type names them
    const r = await startCli(warehouse, ['discover'], env).done;
    expect(r.code).toBe(0);
    const catalog = JSON.parse(r.out) as { kit: string; streams: { name: string; columns: { name: string; type: string; sourceType: string }[] }[] };
    expect(catalog.kit).toBe('kafka');
    expect(catalog.streams.map((s) => s.name).sort()).toEqual([some, empty].sort());
    for (const s of catalog.streams) {
      expect(s.columns.find((c) => c.name === '_kafka_partition')).toEqual({ name: '_kafka_partition', type: 'int32', nullable: false, sourceType: 'kafka partition 0..3' });
      expect(s).not.toHaveProperty('source');
    }
  });
});

describe('poison messages under KAFKA_POISON_POLICY=quarantine', () => {
  const notUtf8 = Buffer.from([0xff, 0xfe, 0x00]);
  const env = (topic: string): Record<string, string> => ({ KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'json', KAFKA_POISON_POLICY: 'quarantine', BATCH_SIZE: '250', PARQUET_ROLL_ROWS: '500' });
  /** Partition 2 full with two poison messages (one at its end), partition 0 only a poison message, 1 and 3 empty. */
  async function produceSkewed(topic: string): Promise<void> {
    const p2: Message[] = Array.from({ length: 3000 }, (_, i) => ({ partition: 2, value: i === 1000 ? '{"id": oops' : i === 2999 ? '' : JSON.stringify({ id: i }) }));
    await produce(topic, [...p2, { partition: 0, key: 'k-bad', value: notUtf8 }]);
  }
  const expectedPoison = [
    { _kafka_partition: 0, _kafka_offset: 0, reason: 'value is not valid UTF-8', raw_key: Buffer.from('k-bad'), raw_value: notUtf8 },
    { _kafka_partition: 2, _kafka_offset: 1000, reason: expect.stringContaining('value is not valid JSON') as unknown, raw_key: null, raw_value: Buffer.from('{"id": oops') },
    { _kafka_partition: 2, _kafka_offset: 2999, reason: 'value is not valid JSON (empty)', raw_key: null, raw_value: Buffer.alloc(0) },
  ];
  const good = range(0, 3000).filter((i) => i !== 1000 && i !== 2999);
  const byPosition = (a: Record<string, unknown>, b: Record<string, unknown>): number => Number(a._kafka_partition) * 1e6 + Number(a._kafka_offset) - (Number(b._kafka_partition) * 1e6 + Number(b._kafka_offset));
  const asBytes = (v: unknown): Buffer | null => (v === null ? null : typeof v === 'string' ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v as Uint8Array));

  it('sets skewed partitions\' poison messages aside in Parquet <stream>/_quarantine/ with reason and raw bytes, each message landing once in the stream or its quarantine', async () => {
    const topic = uniqueTopic('quar');
    const root = mkdtempSync(join(tmpdir(), 'kafka-quar-'));
    await produceSkewed(topic);
    const bronze = `file://${root}`;
    const one = await startCli(bronze, ['run'], env(topic)).done;
    expect(one.code).toBe(0);
    expect(report(one)).toMatchObject({ status: 'succeeded', rows: 2998, quarantined: 3 });
    expect(report(one).streams[0]).toMatchObject({ rows: 2998, quarantined: 3 });
    expect(report(one).streams[0]!.state!.kit.offsets).toEqual({ '0': '1', '1': '0', '2': '3000', '3': '0' });

    // the stream holds only what decoded: no quarantine column, no poison row
    const main = await readParquet(join(root, 'kafka', topic));
    expect(main.columns.map((c) => c.name).filter((n) => !n.startsWith('_bronze'))).toEqual(['_kafka_topic', '_kafka_partition', '_kafka_offset', '_kafka_timestamp', '_kafka_key', '_kafka_headers', 'value']);
    expect(main.rows.map((r) => Number(r._kafka_offset)).sort((a, b) => a - b)).toEqual(good);
    expect(main.rows.every((r) => r._kafka_partition === 2 && r.value === JSON.stringify({ id: Number(r._kafka_offset) }))).toBe(true);
    const quarantine = (await readParquet(join(root, 'kafka', topic, '_quarantine'))).rows.sort(byPosition);
    expect(quarantine.map((r) => ({ _kafka_partition: r._kafka_partition, _kafka_offset: Number(r._kafka_offset), reason: r.reason, raw_key: asBytes(r.raw_key), raw_value: asBytes(r.raw_value) }))).toEqual(expectedPoison);
    expect(quarantine.every((r) => r._kafka_topic === topic && r._bronze_run_id === report(one).runId)).toBe(true);

    // the next run lands only the new messages, poison included
    await produce(topic, [
      { partition: 3, value: '{"id": 9000}' },
      { partition: 3, value: '[' },
    ]);
    const two = await startCli(bronze, ['run'], env(topic)).done;
    expect(two.code).toBe(0);
    expect(report(two)).toMatchObject({ status: 'succeeded', rows: 1, quarantined: 1 });
    const after = [...(await readParquet(join(root, 'kafka', topic))).rows, ...(await readParquet(join(root, 'kafka', topic, '_quarantine'))).rows];
    expectExactlyOnce(
      after.map((r) => `${String(r._kafka_partition)}:${String(r._kafka_offset)}`),
      3003,
    );
    expect(after.filter((r) => r._kafka_partition === 3).map((r) => [Number(r._kafka_offset), r.reason === undefined]).sort()).toEqual([
      [0, true],
      [1, false],
    ]);
  });

  it('sets them aside in the warehouse table br_<stream>__quarantine, committed with the stream\'s rows and offsets', async () => {
    const topic = uniqueTopic('quarwh');
    await produceSkewed(topic);
    const one = await startCli(warehouse, ['run'], env(topic)).done;
    expect(one.code).toBe(0);
    expect(report(one)).toMatchObject({ status: 'succeeded', rows: 2998, quarantined: 3 });
    expect(await landedIds(topic)).toEqual(good);
    const q = await query<Record<string, unknown>>(warehouse, `SELECT _kafka_topic, _kafka_partition, _kafka_offset::int AS _kafka_offset, reason, raw_key, raw_value FROM bronze."br_${topic}__quarantine"`);
    expect(q.sort(byPosition).map((r) => ({ ...r, _kafka_topic: undefined }))).toEqual(expectedPoison.map((p) => ({ ...p, _kafka_topic: undefined })));
    expect(q.every((r) => r._kafka_topic === topic)).toBe(true);
    // a second run with nothing new adds nothing to either table
    const two = await startCli(warehouse, ['run'], env(topic)).done;
    expect(report(two)).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(await query(warehouse, `SELECT 1 FROM bronze."br_${topic}__quarantine"`)).toHaveLength(3);
  });
});
