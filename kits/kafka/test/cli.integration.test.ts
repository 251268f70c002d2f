/**
 * The built CLI (`dist/main.js`, what the image runs) against the mock cluster and a real warehouse:
 * kill -9 and SIGTERM mid-run then resume with nothing lost or doubled, two containers of one group
 * splitting the partitions, group offsets for lag monitoring, exit 4 on a poison message.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createDatabase, testDatabaseName } from '@datakit/testkit';
import { expectExactlyOnce, expectNoLag, landed as landedIn, landedInSplits, query as queryIn, startCli, storedSeq as storedSeqIn, waitFor, type Exit } from './cli-helpers.js';
import { closeProducer, jsonMessages, produce, uniqueTopic } from './helpers.js';

let warehouse: string;

beforeAll(async () => {
  warehouse = await createDatabase(process.env.DATAKIT_TEST_PG_URL!, testDatabaseName('kafka_cli'));
});
afterAll(closeProducer);

const start = (args: string[], env: Record<string, string>) => startCli(warehouse, args, env);
const query = <T extends pg.QueryResultRow>(sql: string) => queryIn<T>(warehouse, sql);
const landed = (tables: string[]) => landedIn(warehouse, tables);
const storedSeq = (key: string) => storedSeqIn(warehouse, key);

describe('built CLI', () => {
  it('resumes after kill -9 mid-run without losing or doubling a message', async () => {
    const topic = uniqueTopic('kill');
    const total = 40_000;
    await produce(topic, jsonMessages(total));
    const env = { KAFKA_TOPICS: topic, BATCH_SIZE: '100', KAFKA_VALUE_FORMAT: 'json' };
    const first = start(['run'], env);
    await waitFor(async () => (await storedSeq(topic)) >= 20);
    first.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const stored = (await query<{ state: { kit: { offsets: Record<string, string> } } }>(`SELECT state FROM bronze._datakit_state WHERE stream = '${topic}'`))[0]!;
    expect(Object.values(stored.state.kit.offsets).reduce((a, o) => a + Number(o), 0)).toBeLessThan(total);
    const second = await start(['run'], env).done;
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ status: 'succeeded' });
    expectExactlyOnce(await landed([`br_${topic}`]), total);
  });

  it('stops on SIGTERM with exit 143 and the rows read stored, then resumes exactly', async () => {
    const topic = uniqueTopic('term');
    const total = 40_000;
    await produce(topic, jsonMessages(total));
    const env = { KAFKA_TOPICS: topic, BATCH_SIZE: '100' };
    const first = start(['run'], env);
    await waitFor(async () => (await storedSeq(topic)) >= 10);
    first.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code).toBe(143);
    expect(JSON.parse(stopped.out)).toMatchObject({ status: 'interrupted' });
    const second = await start(['run'], env).done;
    expect(second.code).toBe(0);
    expectExactlyOnce(await landed([`br_${topic}`]), total);
  });

  it.each(['warehouse', 'parquet'] as const)('lets two containers of one group split the partitions with --partition i/n into %s, each message landing exactly once', async (target) => {
    const topic = uniqueTopic('scale');
    const group = `${topic}-etl`;
    await produce(topic, [...jsonMessages(5000), ...Array.from({ length: 3000 }, (_, i) => ({ partition: 2, value: `skew-${i}` }))]);
    const root = mkdtempSync(join(tmpdir(), 'kafka-scale-'));
    // small Parquet files: many state-file updates from both containers at once
    const bronze: Record<string, string> = target === 'parquet' ? { BRONZE_URL: `file://${root}`, PARQUET_ROLL_ROWS: '250' } : {};
    const env = { KAFKA_TOPICS: topic, KAFKA_GROUP_ID: group, BATCH_SIZE: '250', ...bronze };
    const both = async (): Promise<Exit[]> => Promise.all([start(['run', '--partition', '0/2'], env).done, start(['run', '--partition', '1/2'], env).done]);
    const round1 = await both();
    expect(round1.map((r) => r.code)).toEqual([0, 0]);
    const reports = round1.map((r) => JSON.parse(r.out) as { rows: number });
    expect(reports[0]!.rows + reports[1]!.rows).toBe(8000);
    await produce(topic, jsonMessages(1000, 5000));
    expect((await both()).map((r) => r.code)).toEqual([0, 0]);
    const keys = target === 'parquet' ? await landedInSplits(root, topic) : await landed([`br_${topic}__p0of2`, `br_${topic}__p1of2`]);
    expectExactlyOnce(keys, 9000);
    // the stored offsets were committed to the group: lag monitoring sees no lag
    await expectNoLag(topic, group);
  });

  it('exits 4 on an undecodable JSON message, naming topic, partition and offset without quoting the message', async () => {
    const topic = uniqueTopic('poison');
    await produce(topic, [
      { partition: 2, value: '{"ok":1}' },
      { partition: 2, value: '{"secret-ish": "payload", oops' },
    ]);
    const r = await start(['run'], { KAFKA_TOPICS: topic, KAFKA_VALUE_FORMAT: 'json' }).done;
    expect(r.code).toBe(4);
    const report = JSON.parse(r.out) as { streams: { error: { code: string; message: string } }[] };
    expect(report.streams[0]!.error.code).toBe('DATA.INVALID_RECORD');
    expect(report.streams[0]!.error.message).toContain(`topic ${topic} partition 2 offset 1: value is not valid JSON`);
    expect(r.out + r.err).not.toContain('payload');
  });
});
