/**
 * The Kafka requests the kit sends, on kafkajs's protocol layer (its `Cluster` and `Broker`).
 *
 * Why not kafkajs's `consumer.run()`: a bounded run knows exactly which partitions and offset ranges
 * it reads, so it fetches them itself (like the Java client's `assign()`). That saves the
 * `disconnect()` that waits out a fetch long-poll and kafkajs's own rebalance handling; a scale-out
 * joins the group only to split the work, with the kit's own assignment (membership.ts). kafkajs has
 * no public `assign()`, so this module reaches its cluster through the one private factory the
 * `Kafka` client keeps (pinned kafkajs 2.2.4) and types only what it uses. Offsets are committed to
 * the group as a "simple consumer" (generation -1, no member id), which Kafka accepts while no member
 * has joined the group, or, in a scale-out through the group (membership.ts), as a member.
 */
import type { Kafka } from 'kafkajs';

/** One partition of a topic, from the cluster metadata. */
export interface PartitionMeta {
  partitionId: number;
  leader: number;
  partitionErrorCode: number;
}

/** A message as kafkajs's record-batch decoder returns it. */
export interface WireMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since epoch, as a decimal string; `-1` when the producer set none. */
  timestamp: string;
  headers?: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord?: boolean;
  batchContext?: { firstOffset: string; lastOffsetDelta: number; isControlBatch?: boolean; inTransaction?: boolean; producerId?: string };
}

/** One partition of a fetch response. */
export interface FetchedPartition {
  partition: number;
  highWatermark: string;
  lastStableOffset?: string;
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: WireMessage[];
}

interface WireBroker {
  fetch(req: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
  offsetCommit(req: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    retentionTime?: number;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<unknown>;
  joinGroup(req: {
    groupId: string;
    sessionTimeout: number;
    rebalanceTimeout: number;
    memberId: string;
    protocolType: string;
    groupProtocols: { name: string; metadata: Buffer }[];
  }): Promise<{ generationId: number; leaderId: string; memberId: string; members: { memberId: string; memberMetadata: Buffer }[] }>;
  syncGroup(req: { groupId: string; generationId: number; memberId: string; groupAssignment: { memberId: string; memberAssignment: Buffer }[] }): Promise<{ memberAssignment: Buffer }>;
  heartbeat(req: { groupId: string; groupGenerationId: number; memberId: string }): Promise<unknown>;
  leaveGroup(req: { groupId: string; memberId: string }): Promise<unknown>;
  offsetFetch(req: { groupId: string; topics: { topic: string; partitions: { partition: number }[] }[] }): Promise<{
    responses: { topic: string; partitions: { partition: number; offset: string; errorCode?: number }[] }[];
  }>;
}

/** The part of kafkajs's `Cluster` the kit uses. */
export interface WireCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  metadata(req?: { topics: string[] }): Promise<{ topicMetadata: { topic: string; partitionMetadata: PartitionMeta[] }[] }>;
  findTopicPartitionMetadata(topic: string): PartitionMeta[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(req: { nodeId: string }): Promise<WireBroker>;
  findGroupCoordinator(req: { groupId: string }): Promise<WireBroker>;
  fetchTopicsOffset(topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[]): Promise<
    { topic: string; partitions: { partition: number; offset: string }[] }[]
  >;
}

type ClusterFactory = (opts: { metadataMaxAge: number; allowAutoTopicCreation: boolean; isolationLevel: number }) => WireCluster;

/** kafkajs's isolation levels on the wire. */
export const ISOLATION = { read_uncommitted: 0, read_committed: 1 } as const;

/**
 * A cluster connection (not yet connected) that never auto-creates topics.
 * @throws Error when the kafkajs build does not have the factory (a kafkajs upgrade needs this module reviewed).
 */
export function createCluster(kafka: Kafka, isolationLevel: number): WireCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = key ? (kafka as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof factory !== 'function') throw new Error('kafkajs internals changed: Kafka has no cluster factory (the kafka kit pins kafkajs 2.2.4)');
  return (factory as ClusterFactory)({ metadataMaxAge: 300_000, allowAutoTopicCreation: false, isolationLevel });
}

/** Partition ids of a topic (after `addTargetTopic`), sorted. */
export function partitionIds(cluster: WireCluster, topic: string): number[] {
  return cluster
    .findTopicPartitionMetadata(topic)
    .map((p) => p.partitionId)
    .sort((a, b) => a - b);
}

/** `latest` (high watermark, or the last stable offset under read_committed) or `earliest` (log start) offsets. */
export async function listOffsets(cluster: WireCluster, topic: string, partitions: number[], which: 'earliest' | 'latest'): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  if (!partitions.length) return out;
  const res = await cluster.fetchTopicsOffset([{ topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: which === 'earliest' }]);
  for (const t of res) for (const p of t.partitions) out.set(p.partition, BigInt(p.offset));
  return out;
}

/** Committed offsets of a consumer group (partitions without one are left out). */
export async function fetchGroupOffsets(cluster: WireCluster, groupId: string, topic: string, partitions: number[]): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  if (!partitions.length) return out;
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  const res = await coordinator.offsetFetch({ groupId, topics: [{ topic, partitions: partitions.map((partition) => ({ partition })) }] });
  for (const t of res.responses) for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.set(p.partition, BigInt(p.offset));
  return out;
}

/**
 * Commit offsets (the next offset to read, Kafka's convention): as the member of `generation` (the
 * coordinator refuses a stale one), else as a simple consumer.
 */
export async function commitGroupOffsets(cluster: WireCluster, groupId: string, topic: string, offsets: Map<number, bigint>, generation?: { generationId: number; memberId: string }): Promise<void> {
  if (!offsets.size) return;
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  await coordinator.offsetCommit({
    groupId,
    groupGenerationId: generation?.generationId ?? -1,
    memberId: generation?.memberId ?? '',
    topics: [{ topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })) }],
  });
}
