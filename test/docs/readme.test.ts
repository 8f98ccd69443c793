/** The README's example configuration must be valid: a doc that drifts from the schema fails here. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { validate } from '../../src/config/load.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

  it('has YAML examples', () => {
    assert.ok(blocks.length > 0);
  });

  it('every YAML example is a valid configuration', () => {
    for (const block of blocks) assert.doesNotThrow(() => validate(parse(block), 'README.md'));
  });

  it('the check above can fail', () => {
    assert.throws(
      () => validate(parse('trust:\n  networksMode: sometimes\n'), 'README.md'),
      /trust\.networksMode/,
    );
  });
});
