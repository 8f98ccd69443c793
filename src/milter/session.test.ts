import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../filter/decision.ts';
import type { Message } from '../message/message.ts';
import type { Command } from './commands.ts';
import { Action, Proto } from './constants.ts';
import { NegotiationError, UnexpectedCommandError } from './errors.ts';
import type { NegotiationWishes } from './negotiate.ts';
import { MilterSession, type Step } from './session.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

const WISHES: NegotiationWishes = {
  actions: Action.AddHdrs | Action.ChgHdrs,
  skipSteps: Proto.NoData,
  noReply: Proto.NrHdr | Proto.NrEoh,
  leadingSpace: true,
  macros: { 0: 'j' },
};
const POSTFIX_OFFER: Command = { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff };
const ACCEPT: Decision = { verdict: { kind: 'accept' }, modifications: [] };

function session(maxBodyBytes = 1024, wishes = WISHES): MilterSession {
  return new MilterSession({ wishes, maxBodyBytes });
}

function replies(step: Step): string[] {
  assert.equal(step.kind, 'reply');
  return step.kind === 'reply' ? step.responses.map((r) => r.kind) : [];
}

function filterMessage(step: Step): Message {
  assert.equal(step.kind, 'filter');
  if (step.kind !== 'filter') throw new Error('unreachable');
  return step.message;
}

/** Drives a whole message and returns what the filter would get. */
function runMessage(s: MilterSession, subject: string, body: string, queueId?: string): Message {
  assert.deepEqual(
    replies(s.handle({ kind: 'mail', address: b('<a@example.org>'), args: [b('SIZE=10')] })),
    ['continue'],
  );
  assert.deepEqual(replies(s.handle({ kind: 'rcpt', address: b('<b@example.net>'), args: [] })), [
    'continue',
  ]);
  assert.deepEqual(
    replies(s.handle({ kind: 'header', name: b('Subject'), value: b(` ${subject}`) })),
    [],
  );
  assert.deepEqual(replies(s.handle({ kind: 'eoh' })), []);
  assert.deepEqual(replies(s.handle({ kind: 'body', chunk: b(body) })), ['continue']);
  // Postfix sends the end-of-data macros right before BODYEOB.
  if (queueId !== undefined)
    s.handle({ kind: 'macro', stage: 0x45, macros: [[b('i'), b(queueId)]] });
  return filterMessage(s.handle({ kind: 'eob', chunk: b('') }));
}

describe('MilterSession', () => {
  it('answers OPTNEG and then no reply for MACRO, ABORT, or agreed no-reply steps', () => {
    const s = session();
    const step = s.handle(POSTFIX_OFFER);
    assert.equal(step.kind === 'reply' && step.responses[0]?.kind, 'optneg');
    assert.deepEqual(
      replies(s.handle({ kind: 'macro', stage: 0x43, macros: [[b('j'), b('mx')]] })),
      [],
    );
    assert.deepEqual(
      replies(
        s.handle({
          kind: 'connect',
          hostname: b('[192.0.2.1]'),
          family: '4',
          port: 4000,
          address: b('192.0.2.1'),
        }),
      ),
      ['continue'],
    );
    assert.deepEqual(replies(s.handle({ kind: 'helo', name: b('client.example') })), ['continue']);
    assert.deepEqual(replies(s.handle({ kind: 'abort' })), []);
    assert.deepEqual(
      replies(s.handle({ kind: 'abort' })),
      [],
      'a second ABORT in a row is normal (Postfix)',
    );
    assert.deepEqual(replies(s.handle({ kind: 'unknown', line: b('XFOO') })), ['continue']);
    assert.deepEqual(
      replies(s.handle({ kind: 'data' })),
      ['continue'],
      'DATA was not agreed as no-reply',
    );
  });

  it('replies to every step when the MTA offers no NR_* bits', () => {
    const s = session();
    s.handle({ kind: 'optneg', version: 6, actions: 0x1ff, protocol: Proto.NoData });
    s.handle({ kind: 'mail', address: b('<a@b>'), args: [] });
    assert.deepEqual(replies(s.handle({ kind: 'header', name: b('A'), value: b('1') })), [
      'continue',
    ]);
    assert.deepEqual(replies(s.handle({ kind: 'eoh' })), ['continue']);
  });

  it('assembles the message: client, envelope, headers, body, macros', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'macro', stage: 0x43, macros: [[b('j'), b('mx.example')]] });
    s.handle({
      kind: 'connect',
      hostname: b('[192.0.2.1]'),
      family: '4',
      port: 4000,
      address: b('192.0.2.1'),
    });
    s.handle({ kind: 'helo', name: b('client.example') });
    const m = runMessage(s, 'Grüße', 'hello\r\n', '4QUEUEID');
    assert.equal(m.id, '4QUEUEID');
    assert.deepEqual(m.client, {
      hostname: '[192.0.2.1]',
      family: '4',
      address: '192.0.2.1',
      port: 4000,
      helo: 'client.example',
    });
    assert.equal(m.sender?.address, '<a@example.org>');
    assert.deepEqual(m.sender?.args, ['SIZE=10']);
    assert.deepEqual(
      m.recipients.map((r) => r.address),
      ['<b@example.net>'],
    );
    assert.deepEqual(
      m.headers.map((h) => [h.name, h.value.toString('latin1')]),
      [['Subject', ' Grüße']],
    );
    assert.equal(m.body.toString(), 'hello\r\n');
    assert.equal(m.macros['j'], 'mx.example');
    assert.equal(m.bodyTruncated, false);
  });

  it('restores the space after the colon when HDR_LEADSPC was not agreed', () => {
    const s = session(1024, { ...WISHES, leadingSpace: false });
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'mail', address: b('<>'), args: [] });
    s.handle({ kind: 'header', name: b('Subject'), value: b('hi') });
    s.handle({ kind: 'header', name: b('X-Empty'), value: b('') });
    const m = filterMessage(s.handle({ kind: 'eob', chunk: b('') }));
    assert.deepEqual(
      m.headers.map((h) => h.value.toString()),
      [' hi', ''],
    );
  });

  it('keeps several messages on one connection apart (ABORT after each, like Postfix)', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'connect', hostname: b('h'), family: '4', port: 1, address: b('192.0.2.9') });
    const first = runMessage(s, 'one', 'body one\r\n');
    s.decide(ACCEPT);
    s.handle({ kind: 'abort' });
    const second = runMessage(s, 'two', 'body two\r\n');
    s.decide(ACCEPT);
    assert.equal(first.headers.length, 1);
    assert.equal(second.headers.length, 1);
    assert.equal(second.headers[0]?.value.toString(), ' two');
    assert.equal(second.body.toString(), 'body two\r\n');
    assert.equal(second.client.address, '192.0.2.9', 'connection state survives between messages');
    assert.notEqual(first.id, second.id);
  });

  it('ABORT mid-message drops headers and body; the next message starts clean', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'mail', address: b('<a@b>'), args: [] });
    s.handle({ kind: 'header', name: b('X-Leak'), value: b(' yes') });
    s.handle({ kind: 'body', chunk: b('leak') });
    assert.equal(s.inTransaction, true);
    s.handle({ kind: 'abort' });
    assert.equal(s.inTransaction, false);
    const m = runMessage(s, 'clean', 'ok\r\n');
    assert.deepEqual(
      m.headers.map((h) => h.name),
      ['Subject'],
    );
    assert.equal(m.body.toString(), 'ok\r\n');
  });

  it('QUIT_NC forgets the client but keeps the negotiation', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    s.handle({
      kind: 'connect',
      hostname: b('old'),
      family: '4',
      port: 1,
      address: b('192.0.2.1'),
    });
    assert.deepEqual(replies(s.handle({ kind: 'quit_nc' })), []);
    assert.deepEqual(
      replies(
        s.handle({
          kind: 'connect',
          hostname: b('new'),
          family: '6',
          port: 2,
          address: b('2001:db8::2'),
        }),
      ),
      ['continue'],
    );
    assert.equal(runMessage(s, 's', 'b').client.hostname, 'new');
  });

  it('answers message commands that arrive without MAIL rather than staying silent', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    assert.deepEqual(replies(s.handle({ kind: 'rcpt', address: b('<x@y>'), args: [] })), [
      'continue',
    ]);
    const m = filterMessage(s.handle({ kind: 'eob', chunk: b('tail') }));
    assert.equal(m.sender, undefined);
    assert.equal(m.body.toString(), 'tail', 'a BODYEOB payload is a last body chunk');
  });

  it('caps the body it keeps, counts the rest, and SKIPs once when the MTA allows it', () => {
    const s = session(10);
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'mail', address: b('<a@b>'), args: [] });
    assert.deepEqual(replies(s.handle({ kind: 'body', chunk: b('0123456') })), ['continue']);
    assert.deepEqual(replies(s.handle({ kind: 'body', chunk: b('789abcdef') })), ['skip']);
    assert.deepEqual(
      replies(s.handle({ kind: 'body', chunk: b('more') })),
      ['continue'],
      'SKIP is sent once',
    );
    const m = filterMessage(s.handle({ kind: 'eob', chunk: b('') }));
    assert.equal(m.body.toString(), '0123456789');
    assert.equal(m.bodyBytes, 20);
    assert.equal(m.bodyTruncated, true);
  });

  it('continues past the cap when the MTA cannot SKIP', () => {
    const s = session(4);
    s.handle({ kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff & ~Proto.Skip });
    s.handle({ kind: 'mail', address: b('<a@b>'), args: [] });
    assert.deepEqual(replies(s.handle({ kind: 'body', chunk: b('0123456789') })), ['continue']);
    assert.equal(filterMessage(s.handle({ kind: 'eob', chunk: b('') })).body.toString(), '0123');
  });

  it('a RCPT gate refuses one recipient, which then is not part of the message', () => {
    const s = new MilterSession({
      wishes: WISHES,
      maxBodyBytes: 1024,
      rcptGate: ({ accepted }) =>
        accepted >= 1
          ? {
              kind: 'tempfail',
              reply: { code: 452, enhanced: '4.5.3', lines: ['Too many recipients'] },
            }
          : undefined,
    });
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'mail', address: b('<a@b>'), args: [] });
    assert.deepEqual(replies(s.handle({ kind: 'rcpt', address: b('<one@x>'), args: [] })), [
      'continue',
    ]);
    const refused = s.handle({ kind: 'rcpt', address: b('<two@x>'), args: [] });
    assert.equal(refused.kind === 'reply' && refused.responses[0]?.kind, 'replycode');
    const m = filterMessage(s.handle({ kind: 'eob', chunk: b('') }));
    assert.deepEqual(
      m.recipients.map((r) => r.address),
      ['<one@x>'],
    );
  });

  it('QUIT asks the adapter to close', () => {
    const s = session();
    s.handle(POSTFIX_OFFER);
    assert.deepEqual(s.handle({ kind: 'quit' }), { kind: 'close' });
  });

  it('refuses commands before negotiation and while a message is being filtered', () => {
    const s = session();
    assert.throws(() => s.handle({ kind: 'helo', name: b('x') }), UnexpectedCommandError);
    s.handle(POSTFIX_OFFER);
    s.handle({ kind: 'eob', chunk: b('') });
    assert.throws(() => s.handle({ kind: 'abort' }), UnexpectedCommandError);
    s.decide(ACCEPT);
    assert.throws(() => s.decide(ACCEPT), UnexpectedCommandError);
  });

  it('refuses protocol version 1', () => {
    assert.throws(
      () => session().handle({ kind: 'optneg', version: 1, actions: 0, protocol: 0 }),
      NegotiationError,
    );
  });
});
