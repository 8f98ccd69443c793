/**
 * Whole transactions against the in-process server over real sockets: the bootstrap filter's
 * header and GTUBE reject, several messages per connection, ABORT, QUIT_NC, and packets split
 * byte by byte or coalesced into one write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GTUBE } from '../../src/filter/gtube-filter.ts';
import { encodeCommand } from '../../src/milter/commands.ts';
import { VERSION } from '../../src/version.ts';
import { type MessageSpec, messageSteps } from '../support/fake-mta.ts';
import { type Harness, kinds, plain, recordingFilter, startServer, TRANSPORTS } from './harness.ts';

const STAMP = { kind: 'addheader', name: 'X-Spamward', value: ` ${VERSION}` };
const GTUBE_REPLY = {
  kind: 'replycode',
  text: '550 5.7.1 Message rejected as spam (GTUBE test string)',
};
const SPAM_BODY = `Hello,\r\n${GTUBE.toString('latin1')}\r\n`;

for (const transport of TRANSPORTS) {
  describe(`a transaction over ${transport}`, () => {
    let h: Harness;
    before(async () => {
      h = await startServer(undefined, { transport });
    });
    after(() => h.stop());

    it('stamps X-Spamward (leading space kept) and continues', async () => {
      const mta = await h.connectNegotiated();
      const { steps, eob } = await mta.message();
      // RCPT answered; DATA skipped (NODATA); CONNECT, HELO, MAIL, HEADER, EOH, BODY unanswered (NR_*).
      assert.deepEqual(kinds(steps), ['continue']);
      assert.deepEqual(plain(eob), [STAMP, { kind: 'continue' }]);
      await mta.send({ kind: 'abort' });
      await mta.quit();
      assert.deepEqual(mta.unread, []);
    });

    it('rejects GTUBE with REPLYCODE 550 5.7.1 and no header', async () => {
      const mta = await h.connectNegotiated();
      const { eob } = await mta.message({ body: SPAM_BODY });
      assert.deepEqual(plain(eob), [GTUBE_REPLY]);
      await mta.quit();
      assert.deepEqual(mta.unread, []);
    });
  });
}

describe('several messages on one connection', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  it('serves three messages with ABORT after each, a double ABORT, then QUIT closes', async () => {
    const mta = await h.connectNegotiated();
    const specs: MessageSpec[] = [
      { macros: { M: { i: 'Q1' } }, headers: [['Subject', ' one']], body: 'first\r\n' },
      { client: null, helo: null, macros: { M: { i: 'Q2' } }, body: SPAM_BODY },
      {
        client: null,
        helo: null,
        macros: { M: { i: 'Q3' } },
        from: '<third@example.org>',
        rcpts: ['<a@example.net>', '<b@example.net>'],
        headers: [['Subject', ' three']],
        body: 'third\r\n',
      },
    ];
    const finals = [];
    for (const spec of specs) {
      finals.push(plain((await mta.message(spec)).eob));
      await mta.send({ kind: 'abort' });
    }
    await mta.send({ kind: 'abort' });
    await mta.quit();

    assert.deepEqual(finals, [
      [STAMP, { kind: 'continue' }],
      [GTUBE_REPLY],
      [STAMP, { kind: 'continue' }],
    ]);
    assert.deepEqual(mta.unread, []);
    const [first, second, third] = recorder.messages;
    assert.equal(recorder.messages.length, 3);
    assert.deepEqual([first?.id, second?.id, third?.id], ['Q1', 'Q2', 'Q3']);
    assert.equal(third?.body.toString(), 'third\r\n');
    assert.equal(third?.sender?.address, '<third@example.org>');
    assert.deepEqual(
      third?.recipients.map((r) => r.address),
      ['<a@example.net>', '<b@example.net>'],
    );
    assert.deepEqual(
      third?.headers.map((f) => [f.name, f.value.toString()]),
      [['Subject', ' three']],
    );
    assert.equal(third?.client.helo, 'client.example.org', 'HELO is connection state');
  });
});

describe('ABORT in the middle of a message', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  it('forgets the aborted message; the next one on the connection is clean', async () => {
    const mta = await h.connectNegotiated();
    const aborted = messageSteps(
      {
        from: '<first@example.org>',
        rcpts: ['<first-rcpt@example.net>'],
        headers: [['X-First', ' leak?']],
        body: 'first body\r\n',
        macros: { M: { i: 'FIRST' } },
      },
      mta.negotiated ?? assert.fail('not negotiated'),
    ).filter((step) => step.command.kind !== 'eob');
    const partial = await mta.run(aborted);
    assert.deepEqual(partial.eob, []);
    await mta.send({ kind: 'abort' });

    const { eob } = await mta.message({
      client: null,
      helo: null,
      from: '<second@example.org>',
      rcpts: ['<second-rcpt@example.net>'],
      headers: [['X-Second', ' clean']],
      body: 'second body\r\n',
    });
    assert.deepEqual(plain(eob), [STAMP, { kind: 'continue' }]);
    await mta.quit();

    assert.equal(recorder.messages.length, 1, 'the aborted message never reached the filter');
    const message = recorder.messages[0] ?? assert.fail('no message');
    assert.equal(message.body.toString(), 'second body\r\n');
    assert.deepEqual(
      message.headers.map((f) => [f.name, f.value.toString()]),
      [['X-Second', ' clean']],
    );
    assert.equal(message.sender?.address, '<second@example.org>');
    assert.deepEqual(
      message.recipients.map((r) => r.address),
      ['<second-rcpt@example.net>'],
    );
    assert.equal(
      message.macros['i'],
      undefined,
      'MAIL-stage macros of the aborted message are gone',
    );
    assert.notEqual(message.id, 'FIRST');
  });
});

describe('QUIT_NC', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  it('accepts a new CONNECT without a new OPTNEG and forgets the old client', async () => {
    const mta = await h.connectNegotiated();
    const first = await mta.message({
      client: { hostname: 'first.example', family: '4', port: 1111, address: '192.0.2.1' },
      helo: 'first-helo',
      macros: { C: { '{daemon_name}': 'first-daemon' } },
    });
    assert.deepEqual(plain(first.eob), [STAMP, { kind: 'continue' }]);
    await mta.send({ kind: 'abort' });
    await mta.send({ kind: 'quit_nc' });

    const second = await mta.message({
      client: { hostname: 'second.example', family: '6', port: 2222, address: '2001:db8::2' },
      helo: 'second-helo',
    });
    assert.deepEqual(plain(second.eob), [STAMP, { kind: 'continue' }]);
    await mta.quit();
    assert.deepEqual(mta.unread, []);

    const message = recorder.messages[1] ?? assert.fail('second message not filtered');
    assert.deepEqual(message.client, {
      hostname: 'second.example',
      family: '6',
      address: '2001:db8::2',
      port: 2222,
      helo: 'second-helo',
    });
    assert.equal(
      message.macros['daemon_name'],
      undefined,
      'connect macros of the old client leaked',
    );
  });
});

describe('packet boundaries on the socket', () => {
  let h: Harness;
  before(async () => {
    h = await startServer();
  });
  after(() => h.stop());

  const spec: MessageSpec = {
    headers: [
      ['Subject', ' split'],
      ['X-Empty', ''],
    ],
    body: `line one\r\n${GTUBE.toString('latin1')}\r\n`,
    macros: { C: { j: 'mx.example.org' }, M: { i: 'Q1' } },
  };

  it('gives the same replies for normal, byte-at-a-time and fully coalesced writes', async () => {
    const normal = await h.connectNegotiated();
    const reference = await normal.message(spec);
    const expected = plain([...reference.steps, ...reference.eob]);
    assert.deepEqual(plain(reference.eob), [GTUBE_REPLY]);

    const trickled = await h.connect();
    await trickled.negotiate(undefined, { trickle: true });
    const bytewise = await trickled.message(spec, { trickle: true });
    assert.deepEqual(plain([...bytewise.steps, ...bytewise.eob]), expected);

    const coalesced = await h.connectNegotiated();
    const steps = messageSteps(spec, coalesced.negotiated ?? assert.fail('not negotiated'));
    await coalesced.sendRaw(Buffer.concat(steps.map((step) => encodeCommand(step.command))));
    const replies = await coalesced.collect(steps.filter((step) => step.reply).length);
    assert.deepEqual(plain(replies), expected);

    for (const mta of [normal, trickled, coalesced]) {
      await mta.quit();
      assert.deepEqual(mta.unread, []);
    }
  });
});
