import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Modification } from '../filter/decision.ts';
import type { HeaderField } from '../message/message.ts';
import { type ProcessRewriteOptions, processRewrite } from './process-rewrite.ts';
import { applyModifications, describeModification } from './process-rewrite-apply.ts';

// report_safe 1 replies modelled on spamd 4.0.1's answer to a GTUBE probe: a new message with
// SpamAssassin's own Received line, a few copied headers, the X-Spam-* block, a multipart body.
const CHECKER = 'X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on vm';
const STATUS_SPAM = [
  'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,',
  '\tNO_RELAYS autolearn=disabled version=4.0.1',
];
const SPAM_BLOCK = [CHECKER, 'X-Spam-Flag: YES', `X-Spam-Level: ${'*'.repeat(50)}`, ...STATUS_SPAM];
const GTUBE_HEADERS = [
  'From: Sender Example <sender@example.org>',
  'To: rcpt@example.com',
  'Subject: Test spam mail (GTUBE)',
  'Date: Mon, 23 Nov 2026 08:00:00 +0000',
  'Message-ID: <gtube-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=us-ascii',
];
const GTUBE_BODY =
  'This is the GTUBE\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST\r\n';
const BOUNDARY = '----------=_6B03FE9C.1F10C470';
const ENCAPSULATED = [
  'This is a multi-part message in MIME format.',
  '',
  `--${BOUNDARY}`,
  'Content-Type: text/plain; charset=UTF-8',
  '',
  'Spam detection software, running on the system "vm", has identified this …',
  '',
  `--${BOUNDARY}`,
  'Content-Type: message/rfc822; x-spam-type=original',
  '',
  ...GTUBE_HEADERS,
  '',
  'This is the GTUBE',
  '',
  `--${BOUNDARY}--`,
  '',
].join('\r\n');
const RS1_TOP = [
  'Received: from localhost by vm',
  '\twith SpamAssassin (version 4.0.1);',
  '\tMon, 23 Nov 2026 08:51:40 +0000',
  'From: Sender Example <sender@example.org>',
  'To: rcpt@example.com',
  'Subject: Test spam mail (GTUBE)',
  'Date: Mon, 23 Nov 2026 08:00:00 +0000',
  'Message-Id: <gtube-1@example.org>',
  ...SPAM_BLOCK,
  'MIME-Version: 1.0',
  `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
];

const KEEP: ProcessRewriteOptions = { preserveHeaders: false, preserveBody: false };

/** Header fields the way the milter session delivers them (value after the colon, LF folds). */
function fields(lines: readonly string[]): HeaderField[] {
  const out: { name: string; value: string }[] = [];
  for (const line of lines) {
    const last = out.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) last.value += `\n${line}`;
    else {
      const colon = line.indexOf(':');
      out.push({ name: line.slice(0, colon), value: line.slice(colon + 1) });
    }
  }
  return out.map(({ name, value }) => ({ name, value: Buffer.from(value, 'latin1') }));
}

function original(lines: readonly string[], body = GTUBE_BODY) {
  return { headers: fields(lines), body: Buffer.from(body, 'latin1') };
}

function rewritten(lines: readonly string[], body: string, eol = '\r\n') {
  const text = `${lines.join(eol)}${eol}${eol}${body}`;
  return { kind: 'message' as const, bytes: Buffer.from(text, 'latin1') };
}

const describeAll = (mods: readonly Modification[]) => mods.map(describeModification);

describe('processRewrite: report_safe 1 encapsulation', () => {
  const received = [
    'Received: from relay.example.net (relay.example.net [192.0.2.1])',
    '\tby mx.example.com (Postfix) with ESMTP id 4ABC',
  ];
  const incoming = [
    ...received,
    'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; b=abc',
    ...GTUBE_HEADERS,
    'Content-Transfer-Encoding: 7bit',
    'X-Spam-Flag: NO',
  ];

  it('new body (CRLF), multipart Content-Type, stale Content-* deleted, relay lines kept', () => {
    const message = original(incoming);
    const output = rewritten(RS1_TOP, ENCAPSULATED.replaceAll('\r\n', '\n'), '\n');
    const mods = processRewrite(message, output, KEEP);
    assert.deepEqual(describeAll(mods), [
      'delete Content-Transfer-Encoding#1',
      `change Content-Type#1 "multipart/mixed; boundary=\\"${BOUNDARY}\\""`,
      'change X-Spam-Flag#1 "YES"',
      `insert@0 X-Spam-Status ${JSON.stringify(STATUS_SPAM.join('\n').slice(15))}`,
      `insert@0 X-Spam-Level "${'*'.repeat(50)}"`,
      `insert@0 X-Spam-Checker-Version ${JSON.stringify(CHECKER.slice(24))}`,
      `replace-body ${Buffer.byteLength(ENCAPSULATED, 'latin1')}`,
    ]);
    const result = applyModifications(message, mods);
    assert.deepEqual(result.body, Buffer.from(ENCAPSULATED, 'latin1'));
    // SpamAssassin's own Received line is not added; the MTA's message keeps its own.
    assert.equal(result.headers.filter((h) => h.name === 'Received').length, 1);
    assert.ok(result.headers.some((h) => h.name === 'DKIM-Signature'));
    const contentType = result.headers.find((h) => h.name === 'Content-Type');
    assert.equal(contentType?.value.toString(), ` multipart/mixed; boundary="${BOUNDARY}"`);
  });

  it('Subject and To rewrites are applied along with the encapsulation', () => {
    const top = RS1_TOP.map((line) =>
      line
        .replace('Subject: ', 'Subject: [SPAM 1000.0] ')
        .replace('To: rcpt@example.com', 'To: rcpt@example.com\t(spam-marked)'),
    );
    const mods = processRewrite(original(GTUBE_HEADERS), rewritten(top, ENCAPSULATED), KEEP);
    const changes = describeAll(mods).filter((line) => line.startsWith('change'));
    assert.deepEqual(changes, [
      'change To#1 "rcpt@example.com\\t(spam-marked)"',
      'change Subject#1 "[SPAM 1000.0] Test spam mail (GTUBE)"',
      `change Content-Type#1 "multipart/mixed; boundary=\\"${BOUNDARY}\\""`,
    ]);
  });

  it('preserveBody: only X-Spam-* and Subject; no body, no Content-*/MIME-Version changes', () => {
    const top = RS1_TOP.map((line) => line.replace('Subject: ', 'Subject: [SPAM] '));
    const mods = processRewrite(original(incoming), rewritten(top, ENCAPSULATED), {
      preserveHeaders: false,
      preserveBody: true,
    });
    assert.deepEqual(
      describeAll(mods).filter((line) => !line.startsWith('insert@0')),
      ['change Subject#1 "[SPAM] Test spam mail (GTUBE)"', 'change X-Spam-Flag#1 "YES"'],
    );
  });

  it('a truncated original body is never replaced (spamd saw only a prefix)', () => {
    const message = { ...original(GTUBE_HEADERS), bodyTruncated: true };
    const mods = processRewrite(message, rewritten(RS1_TOP, ENCAPSULATED), KEEP);
    assert.ok(
      !mods.some((m) => m.kind === 'replace-body' || ('name' in m && /^content-/i.test(m.name))),
    );
  });

  it('HEADERS output: the multipart Content-Type is ignored (there is no new body)', () => {
    const top = RS1_TOP.map((line) => line.replace('Subject: ', 'Subject: [SPAM] '));
    const output = { kind: 'headers' as const, bytes: Buffer.from(`${top.join('\r\n')}\r\n\r\n`) };
    const mods = processRewrite(original(incoming), output, KEEP);
    assert.deepEqual(
      describeAll(mods).filter((line) => !line.startsWith('insert@0')),
      ['change Subject#1 "[SPAM] Test spam mail (GTUBE)"', 'change X-Spam-Flag#1 "YES"'],
    );
  });
});
