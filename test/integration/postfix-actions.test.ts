/**
 * The remaining verdict paths end to end, real Postfix → Spamward → real spamd: tempfail,
 * discard and quarantine thresholds, dry run (and the per-message log line), oversize skip,
 * authenticated senders (Postfix XCLIENT LOGIN) and the "both" header profile with an RFC 2047
 * subject tag. Each test shows the SMTP reply, the delivered message or Postfix's queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DOMAIN } from '../support/postfix.ts';
import { diagnose, HAM, headersOf, message, type Rig, RigSet, SPAM } from '../support/scan-rig.ts';
import { formatReply, replyAt, sendWithSwaks } from '../support/smtp.ts';

const BOB = `bob@${TEST_DOMAIN}`;

/** The pino lines with this msg, parsed. */
function logLines(output: string, msg: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['msg'] === msg);
}

describe('Postfix → Spamward → spamd: actions', () => {
  const rigs = new RigSet('actions-e2e');
  before(() => rigs.open());
  after(() => rigs.close());

  const send = (r: Rig, body: Buffer, extra: { xclient?: string } = {}) =>
    sendWithSwaks(r.postfix.smtpPort, {
      from: 'alice@example.org',
      to: BOB,
      message: body,
      ...extra,
    });

  it('tempfail threshold: GTUBE gets the configured 4xx reply, ham is delivered', async (t) => {
    const r = await rigs.spamd(t, 'tempfail', 'actions:\n  tempfail: required + 0\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const dot = replyAt(await send(r, SPAM()), 'DOT');
      assert.equal(dot?.code, 451, formatReply(dot));
      assert.equal(dot?.enhanced, '4.7.1');
      assert.match(
        dot?.lines.join(' ') ?? '',
        /Message deferred \(ref [0-9a-f]{10}\); try again later/,
      );
      assert.equal(replyAt(await send(r, HAM), 'DOT')?.code, 250);
      assert.equal((await r.postfix.waitForDelivery(1)).length, 1);
    });
  });

  it('discard threshold: GTUBE is accepted at SMTP and never delivered', async (t) => {
    const r = await rigs.spamd(t, 'discard', 'actions:\n  discard: required + 0\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      assert.equal(replyAt(await send(r, SPAM()), 'DOT')?.code, 250);
      assert.equal(replyAt(await send(r, HAM), 'DOT')?.code, 250);
      const delivered = (await r.postfix.waitForDelivery(1)).map(headersOf);
      assert.equal(delivered[0]?.get('subject')?.[0], 'Lunch on Thursday', 'only the ham arrives');
      assert.deepEqual(await r.postfix.takeDeliveries(), []);
      assert.equal(await r.postfix.queueSize(), 0);
      assert.match(await r.postfix.log(), /milter-discard: END-OF-MESSAGE/);
    });
  });

  it('quarantine threshold: GTUBE goes to the Postfix hold queue', async (t) => {
    const r = await rigs.spamd(t, 'quarantine', 'actions:\n  quarantine: required + 0\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      assert.equal(replyAt(await send(r, SPAM()), 'DOT')?.code, 250);
      assert.equal(replyAt(await send(r, HAM), 'DOT')?.code, 250);
      assert.equal((await r.postfix.waitForDelivery(1)).length, 1, 'only the ham is delivered');
      assert.equal(await r.postfix.queueSize(), 1, 'the spam waits in the hold queue');
      // Postfix logs the hold but not the reason (only Sendmail records it).
      assert.match(await r.postfix.log(), /milter-hold: END-OF-MESSAGE/);
    });
  });

  it('dry run: GTUBE over the reject threshold is delivered untouched; the log line says what would have happened', async (t) => {
    const r = await rigs.spamd(t, 'dry-run', 'dryRun: true\nactions:\n  reject: required + 0\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      assert.equal(replyAt(await send(r, SPAM()), 'DOT')?.code, 250);
      const [out] = (await r.postfix.waitForDelivery(1)).map(headersOf);
      assert.equal(out?.get('x-spam-status'), undefined, 'nothing changed');
      await r.daemon.waitForLog('message filtered');
      const [line] = logLines(r.daemon.output(), 'message filtered');
      assert.ok(line !== undefined);
      assert.equal(line['action'], 'reject');
      assert.equal(line['dryRun'], true);
      assert.equal(line['verdict'], 'accept');
      for (const field of [
        'id',
        'client',
        'from',
        'rcpt',
        'scanner',
        'score',
        'required',
        'reason',
        'ref',
        'ms',
      ])
        assert.ok(field in line, `log line has ${field}`);
      assert.equal(line['from'], '<alice@example.org>');
      assert.deepEqual(line['rcpt'], [`<${BOB}>`]);
    });
  });

  it('oversize "skip": a message above maxScanBytes is delivered unscanned and stamped', async (t) => {
    const r = await rigs.spamd(t, 'oversize', 'scan:\n  maxScanBytes: 2048\n');
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const big = message('Big', Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\r\n'));
      assert.equal(replyAt(await send(r, big), 'DOT')?.code, 250);
      const [raw] = await r.postfix.waitForDelivery(1);
      const out = headersOf(raw ?? Buffer.alloc(0));
      assert.deepEqual(out.get('x-spam-checker'), ['skipped (too big)']);
      assert.equal(out.get('x-spam-status'), undefined);
      assert.ok(raw?.toString('latin1').includes('line 399'), 'the whole body is delivered');
    });
  });

  it('authenticated senders (XCLIENT LOGIN): skipped by default; tagged but never refused in "tag" mode', async (t) => {
    const xclient = { smtpd_authorized_xclient_hosts: '127.0.0.0/8' };
    const skip = await rigs.spamd(t, 'auth-skip', 'actions:\n  reject: required + 0\n', xclient);
    if (skip === undefined) return;
    await diagnose(t, skip, async () => {
      const authed = await send(skip, SPAM(), { xclient: 'LOGIN=alice' });
      assert.equal(replyAt(authed, 'DOT')?.code, 250, formatReply(replyAt(authed, 'DOT')));
      const [out] = (await skip.postfix.waitForDelivery(1)).map(headersOf);
      assert.equal(out?.get('x-spam-status'), undefined, 'not scanned');
      assert.equal(replyAt(await send(skip, SPAM()), 'DOT')?.code, 550, 'unauthenticated: refused');
    });
    const tag = await rigs.spamd(
      t,
      'auth-tag',
      'actions:\n  reject: required + 0\ntrust:\n  networks: []\n  authenticatedMode: tag\n',
      xclient,
    );
    if (tag === undefined) return;
    await diagnose(t, tag, async () => {
      const authed = await send(tag, SPAM(), { xclient: 'LOGIN=alice' });
      assert.equal(replyAt(authed, 'DOT')?.code, 250, formatReply(replyAt(authed, 'DOT')));
      const [out] = (await tag.postfix.waitForDelivery(1)).map(headersOf);
      assert.deepEqual(out?.get('x-spam-flag'), ['YES'], 'scanned and tagged');
    });
  });

  it('"both" header profile with spamd; a non-ASCII subject tag is RFC 2047-encoded, an 8-bit subject kept as sent', async (t) => {
    const r = await rigs.spamd(
      t,
      'both',
      'headers:\n  profile: both\nsubjectTag:\n  enabled: true\n  text: "[Indésirable]"\n',
    );
    if (r === undefined) return;
    await diagnose(t, r, async () => {
      const gtube = SPAM().toString('latin1').split('\r\n\r\n')[1] ?? '';
      assert.equal(replyAt(await send(r, message('Hello', gtube)), 'DOT')?.code, 250);
      assert.equal(replyAt(await send(r, message('Déjà vu', gtube)), 'DOT')?.code, 250);
      const [ascii, eightBit] = await r.postfix.waitForDelivery(2);
      const out = headersOf(ascii ?? Buffer.alloc(0));
      assert.match(out.get('x-spam-status')?.[0] ?? '', /^Yes, score=/);
      assert.match(
        out.get('x-spamd-result')?.[0] ?? '',
        /^default: True \[\d+\.\d+ \/ 5\.0+\]; GTUBE/,
      );
      assert.ok(out.get('x-spamd-bar') !== undefined);
      const subject = out.get('subject')?.[0] ?? '';
      assert.match(subject, /^=\?UTF-8\?[QB]\?/i, 'our non-ASCII tag is encoded');
      assert.equal(decodeWords(subject), '[Indésirable] Hello');
      // An original 8-bit subject keeps its bytes; the tag goes in front of them.
      const kept = headersOf(eightBit ?? Buffer.alloc(0)).get('subject')?.[0] ?? '';
      assert.equal(decodeWords(kept), '[Indésirable] Déjà vu');
      assert.ok(kept.endsWith(' Déjà vu'), kept);
    });
  });
});

/** Decodes RFC 2047 encoded words (Q and B, UTF-8) joined by folding whitespace. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_m, h: string) =>
                String.fromCharCode(Number.parseInt(h, 16)),
              ),
            'latin1',
          ).toString('utf8'),
    );
}
