/**
 * Option negotiation over a real socket: Postfix's offer, an old v2 MTA offering the v1 sets,
 * an MTA without SETSYMLIST, and a version we refuse.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WISHES } from '../../src/daemon/daemon.ts';
import { Action, ALL_ACTIONS, Proto, V1_ACTIONS, V1_PROTOCOL } from '../../src/milter/constants.ts';
import { VERSION } from '../../src/version.ts';
import { POSTFIX_OFFER } from '../support/fake-mta.ts';
import { type Harness, kinds, plain, recordingFilter, startServer } from './harness.ts';

/** Bits of `asked` that are not in `offered`. */
const unoffered = (asked: number, offered: number): number => asked & ~offered;

describe('option negotiation', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  it("answers Postfix's offer with a subset of it, macro lists included", async () => {
    const mta = await h.connect();
    const reply = await mta.negotiate(POSTFIX_OFFER);
    assert.equal(reply.version, 6);
    assert.equal(unoffered(reply.actions, POSTFIX_OFFER.actions), 0);
    assert.equal(unoffered(reply.protocol, POSTFIX_OFFER.protocol), 0);
    assert.equal(reply.actions, WISHES.actions | Action.SetSymList);
    // SKIP in the answer says we may send SMFIR_SKIP (past the body cap).
    assert.equal(
      reply.protocol,
      Proto.NoData |
        Proto.NrConn |
        Proto.NrHelo |
        Proto.NrMail |
        Proto.NrHdr |
        Proto.NrEoh |
        Proto.NrBody |
        Proto.HdrLeadSpc |
        Proto.Skip,
    );
    assert.deepEqual(reply.macros, WISHES.macros);
    await mta.quit();
  });

  it('answers a v2 MTA offering actions 0 and protocol 0 with v2 and only v1 bits', async () => {
    const mta = await h.connect();
    const reply = await mta.negotiate({ version: 2, actions: 0, protocol: 0 });
    assert.equal(reply.version, 2);
    // 0 means the v1 sets; nothing beyond them may be asked for, and no macro lists on v2.
    assert.equal(unoffered(reply.actions, V1_ACTIONS), 0);
    assert.equal(unoffered(reply.protocol, V1_PROTOCOL), 0);
    assert.deepEqual(reply.macros, {});

    // Without NR_HDR/HDR_LEADSPC every header is answered and arrives without its space.
    const { steps, eob } = await mta.message({ headers: [['Subject', ' old mta']] });
    assert.equal(kinds(steps).length, 7, 'CONNECT HELO MAIL RCPT HEADER EOH BODY, no DATA on v2');
    assert.deepEqual(plain(eob), [
      { kind: 'addheader', name: 'X-Spamward', value: VERSION },
      { kind: 'continue' },
    ]);
    await mta.quit();
    assert.deepEqual(mta.unread, []);
    const message = recorder.messages.at(-1) ?? assert.fail('not filtered');
    assert.equal(
      message.headers[0]?.value.toString(),
      ' old mta',
      'the stripped space is restored',
    );
  });

  it('sends no macro lists to an MTA without SETSYMLIST and echoes no MDS bits', async () => {
    const mta = await h.connect();
    const offer = { version: 6, actions: ALL_ACTIONS & ~Action.SetSymList, protocol: 0x301fffff };
    const reply = await mta.negotiate(offer);
    assert.equal(reply.actions & Action.SetSymList, 0);
    assert.deepEqual(reply.macros, {});
    assert.equal(unoffered(reply.protocol, 0x1fffff), 0);
    await mta.quit();
  });

  it('closes the connection on protocol version 1', async () => {
    const mta = await h.connect();
    await mta.send({ kind: 'optneg', version: 1, actions: 0x0f, protocol: 0x3f });
    await mta.closed();
    assert.deepEqual(mta.unread, [], 'no OPTNEG reply');
    assert.ok(h.log.at('warn').some((e) => e.obj['code'] === 'MILTER_NEGOTIATION'));
  });

  it('closes the connection on a command before OPTNEG', async () => {
    const mta = await h.connect();
    await mta.send({ kind: 'helo', name: Buffer.from('early') });
    await mta.closed();
    assert.deepEqual(mta.unread, []);
  });
});
