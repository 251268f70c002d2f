/**
 * Where each partition of a bounded run starts and ends: the stored offset (else `KAFKA_START`), up
 * to the high watermark read once at the start — or, under read_committed, the last stable offset.
 */
import { DatakitError, type Logger } from '@datakit/core';
import type { KafkaKitConfig } from './config.js';
import { fetchGroupOffsets, listOffsets, type WireCluster } from './wire.js';

/** Start and end of every partition the run reads. */
export interface Range {
  /** Next offset to read, per partition. */
  start: Map<number, bigint>;
  /** First offset not to read (the high watermark at the start), per partition. */
  end: Map<number, bigint>;
  /**
   * A start that a re-run could not find again (`latest`, `group`): it must be stored before any
   * message is read, or a run killed before its first commit would start at a later end next time.
   */
  mustStore: boolean;
  /** A start did not come from the stored checkpoint (store it at the end even if nothing is read). */
  changed: boolean;
}

/** The error for stored offsets that retention deleted before they were read. */
export function retentionGap(topic: string, partition: number, from: bigint, logStart: bigint): DatakitError {
  return new DatakitError('SOURCE.QUERY_FAILED', `topic ${topic} partition ${partition}: offsets ${from}..${logStart - 1n} were deleted by retention before they were read (${logStart - from} messages lost)`, {
    where: { kit: 'kafka', stream: topic },
    fix: 'set KAFKA_ON_RETENTION_GAP=skip to continue from the log start, and run more often than the topic\'s retention',
  });
}

/** Resolve the range of each partition (see the module comment). */
export async function resolveRange(p: {
  cluster: WireCluster;
  topic: string;
  partitions: number[];
  stored: Map<number, bigint>;
  /** A stored offset came from another split (see resumeOffsets): store the start. */
  adopted?: boolean;
  config: Pick<KafkaKitConfig, 'start' | 'groupId' | 'onRetentionGap'>;
  logger: Logger;
}): Promise<Range> {
  const { cluster, topic, partitions, stored, config } = p;
  const [low, end] = await Promise.all([listOffsets(cluster, topic, partitions, 'earliest'), listOffsets(cluster, topic, partitions, 'latest')]);
  const fresh = partitions.filter((x) => !stored.has(x));
  const group = fresh.length && config.start === 'group' ? await fetchGroupOffsets(cluster, config.groupId!, topic, fresh) : new Map<number, bigint>();
  const start = new Map<number, bigint>();
  let changed = p.adopted === true;
  let mustStore = false;
  for (const partition of partitions) {
    const lo = low.get(partition) ?? 0n;
    const hi = end.get(partition) ?? lo;
    let pos = stored.get(partition);
    if (pos === undefined) {
      changed = true;
      mustStore ||= config.start !== 'earliest';
      pos = config.start === 'latest' ? hi : config.start === 'group' ? (group.get(partition) ?? lo) : lo;
    }
    if (pos > hi) {
      throw new DatakitError('STATE.CORRUPT', `topic ${topic} partition ${partition}: the stored offset ${pos} is beyond the end of the log (${hi}); was the topic deleted and re-created?`, {
        where: { kit: 'kafka', stream: topic },
        fix: `run --state-reset ${topic} to read it again from KAFKA_START`,
      });
    }
    if (pos < lo) {
      if (config.onRetentionGap === 'fail') throw retentionGap(topic, partition, pos, lo);
      p.logger.warn({ topic, partition, from: pos.toString(), logStart: lo.toString(), lost: (lo - pos).toString() }, 'offsets deleted by retention before they were read: continuing from the log start');
      pos = lo;
      changed = true;
    }
    start.set(partition, pos);
    end.set(partition, hi);
  }
  return { start, end, changed, mustStore };
}
