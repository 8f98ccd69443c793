import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageKey } from './message-key.ts';

const base =
  'From: a@example.org\r\nMessage-ID: <1@example.org>\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n';

describe('messageKey', () => {
  it('is 32 hex digits and stable', () => {
    assert.match(messageKey(Buffer.from(base)), /^[0-9a-f]{32}$/);
    assert.equal(messageKey(Buffer.from(base)), messageKey(Buffer.from(base)));
  });

  it('ignores added headers, line-end style and trailing white space', () => {
    const key = messageKey(Buffer.from(base));
    const relayed = `Received: from x by y; Mon, 2 Sep 2002 11:21:42 -0400\r\nX-Spam-Flag: YES\r\n${base}`;
    assert.equal(messageKey(Buffer.from(relayed)), key);
    assert.equal(messageKey(Buffer.from(base.replaceAll('\r\n', '\n'))), key);
    assert.equal(messageKey(Buffer.from(base.replace('line one', 'line one  \t'))), key);
    assert.equal(messageKey(Buffer.from(`${base}\r\n\r\n`)), key);
  });

  it('differs when the body or the Message-ID differs', () => {
    const key = messageKey(Buffer.from(base));
    assert.notEqual(messageKey(Buffer.from(base.replace('line two', 'line 2'))), key);
    assert.notEqual(messageKey(Buffer.from(base.replace('<1@', '<2@'))), key);
  });

  it('reads a folded Message-ID', () => {
    const folded = base.replace('Message-ID: <1@example.org>', 'Message-ID:\r\n <1@example.org>');
    assert.equal(messageKey(Buffer.from(folded)), messageKey(Buffer.from(base)));
  });
});
