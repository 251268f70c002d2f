/**
 * A Kafka cluster for tests: librdkafka's mock cluster through Debian's `kcat` (recipe:
 * ../shared/TEST-SERVICES.md §2). It speaks the real Kafka wire protocol on 127.0.0.1 (kafkajs
 * connects to it as to any broker), starts in ~10 ms and dies with its parent: `kcat -P` reads stdin,
 * so it exits on EOF when Node closes the pipe or dies. `DATAKIT_TEST_KAFKA_BROKERS` reuses a running
 * cluster instead.
 *
 * What the mock does not do: create/delete topics through the admin API (topics are auto-created with
 * 4 partitions by the first produce or metadata request), describe/list groups, transactions. It keeps
 * only 5 MiB and 100k messages per partition.
 */
import { spawn } from 'node:child_process';

/** A running mock cluster. */
export interface KafkaService {
  /** `host:port` of every broker. */
  brokers: string[];
  /** Stop the cluster (a no-op for a reused one). */
  stop(): Promise<void>;
}

/** Partitions of every auto-created topic of the mock cluster (not configurable). */
export const MOCK_TOPIC_PARTITIONS = 4;

/**
 * Start librdkafka's mock cluster with `brokers` brokers (default 1). `reuse: false` starts a new one
 * even when `DATAKIT_TEST_KAFKA_BROKERS` names a running cluster (a test that needs fixed topic names).
 * @example const kafka = await startKafka(); process.env.KAFKA_BROKERS = kafka.brokers.join(',');
 */
export async function startKafka(opts: { brokers?: number; kcat?: string; reuse?: boolean } = {}): Promise<KafkaService> {
  const running = process.env.DATAKIT_TEST_KAFKA_BROKERS;
  if (running && opts.reuse !== false) return { brokers: running.split(','), stop: async () => undefined };
  const n = opts.brokers ?? 1;
  const child = spawn(opts.kcat ?? 'kcat', ['-X', `test.mock.num.brokers=${n}`, '-b', 'mock:9092', '-P', '-t', '__keepalive'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const brokers = await new Promise<string[]>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      // "%5|…|MOCK|…: Mock cluster enabled: original bootstrap.servers and security.protocol ignored and replaced with 127.0.0.1:39551"
      const m = /replaced with (\S+)/.exec(buf);
      if (m) {
        child.stderr!.off('data', onData);
        child.stderr!.resume();
        resolve(m[1]!.split(','));
      }
    };
    child.stderr!.on('data', onData);
    child.once('error', (e) => reject(new Error(`cannot start kcat (apt-get install kcat): ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`kcat exited with ${code} before the mock cluster was up: ${buf.slice(-1000)}`)));
  });
  return {
    brokers,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
