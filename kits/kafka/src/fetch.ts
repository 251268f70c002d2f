/**
 * One fetch round: a Fetch request to the leader of each group of partitions, in parallel, with
 * recovery from stale metadata (a leader moved) and the partitions whose offset fell out of range.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaKitConfig } from './config.js';
import { ISOLATION, type FetchedPartition, type WireCluster } from './wire.js';

/** kafkajs error types after which fresh metadata lets the same fetch succeed. */
const STALE = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'KAFKA_STORAGE_ERROR',
]);
const STALE_NAMES = new Set(['KafkaJSBrokerNotFound', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSMetadataNotLoaded', 'KafkaJSLockTimeout']);

/** A fetch found a partition's offset outside the log (retention deleted it, or the log was truncated). */
export class OffsetOutOfRange extends Error {
  override readonly name = 'OffsetOutOfRange';
  constructor(readonly partition: number) {
    super(`partition ${partition}: offset out of range`);
  }
}

/** What a fetch round needs. */
export interface FetchParams {
  cluster: WireCluster;
  topic: string;
  /** Next offset to fetch, per partition. */
  offsets: Map<number, bigint>;
  config: Pick<KafkaKitConfig, 'isolation' | 'fetchMaxBytes' | 'partitionMaxBytes'>;
  /** Broker wait when a partition has no data yet (short: a bounded run only asks for data that exists). */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

async function once(p: FetchParams): Promise<FetchedPartition[]> {
  const leaders = p.cluster.findLeaderForPartitions(p.topic, [...p.offsets.keys()]);
  const rounds = Object.entries(leaders).map(async ([nodeId, partitions]) => {
    const broker = await p.cluster.findBroker({ nodeId });
    const res = await broker.fetch({
      isolationLevel: ISOLATION[p.config.isolation],
      maxWaitTime: p.maxWaitMs ?? 100,
      minBytes: 1,
      maxBytes: p.config.fetchMaxBytes,
      topics: [{ topic: p.topic, partitions: partitions.map((partition) => ({ partition, fetchOffset: p.offsets.get(partition)!.toString(), maxBytes: p.config.partitionMaxBytes })) }],
    });
    return res.responses.flatMap((r) => r.partitions);
  });
  return (await Promise.all(rounds)).flat();
}

/**
 * Fetch every partition in `offsets` once (a partition may come back without messages).
 * @throws OffsetOutOfRange for a partition whose offset is not in the log
 */
export async function fetchRound(p: FetchParams, attempts = 6): Promise<FetchedPartition[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(p);
    } catch (e) {
      const err = e as { name?: string; type?: string; partition?: number };
      if (err.name === 'KafkaJSOffsetOutOfRange' && typeof err.partition === 'number') throw new OffsetOutOfRange(err.partition);
      const stale = STALE.has(err.type ?? '') || STALE_NAMES.has(err.name ?? '');
      if (!stale || attempt >= attempts || p.signal?.aborted) throw e;
      await sleep(Math.min(100 * 2 ** attempt, 3_000));
      await p.cluster.refreshMetadata().catch(() => undefined);
    }
  }
}

/**
 * The offset after the last record of a fetched partition's data: the last message, or the end of
 * its record batch (compaction and transaction markers leave offsets without a message).
 */
export function nextOffset(from: bigint, data: FetchedPartition): bigint {
  const last = data.messages[data.messages.length - 1];
  if (!last) return from;
  let next = BigInt(last.offset) + 1n;
  const b = last.batchContext;
  if (b) {
    const end = BigInt(b.firstOffset) + BigInt(b.lastOffsetDelta) + 1n;
    if (end > next) next = end;
  }
  return next > from ? next : from;
}

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/**
 * The messages a read_committed consumer sees: without control records and without the messages of
 * aborted transactions (the fetch response lists where each aborted transaction starts; its abort
 * marker ends it). The same rule as kafkajs's consumer and the Java client.
 */
export function visibleMessages(data: FetchedPartition): FetchedPartition['messages'] {
  const aborted = data.abortedTransactions?.length ? [...data.abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1)) : undefined;
  if (!aborted) return data.messages.some((m) => m.isControlRecord) ? data.messages.filter((m) => !m.isControlRecord) : data.messages;
  const open = new Set<string>();
  return data.messages.filter((m) => {
    while (aborted.length && BigInt(m.offset) >= BigInt(aborted[0]!.firstOffset)) open.add(aborted.shift()!.producerId);
    const producer = m.batchContext?.producerId ?? '';
    if (m.isControlRecord) {
      if (m.key && ABORT_MARKER.equals(m.key)) open.delete(producer);
      return false;
    }
    return !(open.has(producer) && m.batchContext?.inTransaction);
  });
}
