/**
 * processRewrite against a real spamd 4.0.1 (the run-wide instance or a private one, with the
 * site's report_safe 1): the PROCESS output of GTUBE and of a ham, applied to the original with
 * a Postfix-like model, gives spamd's message up to the documented differences.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import { headerClass, processRewrite } from '../../src/actions/process-rewrite.ts';
import { applyModifications } from '../../src/actions/process-rewrite-apply.ts';
import { parseRewritten } from '../../src/actions/process-rewrite-parse.ts';
import { type HeaderField, renderMessage } from '../../src/message/message.ts';
import type { Envelope } from '../../src/scanners/scanner.ts';
import { SpamdScanner } from '../../src/scanners/spamd/client.ts';
import type { Verdict } from '../../src/scanners/verdict.ts';
import { requireComponent } from '../support/require-component.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';

const GTUBE_STRING = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const ENVELOPE: Envelope = {
  clientAddress: '93.184.215.14',
  clientName: 'mail.example.net',
  helo: 'mail.example.net',
  sender: 'sender@example.net',
  recipients: ['rcpt@example.com'],
  queueId: '4ABCDEF123',
  mtaName: 'mx.example.com',
};
const KEEP = { preserveHeaders: false, preserveBody: false };

const field = (name: string, value: string): HeaderField => ({
  name,
  value: Buffer.from(value, 'latin1'),
});

/** A GTUBE message as the milter session holds it: relay line, 8-bit subject, forged flag. */
function gtube() {
  return {
    headers: [
      field(
        'Received',
        ' from relay.example.net (relay.example.net [192.0.2.7])\n\tby mail.example.net',
      ),
      field('From', ' Sender Example <sender@example.net>'),
      field('To', ' rcpt@example.com'),
      field('Subject', ' Test spam mail (GTUBE) Gr\xfc\xdfe'),
      field('X-Spam-Flag', ' NO'),
      field('Message-ID', ' <gtube-rewrite@example.net>'),
      field('Date', ' Mon, 23 Nov 2026 08:00:00 +0000'),
      field('MIME-Version', ' 1.0'),
      field('Content-Type', ' text/plain; charset=iso-8859-1'),
      field('Content-Transfer-Encoding', ' 8bit'),
    ],
    body: Buffer.from(`Caf\xe9 GTUBE test.\r\n\r\n${GTUBE_STRING}\r\n`, 'latin1'),
  };
}

function ham() {
  return {
    headers: [
      field('From', ' Alice Example <alice@example.org>'),
      field('To', ' Bob Example <bob@example.com>'),
      field('Subject', ' Lunch on Thursday?'),
      field('Message-ID', ' <ham-rewrite@example.org>'),
      field('Date', ' Mon, 23 Nov 2026 08:00:00 +0000'),
      field('MIME-Version', ' 1.0'),
      field('Content-Type', ' text/plain; charset=us-ascii'),
    ],
    body: Buffer.from('Hi Bob,\r\n\r\nare we still on for lunch on Thursday?\r\n\r\nAlice\r\n'),
  };
}

const managed = (headers: readonly HeaderField[]) =>
  headers
    .filter((h) => headerClass(h.name) !== 'other')
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));

describe('processRewrite with a real spamd', { timeout: 120_000 }, () => {
  let spamd: SpamdEndpoints | undefined;

  before(async () => {
    if (spamdAvailable() === null) spamd = await getSpamd();
  });
  after(async () => {
    await spamd?.stop?.();
  });

  async function scan(
    t: TestContext,
    verb: 'PROCESS' | 'HEADERS',
    message: ReturnType<typeof gtube>,
  ): Promise<Verdict | null> {
    if (!requireComponent(t, 'spamd', spamdAvailable()) || spamd === undefined) return null;
    const client = new SpamdScanner({ url: spamd.tcpUrl, verb, scanTimeoutMs: 20_000 });
    const request = { message: renderMessage(message), envelope: ENVELOPE };
    return client.scan(request, AbortSignal.timeout(20_000));
  }

  it('GTUBE, PROCESS (report_safe 1): spamd’s message, on the MTA’s own header list', async (t) => {
    const original = gtube();
    const verdict = await scan(t, 'PROCESS', original);
    if (verdict === null) return;
    assert.equal(verdict.rewritten?.kind, 'message');
    if (verdict.rewritten === undefined) return;
    const spamd = parseRewritten(verdict.rewritten);
    const mods = processRewrite(original, verdict.rewritten, KEEP);
    const result = applyModifications(original, mods);
    // Body, X-Spam-*, Subject/From/To and MIME headers read exactly as spamd wrote them…
    assert.deepEqual(result.body, spamd.body);
    assert.deepEqual(managed(result.headers), managed(spamd.headers));
    assert.match(result.body.toString('latin1'), /Content-Type: message\/rfc822/);
    assert.ok(result.body.includes(original.body), 'the original body is attached');
    // …the X-Spam-* block is on top, the forged flag is gone, the relay line and the
    // message's own Date and Message-ID stay, and SpamAssassin's Received is not added.
    assert.match(result.headers[0]?.name ?? '', /^X-Spam-/);
    const flags = result.headers.filter((h) => h.name.toLowerCase() === 'x-spam-flag');
    assert.deepEqual(
      flags.map((h) => h.value.toString()),
      [' YES'],
    );
    const received = result.headers.filter((h) => h.name === 'Received');
    assert.deepEqual(received, [original.headers[0]]);
    assert.ok(result.headers.some((h) => h.name === 'Message-ID'));
    assert.ok(!result.headers.some((h) => h.name === 'Content-Transfer-Encoding'));
    assert.match(
      result.headers.find((h) => h.name === 'Content-Type')?.value.toString() ?? '',
      /^ multipart\/mixed; boundary=/,
    );
  });

  it('GTUBE, PROCESS with preserveBody, and HEADERS: body and MIME headers untouched', async (t) => {
    const original = gtube();
    for (const verb of ['PROCESS', 'HEADERS'] as const) {
      const verdict = await scan(t, verb, original);
      if (verdict?.rewritten === undefined) return;
      const mods = processRewrite(original, verdict.rewritten, {
        preserveHeaders: verb === 'PROCESS',
        preserveBody: verb === 'PROCESS',
      });
      const result = applyModifications(original, mods);
      assert.deepEqual(result.body, original.body, verb);
      const kept = (h: HeaderField) => headerClass(h.name) !== 'verdict';
      if (verb === 'PROCESS') {
        assert.deepEqual(result.headers.filter(kept), original.headers.filter(kept));
      }
      assert.ok(
        mods.every((m) => !('name' in m) || !/^(content-|mime-)/i.test(m.name)),
        verb,
      );
      assert.ok(
        result.headers.some((h) => h.name === 'X-Spam-Status'),
        verb,
      );
    }
  });

  it('ham, PROCESS: the delivered message is spamd’s output byte for byte', async (t) => {
    const original = ham();
    const verdict = await scan(t, 'PROCESS', original);
    if (verdict?.rewritten === undefined) return;
    assert.equal(verdict.isSpam, false);
    const mods = processRewrite(original, verdict.rewritten, KEEP);
    assert.ok(mods.every((m) => m.kind === 'insert-header' && m.index === 0));
    assert.deepEqual(renderMessage(applyModifications(original, mods)), verdict.rewritten.bytes);
  });
});
