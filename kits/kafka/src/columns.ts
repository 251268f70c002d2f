/**
 * A topic's bronze columns: lineage first (fixed), then the value columns (which grow at the end when
 * a newer Avro schema adds fields); and, with `KAFKA_POISON_POLICY=quarantine`, the columns of the
 * stream's quarantine output.
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

/** How many leading columns of a topic's stream are not value columns. */
export const FIXED_WIDTH = 6;

/** All columns of a topic's stream. */
export function topicColumns(config: Pick<KafkaKitConfig, 'keyFormat'>, valueColumns: Column[], partitions?: number[]): Column[] {
  return [...lineageColumns(config, partitions), ...valueColumns];
}

/**
 * The quarantine output of a topic's stream (`KAFKA_POISON_POLICY=quarantine`): a poison message's
 * lineage (but the decoded key), why it did not decode, and its key and value exactly as sent.
 */
export function quarantineColumns(config: Pick<KafkaKitConfig, 'keyFormat' | 'poisonPolicy'>, partitions?: number[]): Column[] | undefined {
  if (config.poisonPolicy !== 'quarantine') return undefined;
  return [
    ...lineageColumns(config, partitions).filter((c) => c.name !== '_kafka_key'),
    { name: 'reason', type: 'string', nullable: false, sourceType: 'datakit quarantine reason' },
    { name: 'raw_key', type: 'bytes', nullable: true, sourceType: 'kafka key (as sent)' },
    { name: 'raw_value', type: 'bytes', nullable: true, sourceType: 'kafka value (as sent)' },
  ];
}
