/**
 * The kafkajs client from the settings: brokers, TLS, SASL, timeouts, and kafkajs's log routed into
 * the run's logger (kafkajs logs to stdout by default, which is reserved for results).
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '@datakit/core';
import type { KafkaKitConfig } from './config.js';
import './kafkajs-fix.js';
import { createCluster, ISOLATION, type WireCluster } from './wire.js';

/** TLS options, or `undefined` for plaintext. */
export function tlsOptions(c: KafkaKitConfig): ConnectionOptions | undefined {
  if (!c.tls && !c.tlsCa && !c.tlsCert) return undefined;
  return {
    rejectUnauthorized: c.tlsRejectUnauthorized,
    ...(c.tlsCa ? { ca: [c.tlsCa] } : {}),
    ...(c.tlsCert ? { cert: c.tlsCert } : {}),
    ...(c.tlsKey ? { key: c.tlsKey } : {}),
  };
}

/** SASL options, or `undefined` without a mechanism. */
export function saslOptions(c: KafkaKitConfig): SASLOptions | undefined {
  if (!c.saslMechanism) return undefined;
  return { mechanism: c.saslMechanism, username: c.saslUsername ?? '', password: c.saslPassword ?? '' };
}

/**
 * kafkajs's log into pino. kafkajs logs every error response at ERROR level on its `Connection`
 * namespace, including the ones the kit handles (an out-of-range fetch): those go to debug; the
 * errors that matter reach the kit as exceptions.
 */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      const loud = (level === logLevel.ERROR || level === logLevel.WARN) && namespace !== 'Connection';
      logger[loud ? 'warn' : 'debug']({ kafkajs: namespace, ...extra }, String(message));
    };
}

/** The kafkajs configuration for the settings. */
export function kafkaJsConfig(c: KafkaKitConfig, logger: Logger): KafkaConfig {
  const ssl = tlsOptions(c);
  const sasl = saslOptions(c);
  return {
    brokers: c.brokers,
    clientId: c.clientId,
    connectionTimeout: c.connectionTimeoutMs,
    authenticationTimeout: c.connectionTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    // core retries whole operations from the last checkpoint; kafkajs only bridges short blips
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: logLevel.INFO,
    logCreator: logCreator(logger),
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  };
}

/** A connected cluster for the settings; disconnect it in `finally`. */
export async function connectCluster(c: KafkaKitConfig, logger: Logger): Promise<WireCluster> {
  const cluster = createCluster(new Kafka(kafkaJsConfig(c, logger)), ISOLATION[c.isolation]);
  try {
    await cluster.connect();
  } catch (e) {
    await cluster.disconnect().catch(() => undefined);
    throw e;
  }
  return cluster;
}
