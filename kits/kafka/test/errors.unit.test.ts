import { classify, kafkaError } from '../src/errors.js';
import { registryError, RegistryNotFound } from '../src/registry.js';

describe('kafkajs errors', () => {
  it.each([
    [{ name: 'KafkaJSSASLAuthenticationError', message: 'SASL SCRAM SHA512 authentication failed' }, 'SOURCE.AUTH_FAILED'],
    [{ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED', message: 'Not authorized' }, 'SOURCE.PERMISSION_DENIED'],
    [{ name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'x' }, 'SOURCE.NOT_FOUND'],
    [{ name: 'KafkaJSNumberOfRetriesExceeded', message: 'retries', originalError: { name: 'KafkaJSConnectionError', message: 'Connection error: connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' } }, 'SOURCE.UNREACHABLE'],
    [{ name: 'KafkaJSNonRetriableError', message: 'x', originalError: { name: 'KafkaJSConnectionError', message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }, 'SOURCE.AUTH_FAILED'],
    [{ name: 'KafkaJSProtocolError', type: 'COORDINATOR_LOAD_IN_PROGRESS', retriable: true, message: 'x' }, 'SOURCE.TRANSIENT'],
    [{ name: 'KafkaJSProtocolError', type: 'INVALID_REQUEST', retriable: false, message: 'x' }, 'SOURCE.QUERY_FAILED'],
  ])('maps %j to %s', (e, code) => {
    expect(classify(e).code).toBe(code);
  });

  it('names what failed, the kafkajs type and the fix', () => {
    const e = kafkaError({ name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED', message: 'Not authorized to access group' }, 'committing offsets', 'orders');
    expect(e.describe()).toBe('kafka: stream orders: committing offsets: Not authorized to access group (GROUP_AUTHORIZATION_FAILED) (grant the client Read and Describe on the topic and the consumer group)');
    expect(e.exitCode).toBe(3);
  });
});

describe('schema registry errors', () => {
  it('tells a missing schema (poison) from auth, network and server failures', () => {
    expect(registryError({ status: 404, message: 'Schema 7 not found' }, 'schema id 7')).toBeInstanceOf(RegistryNotFound);
    expect(registryError({ status: 401, message: 'Unauthorized' }, 'x')).toMatchObject({ code: 'SOURCE.AUTH_FAILED' });
    expect(registryError({ status: 400, message: 'Error, status 400: connect ECONNREFUSED 127.0.0.1:1' }, 'x')).toMatchObject({ code: 'SOURCE.UNREACHABLE', retriable: true });
    expect(registryError({ status: 503, message: 'down' }, 'x')).toMatchObject({ code: 'SOURCE.TRANSIENT', retriable: true });
    expect(registryError({ status: 422, message: 'bad' }, 'x')).toMatchObject({ code: 'SOURCE.QUERY_FAILED' });
  });
});
