/**
 * Avro through a Confluent-compatible schema registry: columns from the latest schema, exact values,
 * schema evolution without dropping fields, Avro keys, poison messages, basic auth.
 */
import { startRegistry, type TestRegistry } from './registry-server.js';
import { cli, closeProducer, configFor, liveObjects, produce, quarantineObjects, readBatches, runMemory, uniqueTopic } from './helpers.js';

const ORDER_V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'sku', type: 'string' }, { name: 'qty', type: 'long' }] } } },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'score', type: 'double' },
    { name: 'ok', type: 'boolean' },
    { name: '_kafka_offset', type: 'int' },
  ],
};
const ORDER_V2 = { ...ORDER_V1, fields: [...ORDER_V1.fields, { name: 'channel', type: ['null', 'string'], default: null }] };

const order = (id: bigint, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  amount: '-1234.50',
  placed_at: 1700000000123000n,
  day: 19675,
  status: 'PAID',
  note: null,
  lines: [{ sku: 'a"b', qty: 9007199254740993n }],
  ref: '0E8F4D9C-1B2A-4C3D-9E8F-0A1B2C3D4E5F',
  score: 0.1,
  ok: true,
  _kafka_offset: 7,
  ...extra,
});

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ auth: { username: 'etl', password: 'registry-pw' } });
});
afterAll(async () => {
  await registry.close();
  await closeProducer();
});

const avroEnv = (topic: string, extra: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_TOPICS: topic,
  KAFKA_VALUE_FORMAT: 'avro',
  SCHEMA_REGISTRY_URL: registry.url,
  SCHEMA_REGISTRY_USERNAME: 'etl',
  SCHEMA_REGISTRY_PASSWORD: 'registry-pw',
  ...extra,
});

describe('avro values through the schema registry', () => {
  it('discovers one column per field of the latest schema with exact logical types', async () => {
    const topic = uniqueTopic('avro-discover');
    registry.register(`${topic}-value`, ORDER_V1);
    await produce(topic, [{ partition: 0, value: registry.encode(registry.register(`${topic}-value`, ORDER_V1), order(1n)) }]);
    const { out } = await cli(['discover'], avroEnv(topic));
    const stream = (out.streams as { name: string; columns: { name: string; type: unknown }[] }[]).find((s) => s.name === topic)!;
    expect(stream.columns.map((c) => [c.name, c.type])).toEqual([
      ['_kafka_topic', 'string'],
      ['_kafka_partition', 'int32'],
      ['_kafka_offset', 'int64'],
      ['_kafka_timestamp', 'timestamptz'],
      ['_kafka_key', 'bytes'],
      ['_kafka_headers', 'json'],
      ['id', 'int64'],
      ['amount', { decimal: [12, 2] }],
      ['placed_at', 'timestamptz'],
      ['day', 'date'],
      ['status', 'string'],
      ['note', 'string'],
      ['lines', 'json'],
      ['ref', 'uuid'],
      ['score', 'float64'],
      ['ok', 'boolean'],
      ['value__kafka_offset', 'int32'],
    ]);
  });

  it('lands exact values, and a newer writer schema adds its new field as a column instead of dropping it', async () => {
    const topic = uniqueTopic('avro-read');
    const v1 = registry.register(`${topic}-value`, ORDER_V1);
    const v2 = registry.register(`${topic}-other`, ORDER_V2); // not the subject's latest: discover sees v1 only
    await produce(topic, [
      { partition: 0, value: registry.encode(v1, order(9007199254740993n)) },
      { partition: 0, value: registry.encode(v2, order(2n, { channel: 'web', note: 'gift' })) },
      { partition: 0, value: null },
    ]);
    const { reports, target } = await runMemory(configFor(avroEnv(topic)), [topic], { batchSize: 2 });
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 3, newColumns: ['channel'] });
    const rows = liveObjects(target, topic);
    expect(rows[0]).toMatchObject({
      id: 9007199254740993n,
      amount: '-1234.50',
      placed_at: 1700000000123000n,
      day: 19675,
      status: 'PAID',
      note: null,
      lines: '[{"sku":"a\\"b","qty":9007199254740993}]',
      ref: '0e8f4d9c-1b2a-4c3d-9e8f-0a1b2c3d4e5f',
      score: 0.1,
      ok: true,
      value__kafka_offset: 7,
      _kafka_offset: 0n,
      channel: null,
    });
    expect(rows[1]).toMatchObject({ id: 2n, note: 'gift', channel: 'web' });
    expect(rows[2]).toMatchObject({ id: null, channel: null, _kafka_offset: 2n });
  });

  it('decodes Avro keys into _kafka_key as JSON text', async () => {
    const topic = uniqueTopic('avro-key');
    const keyId = registry.register(`${topic}-key`, { type: 'record', name: 'Key', fields: [{ name: 'tenant', type: 'string' }, { name: 'n', type: 'long' }] });
    const valueId = registry.register(`${topic}-value`, ORDER_V1);
    await produce(topic, [{ partition: 0, key: registry.encode(keyId, { tenant: 'acme', n: 5n }), value: registry.encode(valueId, order(1n)) }]);
    const [batch] = (await readBatches(configFor(avroEnv(topic, { KAFKA_KEY_FORMAT: 'avro' })), topic)).filter((b) => b.rows.length);
    expect(batch!.rows[0]![4]).toBe('{"tenant":"acme","n":5}');
  });

  it('fails with exit 4 naming topic, partition and offset on an unknown schema id, storing nothing past it', async () => {
    const topic = uniqueTopic('avro-unknown');
    const v1 = registry.register(`${topic}-value`, ORDER_V1);
    const unknown = Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]);
    await produce(topic, [
      { partition: 3, value: registry.encode(v1, order(1n)) },
      { partition: 3, value: unknown },
    ]);
    const { reports, target } = await runMemory(configFor(avroEnv(topic)), [topic]);
    expect(reports[0]).toMatchObject({ status: 'failed', error: { code: 'DATA.INVALID_RECORD' } });
    expect(reports[0]!.error!.message).toContain(`topic ${topic} partition 3 offset 1: value has schema id 32639, which the schema registry does not know`);
    expect(reports[0]!.error!.message).toContain('KAFKA_POISON_POLICY=quarantine');
    const kit = target.states.get('kafka')?.[topic]?.kit as { offsets: Record<string, string> } | undefined;
    expect(Number(kit?.offsets['3'] ?? 0)).toBeLessThanOrEqual(1);
  });

  it('sets undecodable messages aside in the quarantine output with the reason and raw bytes, and goes on', async () => {
    const topic = uniqueTopic('avro-quarantine');
    const v1 = registry.register(`${topic}-value`, ORDER_V1);
    const truncated = registry.encode(v1, order(3n)).subarray(0, 9);
    await produce(topic, [
      { partition: 1, value: Buffer.from('{"not":"avro"}') },
      { partition: 1, value: truncated },
      { partition: 1, value: registry.encode(v1, order(4n)) },
    ]);
    const { reports, target } = await runMemory(configFor(avroEnv(topic, { KAFKA_POISON_POLICY: 'quarantine' })), [topic]);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rows: 1, quarantined: 2 });
    const rows = liveObjects(target, topic);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 4n, _kafka_offset: 2n });
    const poison = quarantineObjects(target, topic);
    expect(poison.map((r) => [r._kafka_partition, r._kafka_offset, r.reason])).toEqual([
      [1, 0n, 'value is not in the Confluent Avro wire format (no magic byte 0 and schema id)'],
      [1, 1n, expect.stringMatching(new RegExp(`^value does not decode with schema id ${v1}: `))],
    ]);
    expect(Buffer.from(poison[0]!.raw_value as Uint8Array).toString()).toBe('{"not":"avro"}');
    expect(Buffer.compare(poison[1]!.raw_value as Uint8Array, truncated)).toBe(0);
    expect(target.states.get('kafka')![topic]!.kit).toMatchObject({ offsets: { '1': '3' } });
  });

  it('fails check with exit 3 and a scrubbed message when the registry rejects the password', async () => {
    const topic = uniqueTopic('avro-auth');
    await produce(topic, [{ partition: 0, value: Buffer.from('x') }]);
    const { code, out } = await cli(['check'], avroEnv(topic, { SCHEMA_REGISTRY_PASSWORD: 'wrong-secret' }));
    expect(code).toBe(3);
    const error = out.error as { code: string; message: string };
    expect(error.code).toBe('SOURCE.AUTH_FAILED');
    expect(error.message).toContain('SCHEMA_REGISTRY_PASSWORD');
    expect(error.message).not.toContain('wrong-secret');
  });
});
