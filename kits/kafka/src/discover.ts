/**
 * Discover: one incremental stream per selected topic, with its partitions and columns — lineage and
 * the value: one column of the value format, or with Avro one column per field of the latest schema
 * of the topic's `<topic>-value` subject — and, when poison messages are quarantined, the columns of
 * its quarantine output.
 */
import { DatakitError, type Column, type Context, type Stream } from '@datakit/core';
import { connectCluster } from './client.js';
import { quarantineColumns, topicColumns } from './columns.js';
import { selectTopics, type KafkaKitConfig } from './config.js';
import { avroValueColumns, formatType } from './decode.js';
import { kafkaError } from './errors.js';
import { Registry } from './registry.js';
import type { WireCluster } from './wire.js';

/** Topics of the cluster with their partition ids. */
export async function listTopics(cluster: WireCluster): Promise<Map<string, number[]>> {
  const meta = await cluster.metadata({ topics: [] });
  return new Map(meta.topicMetadata.map((t) => [t.topic, t.partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b)]));
}

/** The selected topics and their partitions. @throws DatakitError `SOURCE.NOT_FOUND` for a named topic that does not exist */
export async function selectedTopics(cluster: WireCluster, config: KafkaKitConfig): Promise<[string, number[]][]> {
  const all = await listTopics(cluster);
  const { topics, missing } = selectTopics([...all.keys()], config.topics);
  if (missing.length) {
    throw new DatakitError('SOURCE.NOT_FOUND', `topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in the cluster`, { where: { kit: 'kafka' }, fix: 'check KAFKA_TOPICS (names, or /regular expressions/)' });
  }
  return topics.map((t) => [t, all.get(t)!]);
}

async function valueColumns(config: KafkaKitConfig, registry: Registry | undefined, topic: string, ctx: Context): Promise<Column[]> {
  if (config.valueFormat !== 'avro') return [{ name: 'value', type: formatType(config.valueFormat), nullable: true, sourceType: `kafka value (${config.valueFormat})` }];
  const latest = await registry!.latest(`${topic}-value`);
  if (!latest) {
    ctx.logger.warn({ topic, subject: `${topic}-value` }, 'no Avro schema registered for the topic: its columns come from the schemas of the messages read');
    return [];
  }
  return avroValueColumns(latest);
}

/** The streams of the selected topics. */
export async function discoverTopics(ctx: Context, config: KafkaKitConfig): Promise<Stream[]> {
  let cluster: WireCluster | undefined;
  try {
    let topics: [string, number[]][];
    try {
      cluster = await connectCluster(config, ctx.logger);
      topics = await selectedTopics(cluster, config);
    } catch (e) {
      throw kafkaError(e, 'listing topics');
    }
    const registry = config.valueFormat === 'avro' ? new Registry(config) : undefined;
    const streams: Stream[] = [];
    for (const [topic, partitions] of topics) {
      const quarantine = quarantineColumns(config, partitions);
      streams.push({
        name: topic,
        columns: topicColumns(config, await valueColumns(config, registry, topic, ctx), partitions),
        ...(quarantine ? { quarantineColumns: quarantine } : {}),
        primaryKey: ['_kafka_partition', '_kafka_offset'],
        cursorCandidates: ['_kafka_offset'],
        syncMode: 'incremental',
        cursorField: ['_kafka_partition', '_kafka_offset'],
        source: { partitions },
      });
    }
    return streams;
  } finally {
    await cluster?.disconnect().catch(() => undefined);
  }
}
