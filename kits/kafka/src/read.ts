/**
 * A bounded read of one topic: read the end of every partition this process owns once, fetch until
 * each partition reaches it (or the run's budget ends), yield rows in batches whose checkpoint is the
 * next offset of every partition, and stop. Partitions are assigned, not subscribed: no group join,
 * no rebalance mid-range (see wire.ts). The next round is fetched while the current one is decoded
 * and written.
 */
import { DatakitError, type Batch, type Context, type Row, type Stream, type StreamState } from '@datakit/core';
import { ownedPartitions, resumeOffsets, runBudget, toCheckpoint } from './checkpoint.js';
import { connectCluster } from './client.js';
import { FIXED_WIDTH } from './columns.js';
import type { KafkaKitConfig } from './config.js';
import { keyDecoder, valueDecoder } from './decode.js';
import { kafkaError } from './errors.js';
import { fetchRound, nextOffset, OffsetOutOfRange, visibleMessages } from './fetch.js';
import { commitStored, registerReader } from './group.js';
import { memberOf } from './membership.js';
import { Registry } from './registry.js';
import { RowBuilder } from './rows.js';
import { resolveRange, retentionGap } from './start.js';
import { listOffsets, partitionIds, type FetchedPartition, type WireCluster } from './wire.js';

/** Read one topic (the stream) from its stored offsets to the high watermarks at the start. */
export async function* readTopic(ctx: Context, config: KafkaKitConfig, stream: Stream, state: StreamState | undefined): AsyncGenerator<Batch> {
  const topic = stream.name;
  const log = ctx.logger;
  // in a scale-out through the group: the reads of this generation return when it rebalances
  const member = memberOf(ctx.runId);
  const revoked = member?.revoked;
  const budget = runBudget(ctx.runId, config.maxMessages, config.maxSeconds);
  const registry = config.keyFormat === 'avro' || config.valueFormat === 'avro' ? new Registry(config) : undefined;
  const rows = new RowBuilder(topic, config, stream.columns.slice(0, FIXED_WIDTH), keyDecoder(config.keyFormat, registry), valueDecoder(config.valueFormat, registry, stream.columns.slice(FIXED_WIDTH)));
  let width = rows.columns().length;
  let cluster: WireCluster | undefined;
  let inflight: Promise<FetchedPartition[]> | undefined;
  let unregister: (() => void) | undefined;
  try {
    try {
      cluster = await connectCluster(config, log);
      await cluster.addTargetTopic(topic);
    } catch (e) {
      throw kafkaError(e, `connecting to read topic ${topic}`, topic);
    }
    const owned = ownedPartitions(partitionIds(cluster, topic), ctx.partition);
    const { offsets: stored, adopted } = resumeOffsets(state, ctx.splitStates, topic, owned);
    if (config.groupId) {
      await commitStored(cluster, config.groupId, topic, stored, owned, log, member);
      unregister = registerReader(stream, cluster, owned);
    }
    const range = await resolveRange({ cluster, topic, partitions: owned, stored, adopted, config, logger: log }).catch((e: unknown) => {
      throw kafkaError(e, `reading the offsets of topic ${topic}`, topic);
    });
    const positions = range.start;
    const fetchAt = new Map(positions);
    const pending = (): Map<number, bigint> => new Map([...fetchAt].filter(([p, o]) => o < range.end.get(p)!));
    let lag = 0n;
    for (const [p, o] of pending()) lag += range.end.get(p)! - o;
    log.info({ topic, partitions: owned, messages: lag.toString() }, 'reading to the high watermarks');
    if (range.mustStore) yield { rows: [], checkpoint: toCheckpoint(positions) };

    let batch: Row[] = [];
    let read = 0;
    // a start not yet stored (earliest on a first run) is stored with the first batch, or at the end
    let last = range.changed && !range.mustStore ? '' : JSON.stringify(toCheckpoint(positions));
    const flush = (): Batch => {
      const cols = rows.columns();
      const grown = cols.length > width;
      if (grown) {
        width = cols.length;
        for (const r of batch) while (r.length < width) r.push(null);
      }
      const cp = toCheckpoint(positions);
      last = JSON.stringify(cp);
      const quarantine = rows.takeQuarantined();
      const out: Batch = { rows: batch, checkpoint: cp, ...(grown ? { columns: cols } : {}), ...(quarantine.length ? { quarantine } : {}) };
      batch = [];
      return out;
    };
    const stop = (): boolean => ctx.signal.aborted || revoked?.aborted === true;
    const canFetch = (): boolean => !stop() && Date.now() < budget.deadline && budget.messagesLeft > 0 && pending().size > 0;
    const fetchNext = (): Promise<FetchedPartition[]> => fetchRound({ cluster: cluster!, topic, offsets: pending(), config, signal: ctx.signal });
    inflight = canFetch() ? fetchNext() : undefined;
    let idle = 0;

    while (inflight) {
      let round: FetchedPartition[];
      try {
        round = await inflight;
      } catch (e) {
        inflight = undefined;
        if (!(e instanceof OffsetOutOfRange)) throw kafkaError(e, `fetching topic ${topic}`, topic);
        // retention deleted offsets between the start and this fetch
        const lo = (await listOffsets(cluster, topic, [e.partition], 'earliest')).get(e.partition) ?? 0n;
        const at = fetchAt.get(e.partition)!;
        if (config.onRetentionGap === 'fail' || lo <= at) throw retentionGap(topic, e.partition, at, lo);
        log.warn({ topic, partition: e.partition, from: at.toString(), logStart: lo.toString() }, 'offsets deleted by retention before they were read: continuing from the log start');
        fetchAt.set(e.partition, lo);
        positions.set(e.partition, lo);
        inflight = canFetch() ? fetchNext() : undefined;
        continue;
      }
      let progressed = false;
      const ends = new Map<number, bigint>();
      for (const data of round) {
        const from = fetchAt.get(data.partition);
        if (from === undefined) continue;
        const next = nextOffset(from, data);
        const end = range.end.get(data.partition)!;
        ends.set(data.partition, next < end ? next : end);
        if (next > from) progressed = true;
        fetchAt.set(data.partition, next);
      }
      idle = progressed ? 0 : idle + 1;
      if (idle > 50) throw new DatakitError('SOURCE.TRANSIENT', `topic ${topic}: fetches return no data below the high watermark`, { where: { kit: 'kafka', stream: topic } });
      // fetch the next round while this one is decoded and written
      inflight = canFetch() ? fetchNext() : undefined;

      for (const data of round) {
        const from = positions.get(data.partition);
        if (from === undefined) continue;
        const end = range.end.get(data.partition)!;
        const messages = visibleMessages(data);
        await rows.prepare(messages);
        let cut = false;
        for (const m of messages) {
          const offset = BigInt(m.offset);
          if (offset < from) continue;
          if (offset >= end) break;
          if (budget.messagesLeft <= 0) {
            cut = true;
            break;
          }
          const row = rows.row(data.partition, offset, m);
          if (row) batch.push(row);
          positions.set(data.partition, offset + 1n);
          budget.messagesLeft--;
          read++;
          if (batch.length + rows.heldCount >= ctx.batchSize) {
            yield flush();
            if (stop()) return;
          }
        }
        // offsets without a visible message (transaction markers, aborted or compacted records)
        const to = ends.get(data.partition)!;
        if (!cut && to > positions.get(data.partition)!) positions.set(data.partition, to);
      }
      if (inflight && (budget.messagesLeft <= 0 || stop())) {
        inflight.catch(() => undefined);
        inflight = undefined;
      }
    }
    if (batch.length || rows.heldCount || JSON.stringify(toCheckpoint(positions)) !== last) yield flush();
    const behind = [...positions].filter(([p, o]) => o < range.end.get(p)!).length;
    log.info({ topic, messages: read, quarantined: rows.quarantined, complete: behind === 0 }, behind ? `stopped before the high watermarks (${revoked?.aborted ? 'the group rebalanced' : 'budget or signal'})` : 'reached the high watermarks');
  } finally {
    unregister?.();
    inflight?.catch(() => undefined);
    await cluster?.disconnect().catch(() => undefined);
  }
}
