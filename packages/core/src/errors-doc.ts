/** Renders docs/errors.md from the one code table, so the doc cannot drift from the code. */
import { ERROR_CODES, EXIT } from './errors.js';

const EXIT_MEANING: Record<number, string> = {
  [EXIT.OK]: 'success',
  [EXIT.INTERNAL]: 'internal error (a bug, or a bronze write failure)',
  [EXIT.CONFIG]: 'configuration error (a setting, an unknown stream, corrupt state): fix the config; retrying will not help',
  [EXIT.CONNECTION]: 'connection or authentication error (source or bronze target): retry later or fix credentials',
  [EXIT.DATA]: 'data error: a record cannot be represented exactly; the message names stream, record and reason',
  [EXIT.SIGINT]: 'interrupted by SIGINT after storing the last batch and its checkpoint',
  [EXIT.SIGTERM]: 'interrupted by SIGTERM after storing the last batch and its checkpoint',
};

/** The Markdown of docs/errors.md. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Errors and exit codes',
    '',
    '<!-- generated from packages/core/src/errors.ts by `UPDATE_DOCS=1 pnpm --filter @datakit/core test:unit`; do not edit -->',
    '',
    'Every kit exits with one of these codes. Messages name the kit, the stream and the reason, and end',
    'with the fix when there is one; secrets never appear in them.',
    '',
    '| exit | meaning |',
    '|---|---|',
    ...Object.entries(EXIT_MEANING).map(([code, text]) => `| ${code} | ${text} |`),
    '',
    '| code | exit | retried | meaning |',
    '|---|---|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.retriable ? 'yes' : 'no'} | ${e.doc} |`),
    '',
    'A run that fails on one stream still runs the other selected streams, then exits with the code of',
    'the first failure; the run report on stdout lists every stream with its status and error.',
    '',
  ];
  return lines.join('\n');
}
