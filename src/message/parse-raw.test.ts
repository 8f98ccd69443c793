import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMessage } from './message.ts';
import { angleAddress, clientInfo, messageFromRaw, splitRawMessage } from './parse-raw.ts';

const ENVELOPE = {
  clientAddress: '203.0.113.9',
  sender: 'alice@example.org',
  recipients: ['bob@example.net', '<carol@example.net>'],
};

const text = (b: Buffer) => b.toString('latin1');

describe('splitRawMessage', () => {
  it('keeps the bytes after the colon, joins folds with LF and CRLFs the body', () => {
    const raw = Buffer.from('Subject: hello\n\tworld\nX-Empty:\nTo:bob\n\nline 1\nline 2\n');
    const { headers, body } = splitRawMessage(raw);
    assert.deepEqual(
      headers.map((h) => [h.name, text(h.value)]),
      [
        ['Subject', ' hello\n\tworld'],
        ['X-Empty', ''],
        ['To', 'bob'],
      ],
    );
    assert.equal(text(body), 'line 1\r\nline 2\r\n');
  });

  it('drops an mbox From line and keeps 8-bit bytes as they are', () => {
    const raw = Buffer.concat([
      Buffer.from('From a@b Thu Aug 22 12:36:23 2002\r\nSubject: '),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('\r\n\r\n'),
      Buffer.from([0x00, 0x80]),
    ]);
    const { headers, body } = splitRawMessage(raw);
    assert.equal(headers.length, 1);
    assert.deepEqual([...(headers[0]?.value ?? [])], [0x20, 0xe9, 0xff]);
    assert.deepEqual([...body], [0x00, 0x80]);
  });

  it('starts the body at a line that is not a header field, and has none without a blank line', () => {
    const cut = splitRawMessage(Buffer.from('Subject: x\nthis is body\nmore\n'));
    assert.equal(cut.headers.length, 1);
    assert.equal(text(cut.body), 'this is body\r\nmore\r\n');
    const headersOnly = splitRawMessage(Buffer.from('Subject: x\r\nFrom: a@b'));
    assert.equal(headersOnly.headers.length, 2);
    assert.equal(headersOnly.body.length, 0);
  });

  it('renders back to the same bytes for a well-formed message', () => {
    const raw = Buffer.from('A: 1\r\nB: 2\r\n\t3\r\n\r\nbody\r\n');
    assert.equal(text(renderMessage(splitRawMessage(raw))), text(raw));
  });
});

describe('messageFromRaw', () => {
  it('builds the envelope, macros and client the way the session would', () => {
    const { message } = messageFromRaw(
      Buffer.from('Subject: x\n\nhi\n'),
      { ...ENVELOPE, helo: 'mx.example.org', authUser: 'alice', queueId: 'Q123', mtaName: 'mx' },
      1000,
    );
    assert.equal(message.id, 'Q123');
    assert.deepEqual(message.client, {
      hostname: '[203.0.113.9]',
      family: '4',
      address: '203.0.113.9',
      port: 0,
      helo: 'mx.example.org',
    });
    assert.equal(message.sender?.address, '<alice@example.org>');
    assert.deepEqual(
      message.recipients.map((r) => text(r.raw)),
      ['<bob@example.net>', '<carol@example.net>'],
    );
    assert.equal(message.macros['auth_authen'], 'alice');
    assert.equal(message.macros['i'], 'Q123');
    assert.equal(message.macros['j'], 'mx');
    assert.equal(text(message.body), 'hi\r\n');
    assert.equal(message.bodyTruncated, false);
  });

  it('cuts the body at the cap and marks it truncated, keeping the whole body in parts', () => {
    const { message, parts } = messageFromRaw(Buffer.from('S: x\n\n0123456789'), ENVELOPE, 4);
    assert.equal(text(message.body), '0123');
    assert.equal(message.bodyBytes, 10);
    assert.equal(message.bodyTruncated, true);
    assert.equal(text(parts.body), '0123456789');
    assert.match(message.id, /^sw-[0-9a-f]{12}$/);
    assert.equal(message.macros['auth_authen'], undefined);
  });
});

describe('angleAddress and clientInfo', () => {
  it('adds angle brackets, keeps the null sender', () => {
    assert.equal(angleAddress('a@b'), '<a@b>');
    assert.equal(angleAddress(' <a@b> '), '<a@b>');
    assert.equal(angleAddress(''), '<>');
    assert.equal(angleAddress('<>'), '<>');
  });

  it('knows IPv6, bracketed and tagged addresses, a verified name, and unknown clients', () => {
    assert.equal(clientInfo({ clientAddress: '[IPv6:2001:db8::1]' }).family, '6');
    assert.equal(clientInfo({ clientAddress: '2001:db8::1' }).hostname, '[2001:db8::1]');
    assert.equal(
      clientInfo({ clientAddress: '192.0.2.1', clientName: 'a.example' }).hostname,
      'a.example',
    );
    assert.deepEqual(clientInfo({ clientAddress: 'nonsense' }), {
      hostname: 'unknown',
      family: 'U',
      address: '',
      port: 0,
      helo: undefined,
    });
  });
});
