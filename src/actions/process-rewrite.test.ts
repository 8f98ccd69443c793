import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Modification } from '../filter/decision.ts';
import { type HeaderField, renderMessage } from '../message/message.ts';
import { headerClass, type ProcessRewriteOptions, processRewrite } from './process-rewrite.ts';
import { applyModifications, describeModification } from './process-rewrite-apply.ts';

// Fixtures modelled on spamd 4.0.1 replies to a GTUBE probe and a ham note (report_safe 0/1).
const CHECKER = 'X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on vm';
const STATUS_SPAM = [
  'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,',
  '\tNO_RELAYS autolearn=disabled version=4.0.1',
];
const SPAM_BLOCK = [CHECKER, 'X-Spam-Flag: YES', `X-Spam-Level: ${'*'.repeat(50)}`, ...STATUS_SPAM];
const REPORT = [
  'X-Spam-Report: ',
  '\t* -0.0 NO_RECEIVED Informational: message has no Received headers',
  '\t* 1000 GTUBE BODY: Generic Test for Unsolicited Bulk Email',
];
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

function rewritten(lines: readonly string[], body = GTUBE_BODY, eol = '\r\n') {
  const text = `${lines.join(eol)}${eol}${eol}${body}`;
  return { kind: 'message' as const, bytes: Buffer.from(text, 'latin1') };
}

const describeAll = (mods: readonly Modification[]) => mods.map(describeModification);

const names = (headers: readonly HeaderField[]) => headers.map((h) => h.name);

describe('processRewrite: ham and report_safe 0', () => {
  it('ham: spamd’s X-Spam-* block goes on top, in its order, and nothing else changes', () => {
    const block = [
      CHECKER,
      'X-Spam-Level: ',
      'X-Spam-Status: No, score=-0.0 required=5.0 tests=NO_RECEIVED,NO_RELAYS',
      '\tautolearn=disabled version=4.0.1',
    ];
    const message = original(GTUBE_HEADERS);
    const output = rewritten([...block, ...GTUBE_HEADERS]);
    const mods = processRewrite(message, output, KEEP);
    assert.deepEqual(describeAll(mods), [
      'insert@0 X-Spam-Status "No, score=-0.0 required=5.0 tests=NO_RECEIVED,NO_RELAYS\\n\\tautolearn=disabled version=4.0.1"',
      'insert@0 X-Spam-Level ""',
      'insert@0 X-Spam-Checker-Version "SpamAssassin 4.0.1 (2024-03-25) on vm"',
    ]);
    // Applied as Postfix does, the delivered message is spamd's output byte for byte.
    assert.deepEqual(renderMessage(applyModifications(message, mods)), output.bytes);
  });

  it('report_safe 0: Subject rewritten in place, X-Spam-Report and X-Spam-Prev-Subject added', () => {
    const message = original(GTUBE_HEADERS);
    const rewrittenHeaders = [
      ...SPAM_BLOCK,
      ...REPORT,
      ...GTUBE_HEADERS.map((h) => h.replace('Subject: ', 'Subject: *****SPAM***** ')),
      'X-Spam-Prev-Subject: Test spam mail (GTUBE)',
    ];
    const mods = processRewrite(message, rewritten(rewrittenHeaders), KEEP);
    assert.deepEqual(describeAll(mods).slice(0, 2), [
      'change Subject#1 "*****SPAM***** Test spam mail (GTUBE)"',
      'insert@0 X-Spam-Prev-Subject "Test spam mail (GTUBE)"',
    ]);
    assert.ok(!mods.some((m) => m.kind === 'replace-body'));
    const result = applyModifications(message, mods);
    // Same fields and values as spamd's output; only X-Spam-Prev-Subject moved up to the block.
    const expected = fields(rewrittenHeaders);
    const prev = expected.pop() as HeaderField;
    assert.deepEqual(result.headers, [...expected.slice(0, 5), prev, ...expected.slice(5)]);
    assert.equal(result.body.toString('latin1'), GTUBE_BODY);
  });

  it('the report block keeps its empty first line: " \\n\\t* …" minus the space', () => {
    const mods = processRewrite(
      original(GTUBE_HEADERS),
      rewritten([...REPORT, ...GTUBE_HEADERS]),
      KEEP,
    );
    const report = mods.find((m) => m.kind === 'insert-header');
    assert.ok(report?.kind === 'insert-header' && Buffer.isBuffer(report.value));
    assert.equal(report.value.toString(), `\n${REPORT.slice(1).join('\n')}`);
  });

  it('an unchanged message gives no modifications; LF output is read like CRLF', () => {
    const message = original(GTUBE_HEADERS);
    assert.deepEqual(processRewrite(message, rewritten(GTUBE_HEADERS), KEEP), []);
    const lf = rewritten(GTUBE_HEADERS, GTUBE_BODY.replaceAll('\r\n', '\n'), '\n');
    assert.deepEqual(processRewrite(message, lf, KEEP), []);
    // The MTA adds a final CRLF that spamd may not echo: not a body change.
    const bare = rewritten(GTUBE_HEADERS, GTUBE_BODY.slice(0, -2));
    assert.deepEqual(processRewrite(message, bare, KEEP), []);
  });

  it('forged X-Spam-* headers are changed in place or deleted (highest occurrence first)', () => {
    const message = original([
      'X-Spam-Flag: NO',
      ...GTUBE_HEADERS,
      'X-Spam-Flag: no',
      'x-spam-flag: nope',
      'X-Spam-Score: -100',
      CHECKER,
    ]);
    const mods = processRewrite(message, rewritten([...SPAM_BLOCK, ...GTUBE_HEADERS]), KEEP);
    assert.deepEqual(describeAll(mods), [
      'delete X-Spam-Flag#3',
      'delete X-Spam-Flag#2',
      'delete X-Spam-Score#1',
      'change X-Spam-Flag#1 "YES"',
      `insert@0 X-Spam-Status ${JSON.stringify(STATUS_SPAM.join('\n').slice(15))}`,
      `insert@0 X-Spam-Level "${'*'.repeat(50)}"`,
    ]);
    const result = applyModifications(message, mods);
    assert.deepEqual(names(result.headers), [
      'X-Spam-Level',
      'X-Spam-Status',
      'X-Spam-Flag',
      ...names(fields(GTUBE_HEADERS)),
      'X-Spam-Checker-Version',
    ]);
  });

  it('more X-Spam-* occurrences than before: the new ones on top, the kept ones matched last', () => {
    const message = original(['X-Spam-Report: old', ...GTUBE_HEADERS]);
    const output = rewritten(['X-Spam-Report: new', 'X-Spam-Report: old', ...GTUBE_HEADERS]);
    const mods = processRewrite(message, output, KEEP);
    assert.deepEqual(describeAll(mods), ['insert@0 X-Spam-Report "new"']);
    const result = applyModifications(message, mods);
    assert.deepEqual(
      result.headers.slice(0, 2),
      fields(['X-Spam-Report: new', 'X-Spam-Report: old']),
    );
  });

  it('duplicate names: the right occurrence of To is changed, extra ones are never deleted', () => {
    const message = original([
      'To: a@example.com',
      'To: b@example.com',
      'Subject: x',
      'To: c@example.com',
    ]);
    const output = rewritten([
      'To: a@example.com',
      'To: b@example.com\t(spam-marked)',
      'Subject: x',
    ]);
    assert.deepEqual(describeAll(processRewrite(message, output, KEEP)), [
      'change To#2 "b@example.com\\t(spam-marked)"',
    ]);
  });

  it('whitespace after the colon alone is not a change', () => {
    const message = original(['To:rcpt@example.com', 'Subject:\tHi']);
    const output = rewritten(['To: rcpt@example.com', 'Subject: Hi', 'X-Spam-Flag: NO']);
    assert.deepEqual(describeAll(processRewrite(message, output, KEEP)), [
      'insert@0 X-Spam-Flag "NO"',
    ]);
  });

  it('a Subject that spamd adds to a message without one is appended', () => {
    const message = original(['From: a@example.org']);
    const output = rewritten(['From: a@example.org', 'Subject: *****SPAM*****']);
    assert.deepEqual(describeAll(processRewrite(message, output, KEEP)), [
      'add Subject "*****SPAM*****"',
    ]);
  });

  it('8-bit bytes in values and body stay exactly as they were', () => {
    const subject = Buffer.from('Subject: Gr\xfc\xdfe \xc3\xa9t\xc3\xa9', 'latin1');
    const message = {
      headers: [{ name: 'Subject', value: subject.subarray(8) }],
      body: Buffer.from('caf\xe9\r\n', 'latin1'),
    };
    const bytes = Buffer.concat([
      Buffer.from('Subject: [SPAM] ', 'latin1'),
      subject.subarray(9),
      Buffer.from('\r\nContent-Type: multipart/mixed\r\n\r\nna\xefve\n', 'latin1'),
    ]);
    const mods = processRewrite(message, { kind: 'message', bytes }, KEEP);
    const change = mods.find((m) => m.kind === 'change-header');
    assert.ok(change?.kind === 'change-header' && Buffer.isBuffer(change.value));
    assert.deepEqual(change.value, Buffer.concat([Buffer.from('[SPAM] '), subject.subarray(9)]));
    assert.deepEqual(mods.at(-1), {
      kind: 'replace-body',
      body: Buffer.from('na\xefve\r\n', 'latin1'),
    });
  });
});

describe('processRewrite: options', () => {
  const rs0 = [
    ...SPAM_BLOCK,
    ...GTUBE_HEADERS.map((h) => h.replace('Subject: ', 'Subject: *****SPAM***** ')),
    'X-Spam-Prev-Subject: Test spam mail (GTUBE)',
  ];

  it('preserveHeaders: X-Spam-* only; no Subject change and no X-Spam-Prev-Subject', () => {
    const message = original([...GTUBE_HEADERS, 'X-Spam-Prev-Subject: forged']);
    const mods = processRewrite(message, rewritten(rs0), {
      preserveHeaders: true,
      preserveBody: false,
    });
    const lines = describeAll(mods);
    assert.deepEqual(lines[0], 'delete X-Spam-Prev-Subject#1');
    assert.equal(lines.length, 5);
    assert.ok(lines.slice(1).every((line) => line.startsWith('insert@0 X-Spam-')));
  });

  it('placement "end" appends new X-Spam-* headers in spamd’s order', () => {
    const mods = processRewrite(original(GTUBE_HEADERS), rewritten(rs0), {
      ...KEEP,
      placement: 'end',
    });
    assert.deepEqual(
      mods.filter((m) => m.kind === 'add-header').map((m) => ('name' in m ? m.name : '')),
      [
        'X-Spam-Checker-Version',
        'X-Spam-Flag',
        'X-Spam-Level',
        'X-Spam-Status',
        'X-Spam-Prev-Subject',
      ],
    );
  });

  it('a change to an empty value is sent as one space (an empty CHGHEADER deletes)', () => {
    const message = original(['X-Spam-Level: ***', ...GTUBE_HEADERS]);
    const mods = processRewrite(message, rewritten(['X-Spam-Level:', ...GTUBE_HEADERS]), KEEP);
    assert.deepEqual(mods, [
      { kind: 'change-header', name: 'X-Spam-Level', occurrence: 1, value: Buffer.from(' ') },
    ]);
  });

  it('values never carry CR or NUL; every LF is a fold', () => {
    const bytes = Buffer.from('Subject: a\rb\0c\r\r\n d\r\nX-Spam-Flag: YES\r\n\r\n', 'latin1');
    const mods = processRewrite(original(['Subject: a']), { kind: 'headers', bytes }, KEEP);
    for (const m of mods) {
      assert.ok('value' in m);
      const text = Buffer.isBuffer(m.value) ? m.value.toString('latin1') : m.value;
      assert.doesNotMatch(text, /[\r\0]|\n(?![ \t])/);
    }
    assert.deepEqual(describeAll(mods), [
      'change Subject#1 "a b c \\n d"',
      'insert@0 X-Spam-Flag "YES"',
    ]);
  });

  it('classes: X-Spam-*, the rewritable three, MIME, the rest', () => {
    assert.deepEqual(
      [
        'x-SPAM-flag',
        'SUBJECT',
        'from',
        'To',
        'Cc',
        'MIME-Version',
        'content-transfer-encoding',
        'Received',
        'X-Spam',
      ].map(headerClass),
      [
        'verdict',
        'rewritable',
        'rewritable',
        'rewritable',
        'other',
        'mime',
        'mime',
        'other',
        'other',
      ],
    );
  });
});
