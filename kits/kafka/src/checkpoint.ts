/**
 * The kit's checkpoint: per partition of the topic, the next offset to read (Kafka's convention for
 * committed offsets), as decimal strings so offsets beyond 2^53 stay exact. Core stores it with the
 * bronze rows it covers (see docs/kits/kafka.md).
 *
 * @example { "offsets": { "0": "1042", "3": "977" } }
 */
import { DatakitError, stateKey, type Context, type SplitState, type StreamState } from '@datakit/core';

/** The stored form. */
export interface KafkaCheckpoint {
  offsets: Record<string, string>;
}

/**
 * The next offset per partition from a stored checkpoint (empty map on a first run).
 * @throws DatakitError `STATE.CORRUPT` when it is not a checkpoint of this kit
 */
export function parseCheckpoint(state: unknown, stream: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  if (state === undefined || state === null) return out;
  const bad = (why: string): DatakitError =>
    new DatakitError('STATE.CORRUPT', `stored state is not a kafka checkpoint: ${why}`, { where: { kit: 'kafka', stream }, fix: `run --state-reset ${stream} (re-reads from KAFKA_START)` });
  const offsets = (state as { offsets?: unknown }).offsets;
  if (typeof state !== 'object' || typeof offsets !== 'object' || offsets === null || Array.isArray(offsets)) throw bad('no "offsets" object');
  for (const [p, o] of Object.entries(offsets)) {
    if (!/^\d+$/.test(p)) throw bad(`partition ${JSON.stringify(p)} is not a number`);
    if (typeof o !== 'string' || !/^\d+$/.test(o)) throw bad(`offset of partition ${p} is not a non-negative integer string`);
    out.set(Number(p), BigInt(o));
  }
  return out;
}

/**
 * Where each owned partition resumes: the furthest offset any split of the stream stored for it —
 * this split's own checkpoint, or a live one of another split count (the group grew from 2 to 3
 * containers, `--partition 0/2` became `0/3`): every offset a split stored is in bronze, and each
 * split starts where the furthest left off, so nothing is read twice. `adopted`: an offset came from
 * another split (store it under this split's key even if nothing is read).
 *
 * @throws DatakitError `STATE.CORRUPT` when this split's own first load is unfinished (staging,
 *   invisible) and another split has read its partitions since: resuming would show those
 *   messages twice once the first load is swapped in.
 */
export function resumeOffsets(own: StreamState | undefined, splits: SplitState[] | undefined, stream: string, owned: number[]): { offsets: Map<number, bigint>; adopted: boolean } {
  const offsets = parseCheckpoint(own, stream);
  for (const p of [...offsets.keys()]) if (!owned.includes(p)) offsets.delete(p);
  const self = splits?.find((s) => s.self);
  let adopted = false;
  for (const other of splits ?? []) {
    if (other.self || other.phase !== 'live') continue;
    for (const [p, o] of parseCheckpoint(other.checkpoint, stream)) {
      if (!owned.includes(p)) continue;
      if (self?.phase === 'staging' && offsets.size && other.updatedAt > self.updatedAt) {
        const key = self.split ? stateKey(stream, self.split) : stream;
        throw new DatakitError('STATE.CORRUPT', `stream ${stream}: split ${key} has an unfinished first load, and split ${other.split ? stateKey(stream, other.split) : stream} has read partition ${p} since`, {
          where: { kit: 'kafka', stream },
          fix: `run \`state reset ${key}\` (drops only that unfinished first load; the split then starts where the others left off)`,
        });
      }
      const mine = offsets.get(p);
      if (mine === undefined || o > mine) {
        offsets.set(p, o);
        adopted = true;
      }
    }
  }
  return { offsets, adopted };
}

/** The stored form of positions (a fresh object: core may keep it while the read goes on). */
export function toCheckpoint(positions: Map<number, bigint>): KafkaCheckpoint {
  const offsets: Record<string, string> = {};
  for (const p of [...positions.keys()].sort((a, b) => a - b)) offsets[String(p)] = positions.get(p)!.toString();
  return { offsets };
}

/**
 * The topic partitions this process reads: all of them, or with `--partition i/n` those with
 * `partition % n === i` — disjoint and complete for any n, so n containers with the same n split a
 * topic without coordination.
 */
export function ownedPartitions(ids: number[], partition: Context['partition']): number[] {
  if (!partition || partition.count <= 1) return ids;
  return ids.filter((p) => p % partition.count === partition.index);
}

/** Run-wide bounds (`KAFKA_MAX_MESSAGES`, `KAFKA_MAX_SECONDS`) shared by every stream of a run. */
export interface RunBudget {
  /** Messages the run may still read (Infinity: unbounded). */
  messagesLeft: number;
  /** `Date.now()` after which no new fetch starts (Infinity: unbounded). */
  deadline: number;
}

const budgets = new Map<string, RunBudget>();

/** The budget of a run, created at its first stream. */
export function runBudget(runId: string, maxMessages: number | undefined, maxSeconds: number | undefined): RunBudget {
  let b = budgets.get(runId);
  if (!b) {
    b = { messagesLeft: maxMessages ?? Infinity, deadline: maxSeconds ? Date.now() + maxSeconds * 1000 : Infinity };
    budgets.set(runId, b);
    // one run per process in production; tests run many: keep the map small
    if (budgets.size > 16) budgets.delete(budgets.keys().next().value!);
  }
  return b;
}
