import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTranscript } from '../../../test/support/spamd-transcript.ts';
import type { SpamdScanReply } from './codec.ts';
import { parseReply } from './codec.ts';
import type { SpamdScanVerb } from './protocol.ts';
import { parseReportTable, parseSymbolList, symbolsFromStatusHeader } from './symbols.ts';
import { toVerdict } from './to-verdict.ts';

function body(name: string): string {
  const reply = parseReply('REPORT', loadTranscript(name).reply) as SpamdScanReply;
  return reply.body.toString('utf8');
}

describe('parseSymbolList', () => {
  it('splits the SYMBOLS body; scores are unknown (0)', () => {
    assert.deepEqual(parseSymbolList('GTUBE,NO_RECEIVED,NO_RELAYS'), [
      { name: 'GTUBE', score: 0 },
      { name: 'NO_RECEIVED', score: 0 },
      { name: 'NO_RELAYS', score: 0 },
    ]);
    assert.deepEqual(parseSymbolList(''), []);
    assert.equal(parseSymbolList('<html>no</html>'), null);
  });
});

describe('parseReportTable', () => {
  it('reads scores and descriptions from the real REPORT', () => {
    assert.deepEqual(parseReportTable(body('spamd-REPORT-gtube.txt')), [
      {
        name: 'NO_RECEIVED',
        score: 0,
        description: 'Informational: message has no Received headers',
      },
      { name: 'GTUBE', score: 1000, description: 'BODY: Generic Test for Unsolicited Bulk Email' },
      {
        name: 'NO_RELAYS',
        score: 0,
        description: 'Informational: message was not relayed via SMTP',
      },
    ]);
  });

  it('joins wrapped descriptions and rule details, and takes long rule names', () => {
    const report = [
      'Content analysis details:   (7.3 points, 5.0 required)',
      '',
      ' pts rule name              description',
      '---- ---------------------- --------------------------------------------------',
      ' 2.8 RCVD_FAKE_HELO_DOTCOM  Received contains a faked HELO hostname',
      ' 0.2 FREEMAIL_ENVFROM_END_DIGIT Envelope-from freemail username ends in',
      '                            digit',
      '                            [vbj101521(at)caramail.com]',
      '  10 BIG                    Ten points',
      '-1.9 BAYES_00               BODY: Bayes spam probability is 0 to 1%',
      '',
      'ignored after the blank line',
    ].join('\n');
    assert.deepEqual(parseReportTable(report), [
      {
        name: 'RCVD_FAKE_HELO_DOTCOM',
        score: 2.8,
        description: 'Received contains a faked HELO hostname',
      },
      {
        name: 'FREEMAIL_ENVFROM_END_DIGIT',
        score: 0.2,
        description: 'Envelope-from freemail username ends in digit [vbj101521(at)caramail.com]',
      },
      { name: 'BIG', score: 10, description: 'Ten points' },
      { name: 'BAYES_00', score: -1.9, description: 'BODY: Bayes spam probability is 0 to 1%' },
    ]);
  });

  it('returns null for a report without the table (custom template)', () => {
    assert.equal(parseReportTable('Spam! Score 1000.'), null);
    assert.equal(parseReportTable(''), null);
  });
});

describe('symbolsFromStatusHeader', () => {
  it("reads tests= across SpamAssassin's folds", () => {
    const gtube = body('spamd-HEADERS-gtube.txt');
    assert.deepEqual(
      symbolsFromStatusHeader(gtube)?.map((s) => s.name),
      ['GTUBE', 'NO_RECEIVED', 'NO_RELAYS'],
    );
    const ham = body('spamd-HEADERS-ham.txt');
    assert.deepEqual(
      symbolsFromStatusHeader(ham)?.map((s) => s.name),
      ['NO_RECEIVED', 'NO_RELAYS'],
    );
    const corpus = symbolsFromStatusHeader(body('spamd-rs0-HEADERS-corpus-spam.txt')) ?? [];
    assert.equal(corpus.length, 19);
    assert.equal(corpus.at(-1)?.name, 'SPOOFED_FREEM_REPTO');
  });

  it('is null without an X-Spam-Status header, empty for tests=none', () => {
    assert.equal(symbolsFromStatusHeader('From: a@b\nTo: c@d\n'), null);
    assert.deepEqual(
      symbolsFromStatusHeader('X-Spam-Status: No, score=0.1 required=5.0 tests=none\n'),
      [],
    );
  });
});

describe('toVerdict', () => {
  const verdict = (verb: SpamdScanVerb, name: string, received: Buffer | null = null) =>
    toVerdict(
      'spamd://127.0.0.1:783',
      verb,
      parseReply(verb, loadTranscript(name).reply) as SpamdScanReply,
      received,
    );

  it('maps spam to reject and ham to no action', () => {
    const spam = verdict('CHECK', 'spamd-CHECK-gtube.txt');
    assert.deepEqual(spam, {
      scanner: 'spamd://127.0.0.1:783',
      score: 1000,
      required: 5,
      isSpam: true,
      action: 'reject',
      symbols: [],
      addHeaders: [],
      removeHeaders: [],
    });
    assert.equal(verdict('SYMBOLS', 'spamd-SYMBOLS-ham.txt').action, 'no action');
  });

  it('REPORT gives the report text and scored symbols', () => {
    const report = verdict('REPORT', 'spamd-REPORT-gtube.txt');
    assert.match(report.report ?? '', /^Spam detection software/);
    assert.equal(report.symbols.find((s) => s.name === 'GTUBE')?.score, 1000);
    assert.equal(verdict('REPORT_IFSPAM', 'spamd-REPORT_IFSPAM-ham.txt').report, undefined);
  });

  it('PROCESS and HEADERS give the rewritten bytes, minus our Received line', () => {
    const processed = verdict('PROCESS', 'spamd-PROCESS-gtube.txt');
    assert.equal(processed.rewritten?.kind, 'message');
    assert.equal(processed.rewritten?.bytes.length, 2233);
    assert.deepEqual(
      processed.symbols.map((s) => s.name),
      ['GTUBE', 'NO_RECEIVED', 'NO_RELAYS'],
    );
    const received = Buffer.from('From: Alice Example <alice@example.org>\n');
    const headers = verdict('HEADERS', 'spamd-HEADERS-ham.txt', received);
    assert.equal(headers.rewritten?.kind, 'headers');
    assert.equal(headers.rewritten?.bytes.length, 416 - received.length);
  });
});
