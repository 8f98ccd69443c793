import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Envelope } from '../scanner.ts';
import { buildReceived, formatDate, lineEnding, stripReceived, withReceived } from './received.ts';

const NOW = new Date('2026-11-23T08:51:40Z');

const ENVELOPE: Envelope = {
  clientAddress: '203.0.113.9',
  clientName: 'mail.example.net',
  helo: 'mx1.example.net',
  sender: 'alice@example.net',
  recipients: ['bob@example.com'],
  queueId: '4Fq2Xk1Zz9',
  mtaName: 'mx.example.com',
};

describe('buildReceived', () => {
  it('writes the generic form SpamAssassin parses: helo, rDNS, IP, by, id, for, date', () => {
    assert.equal(
      buildReceived(ENVELOPE, NOW),
      'Received: from mx1.example.net (mail.example.net [203.0.113.9])\r\n' +
        '\tby mx.example.com with ESMTP id 4Fq2Xk1Zz9\r\n' +
        '\t(envelope-from <alice@example.net>)\r\n' +
        '\tfor <bob@example.com>; Mon, 23 Nov 2026 08:51:40 +0000\r\n',
    );
  });

  it('uses LF folding for LF messages', () => {
    const header = buildReceived(ENVELOPE, NOW, '\n') ?? '';
    assert.ok(!header.includes('\r'));
    assert.equal(header.split('\n\t').length, 4);
  });

  it('marks authenticated clients with ESMTPA, IPv6 with the IPv6: tag', () => {
    const header = buildReceived(
      { ...ENVELOPE, clientAddress: '2001:db8::25', authUser: 'alice' },
      NOW,
    );
    assert.match(
      header ?? '',
      /^Received: from mx1\.example\.net \(mail\.example\.net \[IPv6:2001:db8::25\]\)/,
    );
    assert.match(header ?? '', /\tby mx\.example\.com with ESMTPA id /);
  });

  it('falls back for missing parts: unknown rDNS, no id, no for with several recipients', () => {
    const header = buildReceived(
      { clientAddress: '198.51.100.4', recipients: ['a@x.org', 'b@x.org'] },
      NOW,
    );
    assert.equal(
      header,
      'Received: from unknown (unknown [198.51.100.4])\r\n' +
        '\tby localhost with ESMTP; Mon, 23 Nov 2026 08:51:40 +0000\r\n',
    );
    const { helo: _helo, ...withoutHelo } = ENVELOPE;
    const noHelo = buildReceived(withoutHelo, NOW) ?? '';
    assert.match(noHelo, /^Received: from mail\.example\.net \(mail\.example\.net /);
    const nullSender = buildReceived({ ...ENVELOPE, sender: '' }, NOW) ?? '';
    assert.match(nullSender, /\(envelope-from <>\)/);
  });

  it('is null without a valid client IP', () => {
    assert.equal(buildReceived({ recipients: [] }, NOW), null);
    assert.equal(buildReceived({ ...ENVELOPE, clientAddress: 'mail.example.net' }, NOW), null);
    assert.equal(buildReceived({ ...ENVELOPE, clientAddress: '[203.0.113.9]' }, NOW), null);
  });

  it('sanitises every value: no CR/LF, no spaces or syntax characters smuggled in', () => {
    const hostile: Envelope = {
      clientAddress: '203.0.113.9',
      clientName: 'evil.example\r\nX-Injected: yes',
      helo: 'x (forged.example [192.0.2.1]) by trusted.example',
      sender: 'a@b>\r\nBcc: c@d',
      recipients: ['bob@example.com>; Mon, 1 Jan 2001\n'],
      queueId: 'ID;\tX',
      mtaName: 'mx\u2028.example.com',
    };
    const header = buildReceived(hostile, NOW) ?? '';
    const lines = header.split('\r\n');
    assert.equal(lines.at(-1), '');
    assert.ok(
      lines.slice(1, -1).every((line) => line.startsWith('\t')),
      'only our own folds',
    );
    assert.ok(!/\n(?!\t)|\r(?!\n)/.test(header.slice(0, -2)));
    assert.match(
      lines[0] ?? '',
      /^Received: from x_\S* \(evil\.example__X-Injected:_yes \[203\.0\.113\.9\]\)$/,
    );
    assert.equal(header.match(/\[/g)?.length, 1, 'one address literal');
    assert.equal(header.match(/;/g)?.length, 1, 'one date separator');
    assert.match(header, /\tby mx_\.example\.com with ESMTP id ID__X\r\n/);
  });

  it('keeps an address-literal HELO as it is', () => {
    const header = buildReceived({ ...ENVELOPE, helo: '[203.0.113.9]' }, NOW) ?? '';
    assert.match(
      header,
      /^Received: from \[203\.0\.113\.9\] \(mail\.example\.net \[203\.0\.113\.9\]\)/,
    );
  });
});

describe('withReceived / stripReceived', () => {
  const crlf = Buffer.from('Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n');
  const lf = Buffer.from('Subject: hi\nFrom: a@b\n\nbody');

  it("prepends with the message's own line ending", () => {
    assert.equal(lineEnding(crlf), '\r\n');
    assert.equal(lineEnding(lf), '\n');
    assert.equal(lineEnding(Buffer.alloc(0)), '\r\n');
    const prepared = withReceived(lf, ENVELOPE, NOW);
    assert.ok(prepared.received !== null);
    assert.deepEqual(prepared.message, Buffer.concat([prepared.received, lf]));
    assert.ok(!prepared.received.includes('\r'));
    assert.deepEqual(withReceived(lf, { recipients: [] }, NOW), { message: lf, received: null });
  });

  it('cuts our header out of the rewritten header block only', () => {
    const { message, received } = withReceived(crlf, ENVELOPE, NOW);
    assert.ok(received !== null);
    const rewritten = Buffer.concat([Buffer.from('X-Spam-Flag: YES\r\n'), message]);
    assert.equal(
      stripReceived(rewritten, received).toString(),
      'X-Spam-Flag: YES\r\nSubject: hi\r\nFrom: a@b\r\n\r\nbody\r\n',
    );
    const inBody = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), received]);
    assert.deepEqual(
      stripReceived(inBody, received),
      inBody,
      'the body (e.g. an attached original) stays',
    );
  });

  it('formats RFC 5322 dates in UTC', () => {
    assert.equal(formatDate(new Date('2027-01-05T23:04:09Z')), 'Tue, 05 Jan 2027 23:04:09 +0000');
  });
});
