import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMessage } from './message.ts';

describe('renderMessage', () => {
  it('rebuilds the header block with CRLF folding, a blank line, and the body bytes', () => {
    const out = renderMessage({
      headers: [
        { name: 'Subject', value: Buffer.from(' Grüße\n\tcontinued') },
        { name: 'X-Empty', value: Buffer.alloc(0) },
      ],
      body: Buffer.from([0x61, 0x0d, 0x0a, 0xff]),
    });
    assert.deepEqual(
      out,
      Buffer.concat([
        Buffer.from('Subject: Grüße\r\n\tcontinued\r\nX-Empty:\r\n\r\n'),
        Buffer.from([0x61, 0x0d, 0x0a, 0xff]),
      ]),
    );
  });
});
