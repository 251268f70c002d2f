/**
 * Jest globalSetup: the Kafka mock cluster (kcat) and testkit's PostgreSQL, published to the workers
 * as `DATAKIT_TEST_KAFKA_BROKERS` and `DATAKIT_TEST_PG_URL` (set either to reuse a running service).
 */
import { startKafka } from '../../../packages/testkit/src/services/kafka.ts';
import pgSetup from '../../../packages/testkit/src/jest/global-setup.ts';

export default async function globalSetup(): Promise<void> {
  await pgSetup();
  if (process.env.DATAKIT_TEST_KAFKA_BROKERS) return;
  const kafka = await startKafka();
  process.env.DATAKIT_TEST_KAFKA_BROKERS = kafka.brokers.join(',');
  const g = globalThis as { __datakitServices?: { stop(): Promise<void> }[] };
  g.__datakitServices = [...(g.__datakitServices ?? []), kafka];
}
