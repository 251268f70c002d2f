/**
 * `@datakit/kit-kafka`: bounded, exactly-once Kafka extraction into bronze. See docs/kits/kafka.md.
 */
export { kafkaKit } from './kit.js';
export { kafkaConfig, selectTopics, type KafkaKitConfig, type Format } from './config.js';
export { exactType, exactTypeHook } from './avro.js';
export { exactJson, headersJson } from './json.js';
export { parseCheckpoint, toCheckpoint, ownedPartitions, type KafkaCheckpoint } from './checkpoint.js';
