import { sourceError, type ErrorContext } from '../src/errors.js';

const ctx: ErrorContext = {
  passwordSetting: 'SOURCE_PASSWORD',
  hostSetting: 'SOURCE_HOST/SOURCE_PORT',
  databaseSetting: 'SOURCE_DATABASE',
  user: 'etl',
  statementTimeoutMs: 0,
  secrets: ['Hunter2-secret'],
  stream: 'orders',
};
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('pg errors to DatakitError', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'SOURCE.UNREACHABLE', true],
    [Object.assign(new Error('getaddrinfo ENOTFOUND nohost'), { code: 'ENOTFOUND' }), 'SOURCE.UNREACHABLE', true],
    [Object.assign(new AggregateError([new Error('connect ETIMEDOUT 10.0.0.1:5432')], ''), { code: 'ETIMEDOUT' }), 'SOURCE.UNREACHABLE', true],
    [new Error('Connection terminated due to connection timeout'), 'SOURCE.UNREACHABLE', true],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'SOURCE.TRANSIENT', true],
    [new Error('Connection terminated unexpectedly'), 'SOURCE.TRANSIENT', true],
    [pgError('28P01', 'password authentication failed for user "etl"'), 'SOURCE.AUTH_FAILED', false],
    [pgError('28000', 'no pg_hba.conf entry for host "10.1.1.1", user "etl", database "shop", SSL off'), 'SOURCE.AUTH_FAILED', false],
    [pgError('3D000', 'database "shop" does not exist'), 'SOURCE.NOT_FOUND', false],
    [pgError('42P01', 'relation "public.orders" does not exist'), 'SOURCE.NOT_FOUND', false],
    [pgError('42501', 'permission denied for table orders'), 'SOURCE.PERMISSION_DENIED', false],
    [pgError('57P01', 'terminating connection due to administrator command'), 'SOURCE.TRANSIENT', true],
    [pgError('57P03', 'the database system is starting up'), 'SOURCE.TRANSIENT', true],
    [pgError('08006', 'connection failure'), 'SOURCE.TRANSIENT', true],
    [pgError('40001', 'canceling statement due to conflict with recovery'), 'SOURCE.TRANSIENT', true],
    [pgError('40P01', 'deadlock detected'), 'SOURCE.TRANSIENT', true],
    [pgError('53300', 'sorry, too many clients already'), 'SOURCE.TRANSIENT', true],
    [pgError('57014', 'canceling statement due to statement timeout'), 'SOURCE.QUERY_FAILED', false],
    [pgError('22012', 'division by zero'), 'SOURCE.QUERY_FAILED', false],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'SOURCE.AUTH_FAILED', false],
    [new Error('The server does not support SSL connections'), 'SOURCE.AUTH_FAILED', false],
    [new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), 'SOURCE.AUTH_FAILED', false],
  ])('maps %s', (e, code, retriable) => {
    const err = sourceError(e, ctx);
    expect([err.code, err.retriable]).toEqual([code, retriable]);
    expect(err.where).toEqual({ kit: 'postgres', stream: 'orders' });
  });

  it('ends with the fix that names the setting to check', () => {
    expect(sourceError(pgError('28P01', 'password authentication failed for user "etl"'), ctx).describe()).toBe(
      'postgres: stream orders: password authentication failed for user "etl" (check SOURCE_PASSWORD)',
    );
    expect(sourceError(pgError('3D000', 'database "shop" does not exist'), ctx).fix).toBe('check SOURCE_DATABASE');
    expect(sourceError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ctx).fix).toBe('check SOURCE_HOST/SOURCE_PORT');
  });

  it('scrubs the password from messages even when a server or driver echoes it', () => {
    const err = sourceError(pgError('XX000', 'weird: Hunter2-secret and postgres://etl:other-pw@h/db'), ctx);
    expect(err.message).not.toContain('Hunter2-secret');
    expect(err.message).not.toContain('other-pw');
  });

  it('passes DatakitErrors through, located at the stream', () => {
    const first = sourceError(pgError('42501', 'permission denied'), { ...ctx, stream: undefined });
    expect(sourceError(first, ctx).where).toEqual({ kit: 'postgres', stream: 'orders' });
  });
});
