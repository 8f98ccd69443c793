/**
 * Policy features end to end, real Postfix → Spamward → real spamd: the access map (and its reload
 * on SIGHUP), per-user preferences, the bypass phrase, routing (redirect, copies, archive) and
 * scanning the first part of a big message.
 * Each test shows the SMTP reply or the delivered messages.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DOMAIN } from '../support/postfix.ts';
import { diagnose, GTUBE, HAM, headersOf, message, RigSet, SPAM } from '../support/scan-rig.ts';
import { formatReply, replyAt, sendWithSwaks } from '../support/smtp.ts';

const at = (user: string) => `${user}@${TEST_DOMAIN}`;

describe('Postfix → Spamward → spamd: policy features', () => {
  const rigs = new RigSet('policy-e2e');
  before(() => rigs.open());
  after(() => rigs.close());

  it('access map: client SCAN beats the trusted loopback, recipient REJECT refuses at RCPT, recipient OK opts out; SIGHUP rereads it (sender REJECT)', async (t) => {
    const map = join(rigs.dir, 'access.map');
    const recipients = [
      `to:gone@${TEST_DOMAIN}  REJECT No such user here`,
      `to:abuse@${TEST_DOMAIN} OK`,
    ];
    // The test client is 127.0.0.1, trusted (not scanned) by default: SCAN makes it scanned.
    await writeFile(map, ['connect:127.0.0.1 SCAN', ...recipients, ''].join('\n'));
    const r = await rigs.spamd(
      t,
      'access',
      `trust:\n  accessMap: ${map}\nactions:\n  reject: required + 0\n`,
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const send = (from: string, to: string | string[], body = SPAM()) =>
        sendWithSwaks(r.postfix.smtpPort, { from, to, message: body });
      const scanned = await send('alice@example.org', at('bob'));
      assert.equal(replyAt(scanned, 'DOT')?.code, 550, 'loopback scanned because of SCAN');
      const gone = await send('alice@example.org', [at('gone'), at('bob')], HAM);
      const refusal = replyAt(gone, 'RCPT');
      assert.equal(refusal?.code, 550, formatReply(refusal));
      assert.deepEqual(refusal?.lines, ['550 5.7.1 No such user here']);
      assert.equal(replyAt(gone, 'DOT')?.code, 250, 'bob still gets it');
      const abuse = await send('alice@example.org', at('abuse'));
      assert.equal(replyAt(abuse, 'DOT')?.code, 250, 'abuse@ opted out: GTUBE delivered');
      const delivered = (await r.postfix.waitForDelivery(2)).map(headersOf);
      assert.deepEqual(delivered.map((h) => h.get('delivered-to')?.[0]).sort(), [
        at('abuse'),
        at('bob'),
      ]);
      const toAbuse = delivered.find((h) => h.get('delivered-to')?.[0] === at('abuse'));
      assert.equal(toAbuse?.get('x-spam-status'), undefined, 'not scanned');

      const blockSender = 'from:blocked@example.org REJECT Sender blocked here';
      await writeFile(map, [blockSender, ...recipients, ''].join('\n'));
      r.daemon.signal('SIGHUP');
      await r.daemon.waitForLog('configuration reloaded');
      const trusted = await send('alice@example.org', at('bob'));
      assert.equal(replyAt(trusted, 'DOT')?.code, 250, 'without SCAN, loopback is trusted again');
      const blocked = await send('blocked@example.org', at('bob'), HAM);
      assert.equal(replyAt(blocked, 'DOT')?.code, 550, formatReply(replyAt(blocked, 'DOT')));
      assert.deepEqual(replyAt(blocked, 'DOT')?.lines, ['550 5.7.1 Sender blocked here']);

      await writeFile(map, 'from:broken REJEKT\n');
      r.daemon.signal('SIGHUP');
      await r.daemon.waitForLog('reload refused; the running configuration stays');
      assert.match(r.daemon.output(), /access\.map:1: /);
      const still = await send('blocked@example.org', at('bob'), HAM);
      assert.equal(replyAt(still, 'DOT')?.code, 550, 'the last good map still applies');
    });
  });

  it('per-user preferences: the single recipient’s local part is spamd’s User (user "lenient" has required_score 5000)', async (t) => {
    const r = await rigs.spamd(
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
    const r = await rigs.spamd(
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
    const r = await rigs.spamd(
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

  it("spamd PROCESS: SpamAssassin's own headers and report_safe body are applied; preserveBody keeps the body", async (t) => {
    // The rig writes `scanner:\n  urls: [...]\n` first, so this continues the scanner section.
    const r = await rigs.spamd(t, 'process', '  spamd:\n    verb: PROCESS\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      for (const body of [SPAM(), HAM]) {
        const sent = await sendWithSwaks(r.postfix.smtpPort, {
          from: 'alice@example.org',
          to: at('bob'),
          message: body,
        });
        assert.equal(replyAt(sent, 'DOT')?.code, 250, formatReply(replyAt(sent, 'DOT')));
      }
      const [spamRaw, hamRaw] = await r.postfix.waitForDelivery(2);
      const spam = headersOf(spamRaw ?? Buffer.alloc(0));
      assert.match(spam.get('x-spam-status')?.[0] ?? '', /^Yes, score=\d{3,}/);
      assert.match(spam.get('content-type')?.[0] ?? '', /^multipart\/mixed; boundary=/);
      const spamText = spamRaw?.toString('latin1') ?? '';
      assert.match(spamText, /Spam detection software/, 'report_safe body');
      assert.match(spamText, /message\/rfc822/, 'the original attached');
      assert.equal(
        spam.get('received')?.some((v) => /SpamAssassin/.test(v)),
        false,
      );
      const ham = headersOf(hamRaw ?? Buffer.alloc(0));
      assert.match(ham.get('x-spam-status')?.[0] ?? '', /^No, score=/);
      assert.match(hamRaw?.toString('latin1') ?? '', /are we still on for lunch/);
    });
    const kept = await rigs.spamd(
      t,
      'process-preserve',
      '  spamd:\n    verb: PROCESS\n    preserveBody: true\n',
    );
    if (kept === undefined) return;
    await diagnose(t, kept, async () => {
      const sent = await sendWithSwaks(kept.postfix.smtpPort, {
        from: 'alice@example.org',
        to: at('bob'),
        message: SPAM(),
      });
      assert.equal(replyAt(sent, 'DOT')?.code, 250, formatReply(replyAt(sent, 'DOT')));
      const [raw] = await kept.postfix.waitForDelivery(1);
      const out = headersOf(raw ?? Buffer.alloc(0));
      assert.match(out.get('x-spam-status')?.[0] ?? '', /^Yes/);
      assert.equal(out.get('content-type'), undefined, 'no multipart wrapper');
      assert.doesNotMatch(raw?.toString('latin1') ?? '', /Spam detection software/);
    });
  });

  it('oversize "truncate": the first maxScanBytes are scanned, the whole body is delivered', async (t) => {
    const r = await rigs.spamd(
      t,
      'truncate',
      'scan:\n  maxScanBytes: 4096\n  oversize: truncate\n',
    );
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
