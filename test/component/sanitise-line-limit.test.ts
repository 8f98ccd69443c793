/**
 * RFC 5322's 998-character line limit for headers that come from a scanner: `hasOverlongLine`
 * at its boundary, and the two places scanner text becomes headers verbatim (spamd's PROCESS
 * output, rspamd's `milter.add_headers`) leaving out what would break it, keeping the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasOverlongLine, MAX_LINE_LENGTH } from '../../src/actions/fold.ts';
import { processRewrite } from '../../src/actions/process-rewrite.ts';

const NAME = 'X-Scanner';
/** A first-line value that makes `X-Scanner: <value>` exactly `length` characters. */
const firstLine = (length: number): string => 'v'.repeat(length - NAME.length - 2);

describe('the 998-character header line limit', () => {
  it('hasOverlongLine: 998 fits, 999 does not, on the first line and on continuations', () => {
    assert.equal(hasOverlongLine(NAME, firstLine(MAX_LINE_LENGTH)), false);
    assert.equal(hasOverlongLine(NAME, firstLine(MAX_LINE_LENGTH + 1)), true);
    assert.equal(hasOverlongLine(NAME, `a\n\t${'w'.repeat(MAX_LINE_LENGTH - 1)}`), false);
    assert.equal(hasOverlongLine(NAME, `a\n\t${'w'.repeat(MAX_LINE_LENGTH)}`), true);
    assert.equal(hasOverlongLine(`X-${'n'.repeat(MAX_LINE_LENGTH)}`, 'v'), true);
    assert.equal(hasOverlongLine(NAME, Buffer.from(firstLine(MAX_LINE_LENGTH + 1))), true);
  });

  it('spamd PROCESS: an over-long header is left out, the other changes are applied', () => {
    const output = Buffer.from(
      'X-Spam-Flag: YES\r\n' +
        `X-Spam-Status: Yes, tests=${'GTUBE,'.repeat(400)}GTUBE\r\n` +
        `X-Spam-Report: \r\n\t${'R'.repeat(MAX_LINE_LENGTH + 1)}\r\n` +
        `Subject: [SPAM] ${'s'.repeat(MAX_LINE_LENGTH)}\r\n` +
        '\r\n',
    );
    const modifications = processRewrite(
      {
        headers: [{ name: 'Subject', value: Buffer.from(` ${'s'.repeat(MAX_LINE_LENGTH)}`) }],
        body: Buffer.from('Hello.\r\n'),
      },
      { kind: 'headers', bytes: output },
      { preserveHeaders: false, preserveBody: true },
    );
    const names = modifications.map((m) => ('name' in m ? m.name : m.kind));
    assert.deepEqual(names, ['X-Spam-Flag']);
    for (const m of modifications) {
      if ('value' in m && typeof m.name === 'string')
        assert.equal(hasOverlongLine(m.name, m.value), false);
    }
  });
});
