import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderErrorsDoc } from '@datakit/core';

const doc = join(__dirname, '..', '..', '..', 'docs', 'errors.md');

describe('docs/errors.md', () => {
  it('is generated from the error code table', () => {
    if (process.env.UPDATE_DOCS) writeFileSync(doc, renderErrorsDoc());
    expect(readFileSync(doc, 'utf8')).toBe(renderErrorsDoc());
  });
});
