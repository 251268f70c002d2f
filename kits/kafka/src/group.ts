/**
 * Offsets committed to the consumer group (`KAFKA_GROUP_ID`) so lag monitoring (Burrow, kafka-lag-
 * exporter, `kafka-consumer-groups --describe`) sees the extractor. The group is a mirror, never the
 * truth: the truth is the checkpoint core stored with the bronze rows. It is committed only from
 * stored checkpoints, so it never runs ahead of bronze:
 *
 * - at the start of each read, the stored offsets (covers a run that was killed after storing);
 * - after the run, the offsets of the run report's stored state (`commitReported`, from main.ts).
 *
 * A failed commit is logged and does not fail the run.
 */
import { loadConfig, readConfigFile, type Logger } from '@datakit/core';
import { parseCheckpoint } from './checkpoint.js';
import { connectCluster } from './client.js';
import { kafkaConfig } from './config.js';
import { kafkaError } from './errors.js';
import { commitGroupOffsets, type WireCluster } from './wire.js';

/** Commit the stored offsets of the partitions this process owns; log, never throw. */
export async function commitStored(cluster: WireCluster, groupId: string, topic: string, stored: Map<number, bigint>, owned: number[], log: Logger): Promise<boolean> {
  const offsets = new Map([...stored].filter(([p]) => owned.includes(p)));
  if (!offsets.size) return true;
  try {
    await commitGroupOffsets(cluster, groupId, topic, offsets);
    log.debug({ topic, groupId, partitions: offsets.size }, 'stored offsets committed to the consumer group');
    return true;
  } catch (e) {
    const err = kafkaError(e, `committing offsets of topic ${topic} to group ${groupId}`, topic);
    const member = /UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS/.test(err.message);
    log.warn(
      { topic, groupId, code: err.code, err: err.describe() },
      member ? 'consumer group commit rejected: another consumer has joined the group; use a KAFKA_GROUP_ID of its own for the extractor' : 'consumer group commit failed (lag monitoring will lag; bronze is unaffected)',
    );
    return false;
  }
}

interface ReportLike {
  status?: string;
  streams?: { stream: string; state?: { kit?: unknown } }[];
}

/**
 * After `run`: commit the offsets of every stream's stored state in the run report (the text the CLI
 * printed) to the group. Reads the settings again the way the CLI does (env, then `--config`).
 */
export async function commitReported(argv: string[], reportText: string, logger: Logger): Promise<void> {
  if (argv[0] !== 'run' && !argv.includes('run')) return;
  let report: ReportLike;
  try {
    report = JSON.parse(reportText) as ReportLike;
  } catch {
    return; // no report (a usage or config error was printed)
  }
  const at = Math.max(argv.indexOf('--config'), argv.indexOf('-c'));
  const configFile = at >= 0 ? argv[at + 1] : process.env.DATAKIT_CONFIG;
  let config;
  try {
    config = loadConfig(kafkaConfig, { file: configFile ? readConfigFile(configFile) : {} }).config;
  } catch {
    return;
  }
  const groupId = config.groupId;
  const streams = (report.streams ?? []).filter((s) => s.state?.kit !== undefined);
  if (!groupId || !streams.length) return;
  const cluster = await connectCluster(config, logger).catch((e: unknown) => {
    logger.warn({ err: kafkaError(e, 'connecting to commit offsets').describe() }, 'consumer group commit failed (lag monitoring will lag; bronze is unaffected)');
    return undefined;
  });
  if (!cluster) return;
  try {
    for (const s of streams) {
      const offsets = parseCheckpoint(s.state!.kit, s.stream);
      await commitStored(cluster, groupId, s.stream, offsets, [...offsets.keys()], logger);
    }
  } catch (e) {
    logger.warn({ err: String(e) }, 'consumer group commit failed (lag monitoring will lag; bronze is unaffected)');
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
