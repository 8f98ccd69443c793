/**
 * Big bodies: the body cap, SKIP when the MTA offers it (once), CONTINUE to every chunk when it
 * does not, and miltertest's 65536-byte BODY packets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Proto } from '../../src/milter/constants.ts';
import type { Response } from '../../src/milter/responses.ts';
import { VERSION } from '../../src/version.ts';
import { type FakeMta, POSTFIX_OFFER } from '../support/fake-mta.ts';
import {
  type Harness,
  kinds,
  MAX_BODY_BYTES,
  plain,
  recordingFilter,
  startServer,
} from './harness.ts';

const CHUNK = 65535;
const BIG_BODY = Buffer.alloc(2 * 1024 * 1024, 'spam and eggs\r\n');
const ACCEPTED = [
  { kind: 'addheader', name: 'X-Spamward', value: ` ${VERSION}` },
  { kind: 'continue' },
];
/** The first chunk that no longer fits under the cap (0-based). */
const FIRST_OVER_CAP = Math.floor(MAX_BODY_BYTES / CHUNK);

/** Sends the envelope and headers, then every chunk of `body` whatever the replies; returns the chunk replies. */
async function sendWholeBody(mta: FakeMta, body: Buffer, size = CHUNK): Promise<Response[]> {
  const setup = await mta.run(
    [
      {
        command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
        reply: false,
      },
      { command: { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] }, reply: true },
      { command: { kind: 'eoh' }, reply: false },
    ],
    {},
  );
  assert.deepEqual(kinds(setup.steps), ['continue']); // RCPT (MAIL is not answered: NR_MAIL)
  const replies: Response[] = [];
  for (let at = 0; at < body.length; at += size) {
    replies.push(...(await mta.request({ kind: 'body', chunk: body.subarray(at, at + size) })));
  }
  return replies;
}

/** Postfix's offer without NR_BODY: body chunks are answered, so SKIP can be. */
const NO_NR_BODY = { ...POSTFIX_OFFER, protocol: POSTFIX_OFFER.protocol & ~Proto.NrBody };

describe('a body larger than the cap, streamed (NR_BODY agreed)', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  it('takes every chunk unanswered, keeps the first maxBodyBytes and decides at end-of-message', async () => {
    const mta = await h.connectNegotiated();
    await mta.run(
      [
        {
          command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
          reply: false,
        },
        {
          command: { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] },
          reply: true,
        },
        { command: { kind: 'eoh' }, reply: false },
      ],
      {},
    );
    for (let at = 0; at < BIG_BODY.length; at += CHUNK) {
      await mta.send({ kind: 'body', chunk: BIG_BODY.subarray(at, at + CHUNK) });
    }
    assert.deepEqual(plain(await mta.request({ kind: 'eob', chunk: Buffer.alloc(0) })), ACCEPTED);
    await mta.quit();
    assert.deepEqual(mta.unread, [], 'no reply to any BODY packet');
    const message = recorder.messages.at(-1) ?? assert.fail('not filtered');
    assert.ok(message.body.equals(BIG_BODY.subarray(0, MAX_BODY_BYTES)));
    assert.equal(message.bodyBytes, BIG_BODY.length);
    assert.equal(message.bodyTruncated, true);
  });
});

describe('a body larger than the cap, answered chunk by chunk (no NR_BODY offered)', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  /** A fake MTA that negotiated without NR_BODY (and so with SKIP, unless `offer` says no). */
  async function answeredMta(offer = NO_NR_BODY): Promise<FakeMta> {
    const mta = await h.connect();
    await mta.negotiate(offer);
    return mta;
  }

  it('answers SKIP exactly once, at the first chunk over the cap, when SKIP is offered', async () => {
    const mta = await answeredMta();
    const replies = await sendWholeBody(mta, BIG_BODY);
    assert.equal(replies.length, Math.ceil(BIG_BODY.length / CHUNK), 'one reply per chunk');
    assert.deepEqual(
      replies.flatMap((r, i) => (r.kind === 'skip' ? [i] : [])),
      [FIRST_OVER_CAP],
    );
    assert.ok(replies.every((r) => r.kind === 'skip' || r.kind === 'continue'));
    assert.deepEqual(plain(await mta.request({ kind: 'eob', chunk: Buffer.alloc(0) })), ACCEPTED);
    await mta.quit();

    const message = recorder.messages.at(-1) ?? assert.fail('not filtered');
    assert.equal(message.body.length, MAX_BODY_BYTES);
    assert.ok(message.body.equals(BIG_BODY.subarray(0, MAX_BODY_BYTES)));
    assert.equal(message.bodyBytes, BIG_BODY.length);
    assert.equal(message.bodyTruncated, true);
  });

  it('still decides at end-of-message when the MTA honours SKIP', async () => {
    const mta = await answeredMta();
    const { steps, eob } = await mta.message({ body: BIG_BODY });
    assert.deepEqual(kinds(steps).slice(-2), ['continue', 'skip']);
    assert.deepEqual(plain(eob), ACCEPTED);
    await mta.quit();
    assert.equal(recorder.messages.at(-1)?.bodyBytes, (FIRST_OVER_CAP + 1) * CHUNK);
  });

  it('answers CONTINUE to every chunk when SKIP is not offered', async () => {
    const mta = await h.connect();
    const reply = await mta.negotiate({
      ...NO_NR_BODY,
      protocol: NO_NR_BODY.protocol & ~Proto.Skip,
    });
    assert.equal(reply.protocol & Proto.Skip, 0);
    const replies = await sendWholeBody(mta, BIG_BODY);
    assert.equal(replies.length, Math.ceil(BIG_BODY.length / CHUNK));
    assert.ok(
      replies.every((r) => r.kind === 'continue'),
      `got ${kinds(replies).join(' ')}`,
    );
    assert.deepEqual(plain(await mta.request({ kind: 'eob', chunk: Buffer.alloc(0) })), ACCEPTED);
    await mta.quit();
    const message = recorder.messages.at(-1) ?? assert.fail('not filtered');
    assert.equal(message.body.length, MAX_BODY_BYTES);
    assert.equal(message.bodyBytes, BIG_BODY.length);
  });

  it("accepts a 65536-byte BODY packet (miltertest's chunk size)", async () => {
    const mta = await answeredMta();
    const body = Buffer.alloc(65536, 'x');
    const replies = await sendWholeBody(mta, body, body.length);
    assert.deepEqual(kinds(replies), ['continue']);
    assert.deepEqual(plain(await mta.request({ kind: 'eob', chunk: Buffer.alloc(0) })), ACCEPTED);
    await mta.quit();
    assert.equal(recorder.messages.at(-1)?.body.length, 65536);
  });
});
