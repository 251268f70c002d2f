/**
 * Scale-out through the consumer group: containers of the built CLI with the same KAFKA_GROUP_ID
 * join the group (JoinGroup/SyncGroup/Heartbeat on the mock cluster), the leader splits the topics,
 * and every message lands exactly once — containers started together, a container joining mid-run
 * (rebalance: the first stores what it read, both rejoin), a container killed with SIGKILL, and a
 * group that grew from 2 to 3 containers (new splits resume from the old ones' offsets).
 *
 * The mock completes a rebalance only after `session timeout - 1 s` (a real broker as soon as every
 * member has rejoined), hence the 6 s session timeout here.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, fakeGateway, testDatabaseName } from '@datakit/testkit';
import { expectCodes, expectExactlyOnce, expectNoLag, landed, landedInSplits, query, startCli, storedSeq, waitFor, type Exit } from './cli-helpers.js';
import { closeProducer, jsonMessages, produce, uniqueTopic } from './helpers.js';

let warehouse: string;

beforeAll(async () => {
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('kafka_scale'));
});
afterAll(closeProducer);

const GROUP_ENV = { KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_VALUE_FORMAT: 'json', LOG_LEVEL: 'info' };

/** The bronze tables of every split of a topic. */
async function splitTables(topic: string): Promise<string[]> {
  const rows = await query<{ t: string }>(warehouse, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE 'br_${topic}__p%' ORDER BY 1`);
  return rows.map((r) => r.t);
}

/** `partition:offset` of every row of every split of a topic, in the warehouse or under a Parquet root. */
async function landedAll(topic: string, root?: string): Promise<string[]> {
  return root ? landedInSplits(root, topic) : landed(warehouse, await splitTables(topic));
}

/** Every container read one split of `n` (besides any it read before the group was complete), together all of them. */
function expectSplits(exits: Exit[], n: number): void {
  const ofN = exits.map((e) => splitsOf(e).filter((s) => s.endsWith(`/${n}`)));
  for (const s of ofN) expect(s.length).toBeGreaterThan(0);
  expect([...new Set(ofN.flat())].sort()).toEqual(Array.from({ length: n }, (_, i) => `${i}/${n}`));
}

const splitsOf = (e: Exit): string[] => [...e.err.matchAll(/"splits":\[([^\]]*)\],"msg":"joined the consumer group"/g)].flatMap((m) => (m[1] ? m[1].replace(/"/g, '').split(',') : []));

describe('scale-out through the consumer group', () => {
  it.each(['warehouse', 'parquet'] as const)('splits the partitions among containers started together into %s, then among three, each message landing once', async (target) => {
    const topic = uniqueTopic('group');
    const group = `${topic}-etl`;
    await produce(topic, [...jsonMessages(4000), ...Array.from({ length: 2000 }, (_, i) => ({ partition: 2, value: `{"skew":${i}}` }))]);
    const root = target === 'parquet' ? mkdtempSync(join(tmpdir(), 'kafka-group-')) : undefined;
    const env = { ...GROUP_ENV, KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, BATCH_SIZE: '250', ...(root ? { BRONZE_URL: `file://${root}`, PARQUET_ROLL_ROWS: '250' } : {}) };
    const gw = await fakeGateway();
    const run = (n: number): Promise<Exit[]> => Promise.all(Array.from({ length: n }, () => startCli(warehouse, ['run'], { ...env, PROMETHEUS_PUSHGATEWAY_URL: gw.url }).done));

    const two = await run(2);
    expectCodes(two, [0, 0]);
    // each container's metrics under its own split: neither push replaces the other's
    const pushed = gw.pushes.map((p) => `${p.method} ${p.url}`);
    expect(pushed).toHaveLength(2);
    expect(new Set(pushed).size).toBe(2);
    for (const p of pushed) expect(p).toMatch(/^PUT \/metrics\/job\/datakit_kafka\/source\/kafka\/partition\/\d_of_\d$/);
    // split 0/2 to one container, 1/2 to the other (a container slower to start than the broker's
    // initial join delay joins a generation later: then the first read 0/1 until it came)
    expectSplits(two, 2);
    const rows = two.map((e) => (JSON.parse(e.out) as { rows: number }).rows);
    expect(rows.every((r) => r > 0)).toBe(true);
    expect(rows[0]! + rows[1]!).toBe(6000);
    expectExactlyOnce(await landedAll(topic, root), 6000);
    await expectNoLag(topic, group);

    // the group grows to three: splits of 3, each resuming where the splits of 2 left off
    await produce(topic, jsonMessages(3000, 4000));
    const three = await run(3);
    expectCodes(three, [0, 0, 0]);
    expectSplits(three, 3);
    expect(three.reduce((a, e) => a + (JSON.parse(e.out) as { rows: number }).rows, 0)).toBe(3000);
    expectExactlyOnce(await landedAll(topic, root), 9000);
    await expectNoLag(topic, group);
    await gw.close();
  });

  it('rebalances when a container joins mid-run: the first stores what it read and both rejoin, each message landing once', async () => {
    const topic = uniqueTopic('late');
    const group = `${topic}-etl`;
    const total = 200_000; // ≈ 3 s of reading in 100-row commits: time for a second container to join
    await produce(topic, jsonMessages(total));
    const env = { ...GROUP_ENV, KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, BATCH_SIZE: '100' };
    const first = startCli(warehouse, ['run'], env);
    // alone in the group: split 0/1, stored with every 100-row commit
    await waitFor(async () => (await storedSeq(warehouse, `${topic}#0/1`)) >= 3);
    const second = await startCli(warehouse, ['run'], env).done;
    const done = await first.done;
    expectCodes([done, second], [0, 0]);
    expect(done.err).toContain('the consumer group is rebalancing');
    // alone it read split 0/1; after the rebalance each read one split of 2
    expect(splitsOf(done)[0]).toBe('0/1');
    expect([splitsOf(done)[1], splitsOf(second)[0]].sort()).toEqual(['0/2', '1/2']);
    expect((JSON.parse(second.out) as { rows: number }).rows).toBeGreaterThan(0);
    expect(await splitTables(topic)).toEqual([`br_${topic}__p0of1`, `br_${topic}__p0of2`, `br_${topic}__p1of2`]);
    expectExactlyOnce(await landedAll(topic), total);
    await expectNoLag(topic, group);
  });

  it('resumes after a container is killed with SIGKILL mid-run: the next run takes over its split, each message landing once', async () => {
    const topic = uniqueTopic('gkill');
    const group = `${topic}-etl`;
    await produce(topic, jsonMessages(40_000));
    const env = { ...GROUP_ENV, KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, BATCH_SIZE: '100' };
    const a = startCli(warehouse, ['run'], env);
    const b = startCli(warehouse, ['run'], env);
    await waitFor(async () => (await storedSeq(warehouse, `${topic}#0/2`)) >= 5 && (await storedSeq(warehouse, `${topic}#1/2`)) >= 5);
    a.kill('SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    expect((await b.done).code).toBe(0);
    // the killed container's split: its first load resumed by whichever container gets it next
    const again = await startCli(warehouse, ['run'], env).done;
    expect(again.code).toBe(0);
    expect(splitsOf(again)).toEqual(['0/2', '1/2']);
    expectExactlyOnce(await landedAll(topic), 40_000);
    await expectNoLag(topic, group);
  });

  it('with KAFKA_GROUP_JOIN=false reads everything without joining and only mirrors the offsets to the group', async () => {
    const topic = uniqueTopic('nojoin');
    const group = `${topic}-etl`;
    await produce(topic, jsonMessages(400));
    const r = await startCli(warehouse, ['run'], { ...GROUP_ENV, KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, KAFKA_GROUP_JOIN: 'false' }).done;
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('joined the consumer group');
    expectExactlyOnce(await landed(warehouse, [`br_${topic}`]), 400);
    await expectNoLag(topic, group);
  });
});
