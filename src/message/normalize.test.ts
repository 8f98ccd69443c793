import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeRawMessage } from './normalize.ts';

describe('normalizeRawMessage', () => {
  it('drops an mbox From line and converts bare LF to CRLF', () => {
    const raw = Buffer.from('From a@b Thu Aug 22 12:36:23 2002\nSubject: x\n\nbody\r\nmore\n');
    assert.equal(normalizeRawMessage(raw).toString(), 'Subject: x\r\n\r\nbody\r\nmore\r\n');
  });

  it('leaves a CRLF message and 8-bit bytes exactly as they are', () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: x\r\n\r\n'),
      Buffer.from([0xff, 0x00, 0x0d, 0x0a]),
    ]);
    assert.ok(normalizeRawMessage(raw).equals(raw));
  });

  it('keeps a header named From: (only the mbox separator goes)', () => {
    assert.equal(normalizeRawMessage(Buffer.from('From: a@b\n')).toString(), 'From: a@b\r\n');
  });
});
