/**
 * Scale-out through the consumer group (`KAFKA_GROUP_ID`): every container of a run joins the group
 * as a member, the group's leader splits the work, and each container reads its splits — core's
 * `Assignment` (see `Kit.assign`).
 *
 * What is assigned is *splits*, not single partitions: split `i/n` of a topic is its partitions
 * `p % n == i`, each split with its own stored offsets and bronze output (as with `--partition i/n`),
 * so two containers never write one state key or one file. `n` is `KAFKA_SPLITS`, else the largest of
 * the stored split count and the number of members; a member that had splits in this run keeps them
 * when the group rebalances (a container finished and left, another came late), so only the splits
 * of a member that left move.
 *
 * The protocol is Kafka's own group membership (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, with the
 * `consumer` protocol type and its member-metadata and assignment encodings), so
 * `kafka-consumer-groups --describe` lists the members and their partitions, and offsets are
 * committed with the member's generation: a container that lost its splits cannot commit over the
 * new owner. A rebalance (REBALANCE_IN_PROGRESS on a heartbeat) revokes the assignment: the reads
 * return at their next batch, core stores what they read, and only then does the member rejoin — the
 * coordinator completes the rebalance once every member has rejoined, so a split changes hands only
 * after its previous owner stored its offsets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol } from 'kafkajs';
import { splitOfKey, type Assignment, type Context, type Logger, type Split } from '@datakit/core';
import { connectCluster } from './client.js';
import type { KafkaKitConfig } from './config.js';
import { kafkaError } from './errors.js';
import type { WireCluster } from './wire.js';

/** The assignment protocol name every container of the group announces. */
export const PROTOCOL = 'datakit-splits';

/** What a member announces when it joins (the `userData` of its member metadata, JSON). */
export interface MemberClaim {
  memberId: string;
  /** The split count of the stored states of its streams (0: none stored). */
  stored: number;
  /** The splits it had in the previous generation of this run, with their count. */
  had?: { count: number; splits: number[] };
}

/** The leader's decision: the split count and each member's splits. */
export interface SplitPlan {
  count: number;
  splits: Map<string, number[]>;
}

/**
 * Split the work among the members: `n` = `configured`, else the largest of the stored split count,
 * the count of this run's previous generation and the number of members; members keep the splits
 * they had (same `n`), the others go one at a time to the member with the fewest (ties: member id
 * order). More members than splits: the extra members get none.
 */
export function planSplits(members: MemberClaim[], configured?: number): SplitPlan {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const count = configured ?? Math.max(1, sorted.length, ...sorted.map((m) => m.stored), ...sorted.map((m) => m.had?.count ?? 0));
  const splits = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]));
  const taken = new Set<number>();
  for (const m of sorted) {
    if (m.had?.count !== count) continue;
    for (const i of m.had.splits) {
      if (i < count && !taken.has(i)) {
        taken.add(i);
        splits.get(m.memberId)!.push(i);
      }
    }
  }
  for (let i = 0; i < count; i++) {
    if (taken.has(i)) continue;
    let to = sorted[0]!.memberId;
    for (const m of sorted) if (splits.get(m.memberId)!.length < splits.get(to)!.length) to = m.memberId;
    splits.get(to)!.push(i);
  }
  for (const list of splits.values()) list.sort((a, b) => a - b);
  return { count, splits };
}

/** The split count the stored state keys of these streams were written with (0: none stored). */
export function storedSplitCount(streams: string[], keys: string[]): number {
  let count = 0;
  for (const s of streams) {
    for (const k of keys) {
      const of = splitOfKey(s, k);
      if (of) count = Math.max(count, of.split?.count ?? 1);
    }
  }
  return count;
}

/** A member's generation, for offset commits that the group fences. */
export interface Generation {
  generationId: number;
  memberId: string;
}

const REVOKING = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/** The membership of this process in the group, per run. */
const members = new Map<string, GroupMember>();

/** The membership of the run, while it holds one (for reads and commits). */
export function memberOf(runId: string): GroupMember | undefined {
  return members.get(runId);
}

/** One container's membership in the group: join, heartbeat, rejoin after a revocation, leave. */
export class GroupMember {
  private memberId = '';
  private generationId = -1;
  private had: MemberClaim['had'];
  private revoker = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = Date.now();
  private left = false;

  private constructor(
    private readonly runId: string,
    private readonly cluster: WireCluster,
    private readonly config: KafkaKitConfig & { groupId: string },
    private readonly topics: string[],
    private readonly stored: number,
    private readonly log: Logger,
  ) {}

  /** Join the group for a run and wait for the first assignment. */
  static async join(ctx: Context, config: KafkaKitConfig & { groupId: string }, topics: string[], storedKeys: string[]): Promise<GroupMember> {
    let cluster: WireCluster;
    try {
      cluster = await connectCluster(config, ctx.logger);
    } catch (e) {
      throw kafkaError(e, `connecting to join group ${config.groupId}`);
    }
    const member = new GroupMember(ctx.runId, cluster, config, topics, storedSplitCount(topics, storedKeys), ctx.logger);
    try {
      await member.rejoin();
    } catch (e) {
      await cluster.disconnect().catch(() => undefined);
      throw e;
    }
    members.set(ctx.runId, member);
    return member;
  }

  /** Aborted when the group rebalances (or this member was dropped from it). */
  get revoked(): AbortSignal {
    return this.revoker.signal;
  }

  /** The generation commits carry (fenced by the coordinator). */
  generation(): Generation {
    return { generationId: this.generationId, memberId: this.memberId };
  }

  /** The current splits as core's assignment. */
  assignment(): Assignment {
    const splits: Split[] = (this.had?.splits ?? []).map((index) => ({ index, count: this.had!.count, named: true }));
    return {
      splits,
      revoked: this.revoked,
      next: async () => {
        await this.rejoin();
        return this.assignment();
      },
      release: () => this.leave(),
    };
  }

  /** JoinGroup + SyncGroup until a generation is complete; then heartbeat. */
  async rejoin(): Promise<void> {
    this.stopBeating();
    const { groupId } = this.config;
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId });
        const claim: Omit<MemberClaim, 'memberId'> = { stored: this.stored, ...(this.had ? { had: this.had } : {}) };
        const joined = await coordinator.joinGroup({
          groupId,
          sessionTimeout: this.config.sessionTimeoutMs,
          rebalanceTimeout: this.config.rebalanceTimeoutMs,
          memberId: this.memberId,
          protocolType: 'consumer',
          groupProtocols: [{ name: PROTOCOL, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics: this.topics, userData: Buffer.from(JSON.stringify(claim)) }) }],
        });
        this.memberId = joined.memberId;
        this.generationId = joined.generationId;
        const groupAssignment = joined.leaderId === joined.memberId ? await this.lead(joined.members) : [];
        const synced = await coordinator.syncGroup({ groupId, generationId: joined.generationId, memberId: joined.memberId, groupAssignment }).catch((e: unknown) => {
          // librdkafka's mock cluster answers a follower's SyncGroup that arrives after the leader's
          // with INVALID_REQUEST (a real broker sends the assignment): join again
          if ((e as { type?: string }).type === 'INVALID_REQUEST') Object.assign(e as object, { type: 'REBALANCE_IN_PROGRESS' });
          throw e;
        });
        const decoded = synced.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(synced.memberAssignment) : null;
        const mine = decoded?.userData.length ? (JSON.parse(decoded.userData.toString()) as { count: number; splits: number[] }) : { count: 1, splits: [] };
        this.had = { count: mine.count, splits: mine.splits };
        this.revoker = new AbortController();
        this.startBeating();
        this.log.info({ groupId, generation: joined.generationId, members: joined.members.length || undefined, splits: mine.splits.map((i) => `${i}/${mine.count}`) }, 'joined the consumer group');
        return;
      } catch (e) {
        const type = (e as { type?: string }).type ?? '';
        if (type === 'UNKNOWN_MEMBER_ID') this.memberId = '';
        if ((type === 'REBALANCE_IN_PROGRESS' || type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION' || /COORDINATOR/.test(type)) && attempt < 20) {
          // a coordinator moving or loading answers at once: do not spin on it
          if (/COORDINATOR/.test(type)) await sleep(Math.min(100 * 2 ** attempt, 2_000));
          continue;
        }
        if (type === 'INCONSISTENT_GROUP_PROTOCOL') {
          throw kafkaError(e, `joining group ${groupId}: its members use another assignment protocol than ${PROTOCOL} (other consumers joined it); give the extractor a KAFKA_GROUP_ID of its own`);
        }
        throw kafkaError(e, `joining group ${groupId}`);
      }
    }
  }

  /** The leader's SyncGroup: a plan from every member's claim, in the consumer protocol's encoding. */
  private async lead(joined: { memberId: string; memberMetadata: Buffer }[]): Promise<{ memberId: string; memberAssignment: Buffer }[]> {
    const claims: MemberClaim[] = [];
    const topics = new Set<string>();
    for (const m of joined) {
      const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata) ?? { topics: [], userData: Buffer.alloc(0) };
      for (const t of meta.topics) topics.add(t);
      const claim = meta.userData.length ? (JSON.parse(meta.userData.toString()) as Omit<MemberClaim, 'memberId'>) : { stored: 0 };
      claims.push({ ...claim, memberId: m.memberId });
    }
    const plan = planSplits(claims, this.config.splits);
    // the partitions of each split, so `kafka-consumer-groups --describe` shows who reads what
    const partitions = new Map<string, number[]>();
    const md = await this.cluster.metadata({ topics: [...topics] }).catch(() => undefined);
    for (const t of md?.topicMetadata ?? []) partitions.set(t.topic, t.partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b));
    this.log.info({ groupId: this.config.groupId, count: plan.count, members: claims.length }, 'leading the consumer group: splits assigned');
    return [...plan.splits].map(([memberId, splits]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: Object.fromEntries([...partitions].map(([t, ids]) => [t, ids.filter((p) => splits.includes(p % plan.count))])),
        userData: Buffer.from(JSON.stringify({ count: plan.count, splits })),
      }),
    }));
  }

  private startBeating(): void {
    this.lastBeat = Date.now();
    const every = Math.max(100, Math.min(3_000, Math.floor(this.config.sessionTimeoutMs / 10)));
    const beat = async (): Promise<void> => {
      if (this.left || this.revoker.signal.aborted) return;
      try {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: this.config.groupId });
        await coordinator.heartbeat({ groupId: this.config.groupId, groupGenerationId: this.generationId, memberId: this.memberId });
        this.lastBeat = Date.now();
      } catch (e) {
        const type = (e as { type?: string }).type ?? '';
        if (REVOKING.has(type) || Date.now() - this.lastBeat > this.config.sessionTimeoutMs) {
          this.revoke(type || 'no heartbeat within the session timeout');
          return;
        }
        this.log.debug({ err: String(e) }, 'heartbeat failed; retrying');
      }
      if (!this.left && !this.revoker.signal.aborted) this.timer = setTimeout(() => void beat(), every);
    };
    this.timer = setTimeout(() => void beat(), every);
  }

  /** The generation is over: reads return at their next batch, core stores them and rejoins. */
  revoke(reason: string): void {
    if (this.revoker.signal.aborted || this.left) return;
    this.stopBeating();
    this.log.info({ groupId: this.config.groupId, reason }, 'the consumer group is rebalancing: storing the splits in flight, then rejoining');
    this.revoker.abort(new Error(`group rebalance: ${reason}`));
  }

  private stopBeating(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Leave the group (its other members rebalance at once) and disconnect; never throws. */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    members.delete(this.runId);
    this.stopBeating();
    try {
      if (this.memberId) {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: this.config.groupId });
        await coordinator.leaveGroup({ groupId: this.config.groupId, memberId: this.memberId });
      }
    } catch (e) {
      this.log.debug({ err: String(e) }, 'leaving the consumer group failed (its session times out instead)');
    } finally {
      await this.cluster.disconnect().catch(() => undefined);
    }
  }
}
