import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../message/message.ts';
import { bareAddress, envelopeOf } from './envelope.ts';

const address = (text: string) => ({ address: text, raw: Buffer.from(text), args: [] });

describe('envelopeOf', () => {
  it('takes client, HELO, sender, recipients, auth, queue id and MTA name from the message', () => {
    const message: Message = {
      id: 'Q1',
      client: {
        hostname: 'mx.example.org',
        family: '4',
        address: '203.0.113.9',
        port: 4000,
        helo: 'mx.example.org',
      },
      sender: address('<a@example.org>'),
      recipients: [address('<b@example.net>'), address('c@example.net')],
      headers: [],
      body: Buffer.alloc(0),
      bodyBytes: 0,
      bodyTruncated: false,
      macros: { auth_authen: 'alice', j: 'mail.example.net' },
    };
    assert.deepEqual(envelopeOf(message), {
      recipients: ['b@example.net', 'c@example.net'],
      clientAddress: '203.0.113.9',
      clientName: 'mx.example.org',
      helo: 'mx.example.org',
      sender: 'a@example.org',
      authUser: 'alice',
      queueId: 'Q1',
      mtaName: 'mail.example.net',
    });
  });

  it("leaves out Postfix's [ip] placeholder name, unix clients and the empty auth macro", () => {
    const message: Message = {
      id: 'Q2',
      client: {
        hostname: '[203.0.113.9]',
        family: 'L',
        address: '/run/x',
        port: 0,
        helo: undefined,
      },
      sender: address('<>'),
      recipients: [],
      headers: [],
      body: Buffer.alloc(0),
      bodyBytes: 0,
      bodyTruncated: false,
      macros: { auth_authen: '' },
    };
    assert.deepEqual(envelopeOf(message), { recipients: [], sender: '', queueId: 'Q2' });
  });

  it('strips angle brackets only', () => {
    assert.equal(bareAddress(' <x@y> '), 'x@y');
    assert.equal(bareAddress('x@y'), 'x@y');
    assert.equal(bareAddress('<>'), '');
  });
});
