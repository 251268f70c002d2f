/**
 * The kafka kit: bounded runs that drain what the topics hold now into bronze and exit, exactly once
 * however often they are killed (offsets are stored with the bronze rows). See docs/kits/kafka.md.
 */
import { createRequire } from 'node:module';
import { defineKit, type Context } from '@datakit/core';
import { connectCluster } from './client.js';
import { kafkaConfig, type KafkaKitConfig } from './config.js';
import { discoverTopics, selectedTopics } from './discover.js';
import { kafkaError } from './errors.js';
import { commitStoredCheckpoint } from './group.js';
import { GroupMember } from './membership.js';
import { readTopic } from './read.js';
import { Registry } from './registry.js';
import { fetchGroupOffsets, listOffsets, type WireCluster } from './wire.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Prove the brokers accept the credentials, the selected topics exist and their offsets can be read,
 * the consumer group (if any) can be described, and the schema registry (if any) answers.
 */
async function check(ctx: Context, config: KafkaKitConfig): Promise<void> {
  let cluster: WireCluster | undefined;
  try {
    cluster = await connectCluster(config, ctx.logger);
    const topics = await selectedTopics(cluster, config);
    const first = topics[0];
    if (first) {
      await cluster.addTargetTopic(first[0]);
      await listOffsets(cluster, first[0], first[1], 'latest');
      if (config.groupId) await fetchGroupOffsets(cluster, config.groupId, first[0], first[1]);
    }
    ctx.logger.info({ topics: topics.length }, 'check: brokers answered, topics listed');
  } catch (e) {
    throw kafkaError(e, 'check');
  } finally {
    await cluster?.disconnect().catch(() => undefined);
  }
  if (config.keyFormat === 'avro' || config.valueFormat === 'avro') await new Registry(config).latest('datakit-check-value');
}

/** The kafka kit. */
export const kafkaKit = defineKit<KafkaKitConfig>({
  name: 'kafka',
  version,
  config: kafkaConfig,
  check,
  discover: discoverTopics,
  read: readTopic,
  stored: commitStoredCheckpoint,
  // with KAFKA_GROUP_ID, the run's containers join the group and split the partitions (membership.ts)
  assign: async (ctx, config, streams, storedKeys) => {
    const { groupId } = config;
    if (!groupId || !config.groupJoin) return undefined;
    return (await GroupMember.join(ctx, { ...config, groupId }, streams.map((s) => s.name), storedKeys)).assignment();
  },
});
