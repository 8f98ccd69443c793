/**
 * Policy features end to end, real Postfix → Spamward → real spamd: per-user preferences, the
 * bypass phrase, routing (redirect, copies, archive) and scanning the first part of a big message.
 * Each test shows the SMTP reply or the delivered messages.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TEST_DOMAIN } from '../support/postfix.ts';
import {
  diagnose,
  GTUBE,
  HAM,
  headersOf,
  message,
  present,
  type Rig,
  rig,
  SPAM,
} from '../support/scan-rig.ts';
import { formatReply, replyAt, sendWithSwaks } from '../support/smtp.ts';
import { getSpamd, type SpamdEndpoints } from '../support/spamd-server.ts';

const at = (user: string) => `${user}@${TEST_DOMAIN}`;

describe('Postfix → Spamward → spamd: policy features', () => {
  let dir = '';
  let spamd: SpamdEndpoints | undefined;
  const rigs: Rig[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-policy-e2e-'));
  });
  after(async () => {
    await Promise.allSettled(rigs.map((r) => r.stop()));
    await spamd?.stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  async function spamdRig(t: TestContext, name: string, yaml: string): Promise<Rig | undefined> {
    if (!present(t, 'spamd')) return undefined;
    spamd ??= await getSpamd();
    const r = await rig(dir, name, `scanner:\n  urls: [${spamd.tcpUrl}]\n${yaml}`);
    rigs.push(r);
    return r;
  }

  it('per-user preferences: the single recipient’s local part is spamd’s User (user "lenient" has required_score 5000)', async (t) => {
    const r = await spamdRig(
      t,
      'prefs',
      'scan:\n  prefsUser: recipient-local-part\nactions:\n  reject: required + 0\n',
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const toBob = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: SPAM(),
      });
      assert.equal(replyAt(toBob, 'DOT')?.code, 550, formatReply(replyAt(toBob, 'DOT')));
      const toLenient = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('lenient'),
        message: SPAM(),
      });
      assert.equal(replyAt(toLenient, 'DOT')?.code, 250, formatReply(replyAt(toLenient, 'DOT')));
      const [out] = (await r.postfix.waitForDelivery(1)).map(headersOf);
      assert.match(out?.get('x-spam-status')?.[0] ?? '', /^No, score=\d{3,}\.\d required=5000\.0/);
      // Two recipients: no single user, so spamd's defaults apply and GTUBE is refused.
      const toBoth = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: [at('lenient'), at('bob')],
        message: SPAM(),
      });
      assert.equal(replyAt(toBoth, 'DOT')?.code, 550, formatReply(replyAt(toBoth, 'DOT')));
    });
  });

  it('bypass phrase: spam that carries it is delivered tagged instead of refused', async (t) => {
    const r = await spamdRig(
      t,
      'bypass',
      'scan:\n  bypassPhrase: mapsetahi\nactions:\n  reject: required + 10\n',
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const withPhrase = message('Re: bounced (MAPSETAHI)', `As asked.\r\n${GTUBE}`);
      const sent = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: withPhrase,
      });
      assert.equal(replyAt(sent, 'DOT')?.code, 250, formatReply(replyAt(sent, 'DOT')));
      const [out] = (await r.postfix.waitForDelivery(1)).map(headersOf);
      assert.deepEqual(out?.get('x-spam-flag'), ['YES']);
      const plain = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: SPAM(),
      });
      assert.equal(replyAt(plain, 'DOT')?.code, 550, formatReply(replyAt(plain, 'DOT')));
    });
  });

  it('routing: spam redirected (originals in X-Spam-Orig-To) and archived; ham copied and archived', async (t) => {
    const r = await spamdRig(
      t,
      'routing',
      [
        'routing:',
        `  spamRedirectTo: ${at('trap')}`,
        `  hamCopyTo: [${at('hamcopy')}]`,
        `  archiveTo: [${at('archive')}]`,
        '',
      ].join('\n'),
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const spam = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: [at('bob'), at('carol')],
        message: SPAM(),
      });
      assert.equal(replyAt(spam, 'DOT')?.code, 250, formatReply(replyAt(spam, 'DOT')));
      const spamCopies = (await r.postfix.waitForDelivery(2)).map(headersOf);
      assert.deepEqual(
        spamCopies.map((h) => h.get('delivered-to')?.[0]).sort(),
        [at('archive'), at('trap')],
        'neither bob nor carol got the spam',
      );
      for (const copy of spamCopies) {
        assert.deepEqual(copy.get('x-spam-orig-to'), [`${at('bob')}, ${at('carol')}`]);
        assert.deepEqual(copy.get('x-spam-flag'), ['YES']);
      }
      const ham = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: HAM,
      });
      assert.equal(replyAt(ham, 'DOT')?.code, 250, formatReply(replyAt(ham, 'DOT')));
      const hamCopies = (await r.postfix.waitForDelivery(3)).map(headersOf);
      assert.deepEqual(hamCopies.map((h) => h.get('delivered-to')?.[0]).sort(), [
        at('archive'),
        at('bob'),
        at('hamcopy'),
      ]);
      for (const copy of hamCopies) assert.equal(copy.get('x-spam-orig-to'), undefined);
      assert.equal(await r.postfix.queueSize(), 0);
    });
  });

  it('oversize "truncate": the first maxScanBytes are scanned, the whole body is delivered', async (t) => {
    const r = await spamdRig(t, 'truncate', 'scan:\n  maxScanBytes: 4096\n  oversize: truncate\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const filler = Array.from({ length: 400 }, (_, i) => `line ${i} of a long message body`);
      const big = message('Big', [GTUBE, ...filler].join('\r\n'));
      const sent = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: big,
      });
      assert.equal(replyAt(sent, 'DOT')?.code, 250, formatReply(replyAt(sent, 'DOT')));
      const [raw] = await r.postfix.waitForDelivery(1);
      const out = headersOf(raw ?? Buffer.alloc(0));
      assert.deepEqual(out.get('x-spam-flag'), ['YES'], 'GTUBE in the first 4 KiB was seen');
      assert.match(
        out.get('x-spam-checker')?.[0] ?? '',
        /^truncated \(first 4096 of \d+ body bytes scanned\)$/,
      );
      assert.ok(raw?.toString('latin1').includes('line 399 of a long message body'), 'body intact');
    });
  });
});
