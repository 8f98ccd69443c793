/**
 * The filter end to end: real Postfix → Spamward → real spamd / rspamd, with configuration files.
 * Shows the delivered message's headers or the SMTP reply for each policy path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DOMAIN } from '../support/postfix.ts';
import { diagnose, HAM, headersOf, message, present, RigSet, SPAM } from '../support/scan-rig.ts';
import { formatReply, replyAt, sendWithSwaks } from '../support/smtp.ts';

/** rspamd's GTUBE after its first letter (X reject, Y add header, Z rewrite subject). */
const RSPAMD_GTUBE_TAIL = 'JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

describe('Postfix → Spamward → scanner', () => {
  const rigs = new RigSet('scan-e2e');
  before(() => rigs.open());
  after(() => rigs.close());

  it('spamd, tag only: ham and spam are delivered with SpamAssassin headers; spam gets the subject tag; forged headers go', async (t) => {
    const r = await rigs.spamd(
      t,
      'tag',
      'subjectTag:\n  enabled: true\n  text: "[SPAM]"\nheaders:\n  report: true\n',
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const ham = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: HAM,
      });
      assert.equal(replyAt(ham, 'DOT')?.code, 250, formatReply(replyAt(ham, 'DOT')));
      const forged = SPAM([
        'X-Spam-Status: No, score=-100 (forged by the sender)',
        'X-Spam-Flag: NO',
      ]);
      const spam = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: forged,
      });
      assert.equal(replyAt(spam, 'DOT')?.code, 250, formatReply(replyAt(spam, 'DOT')));
      const [hamOut, spamOut] = (await r.postfix.waitForDelivery(2)).map(headersOf);
      assert.match(hamOut?.get('x-spam-status')?.[0] ?? '', /^No, score=-?\d+\.\d required=5\.0/);
      assert.equal(hamOut?.get('subject')?.[0], 'Lunch on Thursday');
      assert.deepEqual(
        spamOut?.get('x-spam-flag'),
        ['YES'],
        'the forged X-Spam-Flag was removed, ours added',
      );
      assert.equal(
        spamOut?.get('x-spam-status')?.length,
        1,
        'the forged X-Spam-Status was removed',
      );
      assert.match(
        spamOut?.get('x-spam-status')?.[0] ?? '',
        /^Yes, score=\d{3,}\.\d required=5\.0 tests=.*GTUBE/,
      );
      assert.ok((spamOut?.get('x-spam-report')?.[0] ?? '').includes('GTUBE'));
      assert.match(spamOut?.get('subject')?.[0] ?? '', /^\[SPAM\] Test$/);
      assert.match(spamOut?.get('x-spam-checker-version')?.[0] ?? '', /Spamward/);
    });
  });

  it('spamd, reject threshold: GTUBE is refused at SMTP with the configured reply and nothing is delivered', async (t) => {
    const r = await rigs.spamd(t, 'reject', 'actions:\n  reject: required + 10\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const result = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: SPAM(),
      });
      const dot = replyAt(result, 'DOT');
      assert.equal(dot?.code, 550, formatReply(dot));
      assert.equal(dot?.enhanced, '5.7.1');
      assert.match(
        dot?.lines.join(' ') ?? '',
        /Message rejected as spam \(score \d{3,}(\.\d+)?, ref [0-9a-f]{10}\)/,
      );
      const ref = /ref ([0-9a-f]{10})/.exec(dot?.lines.join(' ') ?? '')?.[1];
      assert.ok(
        ref !== undefined && r.daemon.output().includes(`"ref":"${ref}"`),
        'the reference id is in the log line',
      );
      assert.deepEqual(await r.postfix.takeDeliveries(), []);
    });
  });

  it('scanner down: the failure policy applies — tempfail by default, accept with a stamp when configured', async (t) => {
    if (!present(t, 'spamd')) return;
    const down = await rigs.custom('down-tempfail', 'scanner:\n  urls: [spamd://127.0.0.1:1]\n');
    await diagnose(t, down, async () => {
      const result = await sendWithSwaks(down.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: HAM,
      });
      const dot = replyAt(result, 'DOT');
      assert.equal(dot?.code, 451, formatReply(dot));
      assert.equal(dot?.enhanced, '4.7.1');
      assert.match(down.daemon.output(), /"failure":"unavailable".*"code":"SCANNER_ALL_DOWN"/);
    });
    const accept = await rigs.custom(
      'down-accept',
      'scanner:\n  urls: [spamd://127.0.0.1:1]\nfailure:\n  unavailable: accept\n',
    );
    await diagnose(t, accept, async () => {
      const result = await sendWithSwaks(accept.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: HAM,
      });
      assert.equal(replyAt(result, 'DOT')?.code, 250);
      const [out] = (await accept.postfix.waitForDelivery(1)).map(headersOf);
      assert.match(
        out?.get('x-spam-checker')?.[0] ?? '',
        /^unavailable \(SCANNER_ALL_DOWN, ref [0-9a-f]{10}\)$/,
      );
      assert.equal(out?.get('x-spam-status'), undefined);
    });
  });

  it('trust: loopback is trusted by default, so its mail passes unscanned and unchanged', async (t) => {
    const r = await rigs.spamd(t, 'trusted', 'trust:\n  maxRecipients: 1\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const result = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: [`bob@${TEST_DOMAIN}`, `carol@${TEST_DOMAIN}`],
        message: SPAM(),
      });
      assert.equal(replyAt(result, 'DOT')?.code, 250, formatReply(replyAt(result, 'DOT')));
      const delivered = (await r.postfix.waitForDelivery(2)).map(headersOf);
      assert.equal(delivered.length, 2, 'the recipient cap does not apply to trusted clients');
      assert.equal(delivered[0]?.get('x-spam-status'), undefined, 'not scanned, not stamped');
      assert.match(
        r.daemon.output(),
        /"reason":"not scanned: client 127\.0\.0\.1 in trusted networks"/,
      );
    });
  });

  it('trust: untrusted clients get 452 4.5.3 past maxRecipients; the accepted ones still get the mail', async (t) => {
    const r = await rigs.spamd(t, 'rcpt-cap', 'trust:\n  networks: []\n  maxRecipients: 2\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const to = ['one', 'two', 'three'].map((u) => `${u}@${TEST_DOMAIN}`);
      const result = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to,
        message: HAM,
      });
      const rcpts = result.replies.filter((x) => x.stage === 'RCPT').map((x) => x.reply);
      assert.deepEqual(
        rcpts.map((x) => x.code),
        [250, 250, 452],
        result.transcript,
      );
      assert.equal(rcpts[2]?.enhanced, '4.5.3');
      assert.match(rcpts[2]?.lines.join(' ') ?? '', /Too many recipients/);
      assert.equal((await r.postfix.waitForDelivery(2)).length, 2);
    });
  });

  it("rspamd, following the scanner's action: GTUBE is rejected, ham gets rspamd-style headers", async (t) => {
    const r = await rigs.rspamd(
      t,
      'rspamd',
      'headers:\n  profile: rspamd\nactions:\n  followScanner: true\n',
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const spam = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: SPAM(),
      });
      assert.equal(replyAt(spam, 'DOT')?.code, 550, formatReply(replyAt(spam, 'DOT')));
      const ham = await sendWithSwaks(r.postfix.smtpPort, {
        from: 'alice@example.org',
        to: `bob@${TEST_DOMAIN}`,
        message: HAM,
      });
      assert.equal(replyAt(ham, 'DOT')?.code, 250, formatReply(replyAt(ham, 'DOT')));
      const [out] = (await r.postfix.waitForDelivery(1)).map(headersOf);
      assert.match(
        out?.get('x-spamd-result')?.[0] ?? '',
        /^default: False \[-?\d+\.\d\d \/ \d+\.\d\d\]/,
      );
      assert.ok(out?.has('x-rspamd-action'));
      // rspamd's test variants of GTUBE: Z → "rewrite subject", Y → "add header".
      const variant = (prefix: 'Y' | 'Z') =>
        message('Test spam mail (GTUBE)', `${prefix}${RSPAMD_GTUBE_TAIL}`);
      for (const prefix of ['Z', 'Y'] as const) {
        const sent = await sendWithSwaks(r.postfix.smtpPort, {
          from: 'alice@example.org',
          to: `bob@${TEST_DOMAIN}`,
          message: variant(prefix),
        });
        assert.equal(replyAt(sent, 'DOT')?.code, 250, formatReply(replyAt(sent, 'DOT')));
      }
      const [rewritten, tagged] = (await r.postfix.waitForDelivery(2)).map(headersOf);
      assert.deepEqual(rewritten?.get('x-rspamd-action'), ['rewrite subject']);
      assert.match(rewritten?.get('subject')?.[0] ?? '', /SPAM.*Test spam mail \(GTUBE\)/);
      assert.deepEqual(tagged?.get('x-rspamd-action'), ['add header']);
      assert.match(tagged?.get('x-spamd-result')?.[0] ?? '', /^default: True /);
      assert.deepEqual(tagged?.get('subject'), ['Test spam mail (GTUBE)']);
    });
  });
});
