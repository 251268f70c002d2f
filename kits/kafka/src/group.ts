/**
 * Offsets committed to the consumer group (`KAFKA_GROUP_ID`) so lag monitoring (Burrow, kafka-lag-
 * exporter, `kafka-consumer-groups --describe`) sees the extractor. The group is a mirror, never the
 * truth: the truth is the checkpoint core stored with the bronze rows. It is committed only from
 * stored checkpoints, so it never runs ahead of bronze:
 *
 * - at the start of each read, the stored offsets (covers a run that was killed after storing);
 * - each time core has stored a checkpoint (`kit.stored`): during the read over the read's own
 *   connection, after the read's last commit over a short-lived one.
 *
 * A failed commit is logged and does not fail the run.
 */
import type { Context, Logger, Stream, StreamState } from '@datakit/core';
import { parseCheckpoint } from './checkpoint.js';
import { connectCluster } from './client.js';
import type { KafkaKitConfig } from './config.js';
import { kafkaError } from './errors.js';
import { memberOf, type GroupMember } from './membership.js';
import { commitGroupOffsets, type WireCluster } from './wire.js';

/** Commit the stored offsets of the partitions this process owns; log, never throw. */
export async function commitStored(cluster: WireCluster, groupId: string, topic: string, stored: Map<number, bigint>, owned: number[], log: Logger, member?: GroupMember): Promise<boolean> {
  const offsets = new Map([...stored].filter(([p]) => owned.includes(p)));
  if (!offsets.size) return true;
  try {
    await commitGroupOffsets(cluster, groupId, topic, offsets, member?.generation());
    log.debug({ topic, groupId, partitions: offsets.size }, 'stored offsets committed to the consumer group');
    return true;
  } catch (e) {
    const err = kafkaError(e, `committing offsets of topic ${topic} to group ${groupId}`, topic);
    const fenced = /UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS/.test(err.message);
    if (fenced && member) {
      // this member's generation is over (another member joined or left): rejoin, and whoever owns
      // the partitions next commits the stored offsets when its read starts
      log.info({ topic, groupId }, 'consumer group commit refused: the group is rebalancing; the next owner of the partitions commits them');
      member.revoke('offset commit refused');
      return false;
    }
    log.warn(
      { topic, groupId, code: err.code, err: err.describe() },
      fenced
        ? 'consumer group commit rejected: another consumer has joined the group; use a KAFKA_GROUP_ID of its own for the extractor, or let the extractor join it (KAFKA_GROUP_JOIN)'
        : 'consumer group commit failed (lag monitoring will lag; bronze is unaffected)',
    );
    return false;
  }
}

/** The open connection and owned partitions of each stream being read (the Stream object `read` got). */
const reading = new WeakMap<Stream, { cluster: WireCluster; owned: number[] }>();
/** The offsets last committed for a stream in this process (JSON), so an unchanged one is not sent again. */
const committed = new WeakMap<Stream, string>();

/** While `read` runs: commit stored checkpoints of `stream` over its connection. Returns the undo. */
export function registerReader(stream: Stream, cluster: WireCluster, owned: number[]): () => void {
  reading.set(stream, { cluster, owned });
  return () => reading.delete(stream);
}

/**
 * `kit.stored`: core has stored `checkpoint` with its rows; mirror its offsets to the group. Over the
 * read's connection while it reads, else (after the read's last commit) over a new one.
 */
export async function commitStoredCheckpoint(ctx: Context, config: KafkaKitConfig, stream: Stream, checkpoint: StreamState): Promise<void> {
  if (!config.groupId) return;
  const offsets = parseCheckpoint(checkpoint, stream.name);
  const key = JSON.stringify([...offsets].map(([p, o]) => [p, o.toString()]));
  // e.g. the warehouse's last transaction, already committed during the read: no new connection
  if (committed.get(stream) === key) return;
  const open = reading.get(stream);
  let fresh: WireCluster | undefined;
  try {
    const cluster = open?.cluster ?? (fresh = await connectCluster(config, ctx.logger));
    if (await commitStored(cluster, config.groupId, stream.name, offsets, open?.owned ?? [...offsets.keys()], ctx.logger, memberOf(ctx.runId))) committed.set(stream, key);
  } catch (e) {
    // commitStored logs its own failures: only connecting can throw here
    ctx.logger.warn({ err: kafkaError(e, 'connecting to commit offsets', stream.name).describe() }, 'consumer group commit failed (lag monitoring will lag; bronze is unaffected)');
  } finally {
    await fresh?.disconnect().catch(() => undefined);
  }
}
