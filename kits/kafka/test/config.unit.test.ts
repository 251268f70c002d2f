import { loadConfig } from '@datakit/core';
import { kafkaConfig, selectTopics } from '../src/config.js';
import { saslOptions, tlsOptions } from '../src/client.js';

const load = (env: Record<string, string>) => loadConfig(kafkaConfig, { env: { KAFKA_BROKERS: 'a:9092, b:9092', ...env } });

describe('kafka settings', () => {
  it('splits brokers and topics on commas and defaults to bytes, earliest and fail', () => {
    const { config } = load({ KAFKA_TOPICS: 'orders, /^sales\\..*/' });
    expect(config).toMatchObject({ brokers: ['a:9092', 'b:9092'], topics: ['orders', '/^sales\\..*/'], keyFormat: 'bytes', valueFormat: 'bytes', start: 'earliest', poisonPolicy: 'fail', isolation: 'read_committed' });
  });

  it('selects named topics and /regex/ matches, sorted, and reports named topics that do not exist', () => {
    const all = ['sales.eu', 'sales.us', 'orders', '__consumer_offsets', 'salesforce'];
    expect(selectTopics(all, ['orders', '/^sales\\./', 'missing'])).toEqual({ topics: ['orders', 'sales.eu', 'sales.us'], missing: ['missing'] });
    expect(selectTopics(all, undefined).topics).toEqual(['orders', 'sales.eu', 'sales.us', 'salesforce']);
  });

  it('rejects an invalid regular expression naming KAFKA_TOPICS', () => {
    expect(() => load({ KAFKA_TOPICS: '/(unclosed/' })).toThrow(/KAFKA_TOPICS.*not a valid regular expression/);
  });

  it('needs a user and password for SASL, a registry for Avro and a group for KAFKA_START=group', () => {
    expect(() => load({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'etl' })).toThrow(/KAFKA_SASL_USERNAME.*needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    expect(() => load({ KAFKA_VALUE_FORMAT: 'avro' })).toThrow(/SCHEMA_REGISTRY_URL/);
    expect(() => load({ KAFKA_START: 'group' })).toThrow(/KAFKA_GROUP_ID/);
    expect(() => load({ KAFKA_VALUE_FORMAT: 'xml' })).toThrow(/KAFKA_VALUE_FORMAT/);
  });

  it('maps SASL and TLS settings to kafkajs options and reports the secrets for redaction', () => {
    const loaded = load({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'etl', KAFKA_SASL_PASSWORD: 's3cret-pw', KAFKA_TLS_CA: 'CA PEM', KAFKA_TLS_REJECT_UNAUTHORIZED: 'false' });
    expect(saslOptions(loaded.config)).toEqual({ mechanism: 'scram-sha-256', username: 'etl', password: 's3cret-pw' });
    expect(tlsOptions(loaded.config)).toEqual({ rejectUnauthorized: false, ca: ['CA PEM'] });
    expect(loaded.secrets).toContain('s3cret-pw');
    expect(tlsOptions(load({}).config)).toBeUndefined();
    expect(tlsOptions(load({ KAFKA_TLS: 'true' }).config)).toEqual({ rejectUnauthorized: true });
  });
});
