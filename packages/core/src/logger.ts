/**
 * Logging: pino JSON on stderr (stdout is for results), readable on a TTY through pino-pretty.
 * Every line passes through the redactor, so a secret cannot reach the log even inside an error.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactor } from './redact.js';

export type { Logger } from 'pino';

/** Create the run's logger. `LOG_LEVEL` (default info); `LOG_FORMAT=json|pretty` overrides TTY detection. */
export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const wantPretty = opts.pretty ?? (process.env.LOG_FORMAT ? process.env.LOG_FORMAT === 'pretty' : process.stderr.isTTY === true);
  const options: pino.LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: opts.name ? { kit: opts.name } : null,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'config.*'], censor: '***' },
    hooks: { streamWrite: (s: string) => redactor.scrub(s) },
    formatters: { level: (label) => ({ level: label }) },
  };
  const destination = wantPretty
    ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'kit' })
    : pino.destination({ dest: 2, sync: true });
  return pino(options, destination);
}
