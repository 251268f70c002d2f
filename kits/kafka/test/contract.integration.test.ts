/**
 * The contract suite (STYLE §6) for the kafka kit. Each source is its own Kafka mock cluster (fixture
 * topics have fixed names, so offsets and golden rows are known) with its own schema registry (basic
 * auth: the "bad credentials" are a wrong registry password). Values are Avro: the richest format,
 * and the one with a type table. `DATAKIT_WRITE_GOLDEN=1` rewrites fixtures/expected/*.jsonl from the
 * fixture definitions in fixtures/topics.ts (never from the kit's output).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { describeKitContract, startKafka, writeGolden, type ContractSource, type ContractTarget } from '@datakit/testkit';
import { kafkaKit } from '../src/index.js';
import { MAPPED_TYPES } from '../src/type-map.js';
import { BIG_SCHEMA, FIXTURE_TOPICS, goldenRows, order, ORDER_SCHEMA, TYPE_FIELDS, type FixtureMessage } from './fixtures/topics.js';
import { startRegistry, type TestRegistry } from './registry-server.js';

const FIXTURES = join(__dirname, 'fixtures');

interface KafkaSource extends ContractSource {
  send(topic: string, schema: object, messages: FixtureMessage[]): Promise<void>;
}

async function kafkaSource(): Promise<KafkaSource> {
  const cluster = await startKafka({ reuse: false });
  const password = `pw-${randomBytes(4).toString('hex')}-Sup3r$ecret`;
  const bad = `wrong-${randomBytes(4).toString('hex')}-N0tIt`;
  const registry: TestRegistry = await startRegistry({ auth: { username: 'etl', password } });
  const producer: Producer = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const send = async (topic: string, schema: object, messages: FixtureMessage[]): Promise<void> => {
    const id = registry.register(`${topic}-value`, schema);
    for (let i = 0; i < messages.length; i += 5000) {
      await producer.send({
        topic,
        messages: messages.slice(i, i + 5000).map((m) => ({
          partition: m.partition,
          key: m.key,
          value: m.value === null ? null : registry.encode(id, m.value),
          timestamp: String(m.timestamp),
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      });
    }
  };
  for (const t of FIXTURE_TOPICS) await send(t.topic, t.schema, t.messages);
  const env = {
    KAFKA_BROKERS: cluster.brokers.join(','),
    KAFKA_VALUE_FORMAT: 'avro',
    SCHEMA_REGISTRY_URL: registry.url,
    SCHEMA_REGISTRY_USERNAME: 'etl',
    SCHEMA_REGISTRY_PASSWORD: password,
  };
  return {
    env,
    badCredentials: { env: { SCHEMA_REGISTRY_PASSWORD: bad }, setting: 'SCHEMA_REGISTRY_PASSWORD' },
    secrets: [password, bad],
    send,
    async close() {
      await producer.disconnect();
      await registry.close();
      await cluster.stop();
    },
  };
}

if (process.env.DATAKIT_WRITE_GOLDEN === '1') {
  for (const t of FIXTURE_TOPICS) writeGolden(join(FIXTURES, 'expected', `${t.topic}.jsonl`), goldenRows(t));
}

let nextOrder = 1000;

describeKitContract({
  kit: kafkaKit,
  main: join(__dirname, '../dist/main.js'),
  source: () => kafkaSource(),
  // a subset for local work while a target is unfinished (CI runs both)
  ...(process.env.DATAKIT_CONTRACT_TARGETS ? { targets: process.env.DATAKIT_CONTRACT_TARGETS.split(',') as ContractTarget[] } : {}),
  fixtures: {
    dir: FIXTURES,
    streams: [
      {
        name: 'orders',
        primaryKey: ['_kafka_partition', '_kafka_offset'],
        columns: [
          ['_kafka_topic', 'string'], ['_kafka_partition', 'int32'], ['_kafka_offset', 'int64'], ['_kafka_timestamp', 'timestamptz'], ['_kafka_key', 'bytes'], ['_kafka_headers', 'json'],
          ['id', 'int64'], ['customer', 'string'], ['amount', { decimal: [12, 2] }], ['placed_at', 'timestamptz'], ['status', 'string'], ['note', 'string'],
        ],
      },
      { name: 'select.2024-events', primaryKey: ['_kafka_partition', '_kafka_offset'] },
      { name: 'datakit_types', primaryKey: ['_kafka_partition', '_kafka_offset'] },
    ],
    secretSettings: ['KAFKA_SASL_PASSWORD', 'KAFKA_TLS_KEY', 'SCHEMA_REGISTRY_PASSWORD'],
    invalidConfigSetting: 'valueFormat',
    types: {
      stream: 'datakit_types',
      mappedTypes: MAPPED_TYPES,
      coveredTypes: async () => {
        const out: Record<string, string[]> = {};
        for (const f of TYPE_FIELDS) (out[f.mapped] ??= []).push(f.name);
        return out;
      },
    },
    incremental: {
      stream: 'orders',
      env: {},
      key: 'id',
      async appendRows(source, n) {
        const ids = Array.from({ length: n }, () => nextOrder++);
        await (source as KafkaSource).send('orders', ORDER_SCHEMA, ids.map(order));
        return ids.map(String);
      },
    },
    large: {
      stream: 'big_events',
      key: 'id',
      async seed(source, rows) {
        const messages = Array.from({ length: rows }, (_, id): FixtureMessage => ({ partition: id % 4, key: null, timestamp: 1_704_067_200_000 + id, value: { id: BigInt(id), payload: `payload ${id}` } }));
        await (source as KafkaSource).send('big_events', BIG_SCHEMA, messages);
        return messages.map((_, id) => String(id));
      },
    },
  },
});
