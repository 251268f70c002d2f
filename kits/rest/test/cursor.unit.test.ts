import { addDuration, compareCursor, cursorParam, formatInstant, instantOf, parseDuration } from '../src/cursor.js';

const at = (iso: string) => instantOf(iso)!;

describe('cursor values', () => {
  it('compares numbers exactly, timestamps as instants and other values as text', () => {
    expect(compareCursor('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareCursor('10', '9')).toBe(1);
    expect(compareCursor('1.10', '1.1')).toBe(0);
    expect(compareCursor('2024-01-01T01:00:00+01:00', '2024-01-01T00:00:00Z')).toBe(0);
    expect(compareCursor('2024-01-02', '2024-01-01T23:59:59Z')).toBe(1);
    expect(compareCursor('b', 'a')).toBe(1);
  });

  it('formats instants for the API', () => {
    const us = at('2024-05-01T10:00:00.123456Z');
    expect(formatInstant(us, 'iso8601')).toBe('2024-05-01T10:00:00.123456Z');
    expect(formatInstant(us, 'iso8601_ms')).toBe('2024-05-01T10:00:00.123Z');
    expect(formatInstant(us, 'epoch_seconds')).toBe('1714557600');
    expect(formatInstant(us, 'epoch_millis')).toBe('1714557600123');
    expect(formatInstant(us, 'date')).toBe('2024-05-01');
    expect(formatInstant(us, '%Y/%m/%d %H:%M:%S.%L%z')).toBe('2024/05/01 10:00:00.123+0000');
  });

  it('sends a stored cursor as is, or shifted by the lookback in the format', () => {
    expect(cursorParam('2024-05-01T10:00:00+02:00', 'raw')).toBe('2024-05-01T10:00:00+02:00');
    expect(cursorParam('2024-05-01T10:00:00Z', 'raw', parseDuration('PT1H'))).toBe('2024-05-01T09:00:00Z');
    expect(cursorParam('2024-05-01T10:00:00Z', 'epoch_seconds')).toBe('1714557600');
    expect(cursorParam('1714557600', 'epoch_seconds', parseDuration('1h'))).toBe('1714554000');
    expect(cursorParam('42', 'raw')).toBe('42');
    expect(() => cursorParam('abc', 'epoch_seconds')).toThrow(/not a timestamp/);
  });

  it('steps durations, months by calendar', () => {
    expect(parseDuration('P1DT2H')).toEqual({ months: 0, micros: 93_600_000_000n });
    expect(parseDuration('7d')).toEqual({ months: 0, micros: 604_800_000_000n });
    expect(formatInstant(addDuration(at('2024-01-31T00:00:00Z'), parseDuration('P1M')), 'date')).toBe('2024-03-02');
    expect(formatInstant(addDuration(at('2024-03-01T00:00:00Z'), parseDuration('P1M'), -1), 'date')).toBe('2024-02-01');
  });
});
