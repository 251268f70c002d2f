/**
 * A topic's bronze columns: lineage first (fixed), the quarantine columns when poison messages are
 * quarantined, then the value columns (which grow at the end when a newer Avro schema adds fields).
 */
import type { Column } from '@datakit/core';
import type { KafkaKitConfig } from './config.js';
import { formatType } from './decode.js';

/**
 * Lineage columns every row carries, in this order. `_kafka_key` is typed by `KAFKA_KEY_FORMAT`; the
 * partition column's source type names the topic's partitions (what `discover` shows of them).
 */
export function lineageColumns(config: Pick<KafkaKitConfig, 'keyFormat'>, partitions?: number[]): Column[] {
  const ids = partitions?.length ? ` ${partitions[0]}..${partitions[partitions.length - 1]}` : '';
  return [
    { name: '_kafka_topic', type: 'string', nullable: false, sourceType: 'kafka topic' },
    { name: '_kafka_partition', type: 'int32', nullable: false, sourceType: `kafka partition${ids}` },
    { name: '_kafka_offset', type: 'int64', nullable: false, sourceType: 'kafka offset' },
    { name: '_kafka_timestamp', type: 'timestamptz', nullable: true, sourceType: 'kafka timestamp (ms)' },
    { name: '_kafka_key', type: formatType(config.keyFormat), nullable: true, sourceType: `kafka key (${config.keyFormat})` },
    { name: '_kafka_headers', type: 'json', nullable: false, sourceType: 'kafka headers' },
  ];
}

/** With `KAFKA_POISON_POLICY=quarantine`: why a message did not decode, and its raw bytes. */
export const QUARANTINE_COLUMNS: readonly Column[] = [
  { name: '_kafka_error', type: 'string', nullable: true, sourceType: 'datakit quarantine reason' },
  { name: '_kafka_raw_key', type: 'bytes', nullable: true, sourceType: 'kafka key (raw, quarantined rows only)' },
  { name: '_kafka_raw_value', type: 'bytes', nullable: true, sourceType: 'kafka value (raw, quarantined rows only)' },
];

/** How many leading columns are not value columns. */
export function fixedWidth(config: Pick<KafkaKitConfig, 'poisonPolicy'>): number {
  return 6 + (config.poisonPolicy === 'quarantine' ? QUARANTINE_COLUMNS.length : 0);
}

/** All columns of a topic's stream. */
export function topicColumns(config: Pick<KafkaKitConfig, 'keyFormat' | 'poisonPolicy'>, valueColumns: Column[], partitions?: number[]): Column[] {
  return [...lineageColumns(config, partitions), ...(config.poisonPolicy === 'quarantine' ? QUARANTINE_COLUMNS : []), ...valueColumns];
}
