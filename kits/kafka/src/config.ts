/**
 * The kafka kit's settings: brokers and security, topic selection, where a first run starts, how keys
 * and values are decoded, what happens to undecodable messages, and the run's bounds. Secrets (SASL
 * password, TLS key, registry password) are also accepted as `<NAME>_FILE`.
 */
import { secret, setting } from '@datakit/core';
import { z } from 'zod';

const list = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)).min(1));

/** How a key or value is decoded into bronze. */
export const FORMATS = ['bytes', 'string', 'json', 'avro'] as const;
/** A key/value format: `bytes` (raw, the truest bronze), `string` (UTF-8), `json` (JSON text), `avro` (Confluent wire format). */
export type Format = (typeof FORMATS)[number];

const format = (env: string, what: string) =>
  setting(z.enum(FORMATS).default('bytes'), {
    env,
    description: `How ${what} are decoded: bytes (raw, default), string (UTF-8), json (JSON text kept as sent), avro (Confluent wire format through SCHEMA_REGISTRY_URL).`,
  });

/** Settings of the kafka kit (environment first, then `--config`, then defaults). */
export const kafkaConfig = z.object({
  brokers: setting(list, { env: 'KAFKA_BROKERS', description: 'Bootstrap brokers, `host:port,host:port`.' }),
  clientId: setting(z.string().min(1).default('datakit-kafka'), { env: 'KAFKA_CLIENT_ID', description: 'Client id sent to the brokers (quotas, logs).' }),
  topics: setting(list.optional(), {
    env: 'KAFKA_TOPICS',
    description: 'Topics to extract, one stream each: names and /regular expressions/, comma-separated (`orders,/^sales\\..*/`). Default: every topic not starting with `_`.',
  }),
  groupId: setting(z.string().min(1).optional(), {
    env: 'KAFKA_GROUP_ID',
    description:
      'Consumer group of the extractor: its containers join it and split the partitions (scale-out), and the stored offsets are committed to it (lag monitoring; KAFKA_START=group). Use a group no other consumer joins.',
  }),
  groupJoin: setting(z.boolean().default(true), {
    env: 'KAFKA_GROUP_JOIN',
    description: 'Join KAFKA_GROUP_ID as a member so that containers of the group split the partitions (≈3 s group join on a new generation); false: one container reads everything and only mirrors its offsets to the group.',
  }),
  splits: setting(z.coerce.number().int().positive().max(10_000).optional(), {
    env: 'KAFKA_SPLITS',
    description: 'Splits of each topic the group shares (split i/n: partitions p % n == i). Default: the stored split count, or the number of containers when that is larger.',
  }),
  sessionTimeoutMs: setting(z.coerce.number().int().min(1_000).default(30_000), {
    env: 'KAFKA_SESSION_TIMEOUT_MS',
    description: 'Group session timeout: a container silent this long (killed) loses its splits to the others.',
  }),
  rebalanceTimeoutMs: setting(z.coerce.number().int().min(1_000).default(60_000), {
    env: 'KAFKA_REBALANCE_TIMEOUT_MS',
    description: 'How long a rebalance waits for the members to store what they read and rejoin.',
  }),
  start: setting(z.enum(['earliest', 'latest', 'group']).default('earliest'), {
    env: 'KAFKA_START',
    description: 'Where a partition without stored offsets starts: earliest, latest, or group (the committed offsets of KAFKA_GROUP_ID, else earliest).',
  }),
  maxMessages: setting(z.coerce.number().int().positive().optional(), { env: 'KAFKA_MAX_MESSAGES', description: 'Stop the run after this many messages (over all topics); the next run continues.' }),
  maxSeconds: setting(z.coerce.number().positive().optional(), { env: 'KAFKA_MAX_SECONDS', description: 'Stop fetching after this many seconds of the run; the next run continues.' }),
  keyFormat: format('KAFKA_KEY_FORMAT', 'keys (`_kafka_key`)'),
  valueFormat: format('KAFKA_VALUE_FORMAT', 'values'),
  poisonPolicy: setting(z.enum(['fail', 'quarantine']).default('fail'), {
    env: 'KAFKA_POISON_POLICY',
    description: 'An undecodable message (bad JSON/UTF-8/Avro, unknown schema id): fail (exit 4 naming topic, partition, offset) or quarantine (set aside with the reason and its raw bytes in the quarantine output of the stream: <stream>/_quarantine/*.parquet, br_<stream>__quarantine).',
  }),
  onRetentionGap: setting(z.enum(['fail', 'skip']).default('fail'), {
    env: 'KAFKA_ON_RETENTION_GAP',
    description: 'Stored offsets older than the log start (deleted by retention before they were read): fail, or skip to the log start and log how many offsets were lost.',
  }),
  isolation: setting(z.enum(['read_committed', 'read_uncommitted']).default('read_committed'), {
    env: 'KAFKA_ISOLATION_LEVEL',
    description: 'read_committed stops at the last stable offset and hides aborted transactions.',
  }),
  tls: setting(z.boolean().default(false), { env: 'KAFKA_TLS', description: 'Connect with TLS (implied by KAFKA_TLS_CA/CERT).' }),
  tlsCa: setting(z.string().optional(), { env: 'KAFKA_TLS_CA', description: 'PEM of the CA(s) to trust (or KAFKA_TLS_CA_FILE).' }),
  tlsCert: setting(z.string().optional(), { env: 'KAFKA_TLS_CERT', description: 'PEM client certificate for mutual TLS (or KAFKA_TLS_CERT_FILE).' }),
  tlsKey: secret(z.string().optional(), 'KAFKA_TLS_KEY', 'PEM client key for mutual TLS.'),
  tlsRejectUnauthorized: setting(z.boolean().default(true), { env: 'KAFKA_TLS_REJECT_UNAUTHORIZED', description: 'Verify the brokers\' certificates.' }),
  saslMechanism: setting(z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(), { env: 'KAFKA_SASL_MECHANISM', description: 'SASL mechanism.' }),
  saslUsername: setting(z.string().optional(), { env: 'KAFKA_SASL_USERNAME', description: 'SASL user.' }),
  saslPassword: secret(z.string().optional(), 'KAFKA_SASL_PASSWORD', 'SASL password.'),
  schemaRegistryUrl: setting(z.url().optional(), { env: 'SCHEMA_REGISTRY_URL', description: 'Confluent-compatible schema registry (required by the avro format).' }),
  schemaRegistryUsername: setting(z.string().optional(), { env: 'SCHEMA_REGISTRY_USERNAME', description: 'Basic auth user of the schema registry.' }),
  schemaRegistryPassword: secret(z.string().optional(), 'SCHEMA_REGISTRY_PASSWORD', 'Basic auth password of the schema registry.'),
  connectionTimeoutMs: setting(z.coerce.number().int().positive().default(10_000), { env: 'KAFKA_CONNECTION_TIMEOUT_MS', description: 'TCP+TLS connect timeout per broker.' }),
  requestTimeoutMs: setting(z.coerce.number().int().positive().default(30_000), { env: 'KAFKA_REQUEST_TIMEOUT_MS', description: 'Timeout of one broker request.' }),
  fetchMaxBytes: setting(z.coerce.number().int().positive().default(16 * 1024 * 1024), { env: 'KAFKA_FETCH_MAX_BYTES', description: 'Bytes one fetch request may return (per broker); bounds memory with KAFKA_PARTITION_MAX_BYTES.' }),
  partitionMaxBytes: setting(z.coerce.number().int().positive().default(2 * 1024 * 1024), { env: 'KAFKA_PARTITION_MAX_BYTES', description: 'Bytes one fetch may return per partition.' }),
}).superRefine((c, ctx) => {
  if (c.saslMechanism && (!c.saslUsername || !c.saslPassword)) {
    ctx.addIssue({ code: 'custom', path: ['saslUsername'], message: `SASL ${c.saslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD` });
  }
  if ((c.keyFormat === 'avro' || c.valueFormat === 'avro') && !c.schemaRegistryUrl) {
    ctx.addIssue({ code: 'custom', path: ['schemaRegistryUrl'], message: 'the avro format needs SCHEMA_REGISTRY_URL' });
  }
  if (c.start === 'group' && !c.groupId) {
    ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'KAFKA_START=group needs KAFKA_GROUP_ID' });
  }
  for (const t of c.topics ?? []) {
    if (isTopicPattern(t)) {
      try {
        new RegExp(t.slice(1, -1));
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['topics'], message: `${t} is not a valid regular expression: ${(e as Error).message}` });
      }
    }
  }
});

/** Validated settings of the kafka kit. */
export type KafkaKitConfig = z.infer<typeof kafkaConfig>;

/** `/…/` in KAFKA_TOPICS is a regular expression, anything else a topic name. */
export function isTopicPattern(entry: string): boolean {
  return entry.length > 2 && entry.startsWith('/') && entry.endsWith('/');
}

/**
 * The topics a selection picks from the cluster's topics, in the cluster's order. Named topics that
 * do not exist are returned in `missing`.
 */
export function selectTopics(all: string[], selection: string[] | undefined): { topics: string[]; missing: string[] } {
  if (!selection) return { topics: all.filter((t) => !t.startsWith('_')).sort(), missing: [] };
  const names = selection.filter((s) => !isTopicPattern(s));
  const patterns = selection.filter(isTopicPattern).map((s) => new RegExp(s.slice(1, -1)));
  const set = new Set(all);
  const picked = all.filter((t) => names.includes(t) || patterns.some((p) => p.test(t)));
  return { topics: [...new Set(picked)].sort(), missing: names.filter((n) => !set.has(n)) };
}
