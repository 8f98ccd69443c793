/**
 * Hostile scanner answers must not turn into unsafe headers. A fake rspamd and a fake spamd
 * answer with CR/LF/NUL inside symbol names, descriptions, options, `milter.add_headers` names
 * and values, the rewritten `subject` and spamd's PROCESS output, with 1 MB strings and bytes that
 * are not UTF-8; the real daemon scans through them and every ADDHEADER/INSHEADER/CHGHEADER it
 * sends must have a valid field name and a value with no CR, no NUL, no LF that does not start a
 * folded line, and no line over 998 characters, and the message must still get a final verdict.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from '../../src/milter/responses.ts';
import { type SpamwardProcess, startSpamward } from '../support/daemon.ts';
import { type FakeScanner, httpResponse, startFakeScanner } from '../support/fake-http-scanner.ts';
import { FakeMta } from '../support/fake-mta.ts';
import { type FakeSpamd, startFakeSpamd } from '../support/fake-spamd.ts';
import { headerReplies, headerReplyProblems, wire } from '../support/milter-load.ts';

const MB = 1024 * 1024;
/** A placeholder replaced by bytes that are not UTF-8 after JSON.stringify. */
const BAD_UTF8 = '@@BAD_UTF8@@';
const BAD_BYTES = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xa0, 0xe2, 0x82]);
const INJECT = '\r\nX-Injected: yes\r\n\r\nbody';

/** JSON text with every BAD_UTF8 placeholder replaced by raw invalid UTF-8 bytes. */
function jsonWithBadBytes(value: unknown): Buffer {
  const parts = JSON.stringify(value).split(BAD_UTF8);
  return Buffer.concat(
    parts.flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [BAD_BYTES, Buffer.from(part)])),
  );
}

/** An rspamd `/checkv2` reply with hostile text everywhere text can go. */
function hostileRspamdReply(action: string): Buffer {
  return jsonWithBadBytes({
    action,
    score: 12.5,
    required_score: 15,
    symbols: {
      [`EVIL${INJECT}`]: {
        score: 5,
        description: `desc${INJECT}\0\u001b[31m\u202e`,
        options: [`opt${INJECT}`, `nul\0${BAD_UTF8}`, 'ü'.repeat(5000)],
      },
      'NUL\0NAME': { score: 1, description: BAD_UTF8 },
      HUGE: { score: 1, description: 'A'.repeat(MB), options: ['B'.repeat(MB), 'c '.repeat(MB)] },
      ['N'.repeat(MB)]: { score: 0.5 },
      GOOD_SYMBOL: { score: 1, description: 'a good description', options: ['x.example'] },
    },
    subject: `Re: ${BAD_UTF8}${INJECT}\0 ${'S'.repeat(MB)}`,
    messages: { smtp_message: `550 nope${INJECT}` },
    milter: {
      add_headers: {
        [`X-Evil${INJECT}`]: 'value',
        'X-Colon:Name': 'value',
        'X-Space Name': 'value',
        'X-Inject-Value': `value${INJECT}`,
        'X-Nul': 'a\0b',
        'X-Bare-Lf': 'a\nb',
        'X-Trailing-Lf': 'a\n',
        'X-Bare-Cr': 'a\rb',
        'X-Huge-Word': 'h'.repeat(MB),
        'X-Huge-Words': 'word '.repeat(MB / 5),
        'X-Long-Line': `folded\n\t${'L'.repeat(5000)}`,
        ['X-'.padEnd(MB, 'L')]: 'value',
        'X-Bad-Bytes': `a${BAD_UTF8}b`,
        'X-Good': 'a legit value',
        'X-Array': ['one', { value: `two${INJECT}`, order: 1 }],
      },
      remove_headers: { [`X-Remove${INJECT}`]: 1, 'X-Remove:Colon': 0 },
    },
    'dkim-signature': `v=1; a=rsa-sha256; d=example.org; b=${'Q'.repeat(5000)}${INJECT}`,
  });
}

/** A spamd REPORT reply whose rule table has hostile descriptions. */
function hostileReport(): Buffer {
  const table = Buffer.concat([
    Buffer.from(
      ' pts rule name              description\r\n' +
        '---- ---------------------- --------------------------------------------------\r\n' +
        `1000 GTUBE                  BODY: Generic Test\r\u0000 X-Injected: yes \u001b[0m\r\n` +
        ` 1.0 HUGE_RULE              ${'D'.repeat(MB)}\r\n` +
        `${' '.repeat(27)}continued ${'E'.repeat(MB)}\r\n` +
        ' 0.5 BYTES_RULE             ',
    ),
    BAD_BYTES,
    Buffer.from(' tail\r\n\r\n'),
  ]);
  return spamdReply(table);
}

/** spamd PROCESS output with hostile header lines (each still parses as a header field). */
function hostileProcess(): Buffer {
  const message = Buffer.concat([
    Buffer.from(
      'X-Spam-Checker-Version: SpamAssassin 4.0.1\r\n' +
        'X-Spam-Flag: YES\r\n' +
        `X-Spam-Level: ${'*'.repeat(50)}\r\n` +
        `X-Spam-Status: Yes, score=1000.0 required=5.0 tests=${'GTUBE,'.repeat(16_000)}GTUBE\r\n` +
        'X-Spam-Nul: a\0b\r\n' +
        'X-Spam-Cr: a\rX-Injected: yes\r\n' +
        'X-Spam-Bytes: a',
    ),
    BAD_BYTES,
    Buffer.from(
      '\r\n' +
        `X-Spam-Report: \r\n\t${'R'.repeat(5000)}\r\n` +
        `Subject: [SPAM] ${'s'.repeat(3000)}\r\n` +
        'From: <sender@example.org>\r\n' +
        'To: <rcpt@example.net>\r\n' +
        '\r\n' +
        'Hello.\r\n',
    ),
  ]);
  return spamdReply(message);
}

function spamdReply(body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n`,
    ),
    body,
  ]);
}

/** The X-Spam-* family and the other headers Spamward renders itself: 7-bit ASCII only. */
const OUR_HEADERS =
  /^(x-spam-(checker-version|flag|level|status|report)|x-spamd-(result|bar)|x-spam|x-rspamd-(queue-id|action|server)|subject)$/i;

/** Runs one message through the daemon and returns its end-of-message replies. */
async function scanOnce(daemon: SpamwardProcess): Promise<Response[]> {
  const mta = await FakeMta.connect({ port: daemon.port }, { timeoutMs: 30_000 });
  try {
    await mta.negotiate();
    const { eob } = await mta.message({
      headers: [
        ['From', ' <sender@example.org>'],
        ['To', ' <rcpt@example.net>'],
        ['Subject', ' hello there'],
        ['X-Remove', ' old'],
      ],
      body: 'Hello.\r\n',
    });
    await mta.quit();
    return [...eob];
  } finally {
    mta.destroy();
  }
}

/** Every safety problem of the header replies in `eob` (empty when all are safe). */
function unsafeHeaders(eob: readonly Response[]): string[] {
  const problems: string[] = [];
  for (const reply of headerReplies(eob)) {
    problems.push(...headerReplyProblems(reply));
    const name = wire(reply.name);
    if (OUR_HEADERS.test(name) && !isSevenBit(wire(reply.value)))
      problems.push(`${reply.kind} ${name}: not 7-bit ASCII`);
  }
  return problems;
}

/** True when `text` is printable ASCII, TAB and LF only. */
function isSevenBit(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x09 && code !== 0x0a && (code < 0x20 || code > 0x7e)) return false;
  }
  return true;
}

/** The value of the first header reply named `name` (case-insensitive), as latin1 text. */
function headerValue(eob: readonly Response[], name: string): string | undefined {
  const reply = headerReplies(eob).find((r) => wire(r.name).toLowerCase() === name.toLowerCase());
  return reply === undefined ? undefined : wire(reply.value);
}

const SCANNED_ENV = {
  SPAMWARD_TRUST_NETWORKS: '',
  SPAMWARD_HEADERS_PROFILE: 'both',
  SPAMWARD_HEADERS_REPORT: 'true',
  SPAMWARD_SUBJECT_TAG_ENABLED: 'true',
  // A scanner answer refused as a whole is tempfailed (no CONTINUE): the tests then fail.
  SPAMWARD_FAILURE_ERROR: 'tempfail',
};

describe('scanner values are sanitised before they become headers', () => {
  describe('rspamd', () => {
    let scanner: FakeScanner;
    let daemon: SpamwardProcess;
    const actions = ['rewrite subject', 'add header'];
    before(async () => {
      scanner = await startFakeScanner((_, index) => ({
        kind: 'raw',
        bytes: httpResponse(200, 'OK', hostileRspamdReply(actions[index % actions.length] ?? '')),
      }));
      daemon = await startSpamward(['--scanner', scanner.url], {
        env: { ...process.env, ...SCANNED_ENV, SPAMWARD_ACTIONS_FOLLOW_SCANNER: 'true' },
      });
    });
    after(async () => {
      await daemon?.stop();
      await scanner?.close();
    });

    for (const action of actions) {
      it(`action "${action}": only safe headers, and a final verdict`, async () => {
        const eob = await scanOnce(daemon);
        assert.equal(eob.at(-1)?.kind, 'continue', `final verdict: ${eob.map((r) => r.kind)}`);
        assert.deepEqual(unsafeHeaders(eob), []);
        // The hostile answer was really used (not refused as a whole and tempfailed).
        assert.match(headerValue(eob, 'X-Spamd-Result') ?? '', /GOOD_SYMBOL/);
        assert.equal(headerValue(eob, 'X-Good'), ' a legit value');
        assert.ok(!headerReplies(eob).some((r) => /injected/i.test(wire(r.name))));
        if (action === 'rewrite subject') {
          const subject = headerReplies(eob).find((r) => wire(r.name) === 'Subject');
          assert.equal(subject?.kind, 'chgheader', 'rspamd subject applied');
        }
      });
    }
  });

  describe('spamd', () => {
    const cases = [
      { verb: 'REPORT', reply: hostileReport, stamp: 'X-Spam-Status' },
      { verb: 'PROCESS', reply: hostileProcess, stamp: 'X-Spam-Flag' },
    ];
    for (const { verb, reply, stamp } of cases) {
      it(`${verb}: only safe headers, and a final verdict`, async (t) => {
        const spamd: FakeSpamd = await startFakeSpamd({ kind: 'reply', reply: reply() });
        const daemon = await startSpamward(['--scanner', spamd.url], {
          env: { ...process.env, ...SCANNED_ENV, SPAMWARD_SCANNER_SPAMD_VERB: verb },
        });
        t.after(async () => {
          await daemon.stop();
          await spamd.close();
        });
        const eob = await scanOnce(daemon);
        assert.equal(eob.at(-1)?.kind, 'continue', `final verdict: ${eob.map((r) => r.kind)}`);
        assert.deepEqual(unsafeHeaders(eob), []);
        assert.ok(
          headerValue(eob, stamp) !== undefined,
          `${stamp} applied: spamd's answer was used`,
        );
        assert.ok(!headerReplies(eob).some((r) => /injected/i.test(wire(r.name))));
      });
    }
  });
});
