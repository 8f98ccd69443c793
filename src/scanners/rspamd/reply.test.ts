import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BadResponseError, ServerError } from '../errors.ts';
import { errorText, isSpamAction, parseCheckReply } from './reply.ts';

const SCANNER = 'rspamd://127.0.0.1:11333';
const fixtures = new URL('../../../test/fixtures/rspamd/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, fixtures));

describe('parseCheckReply with rspamd 3.4 transcripts', () => {
  it('GTUBE: reject, score 15, the SMTP text, no milter block', () => {
    const v = parseCheckReply(fixture('rspamd-checkv2-gtube.json.raw'), SCANNER);
    assert.deepEqual(v, {
      scanner: SCANNER,
      score: 15,
      required: 15,
      isSpam: true,
      action: 'reject',
      symbols: [{ name: 'GTUBE', score: 0 }],
      addHeaders: [],
      removeHeaders: [],
      smtpMessage: 'Gtube pattern',
      messageId: 'gtube-1@example.org',
    });
  });

  it('GTUBE variants: add header (spam), rewrite subject (spam, new subject), no action (ham)', () => {
    const y = parseCheckReply(fixture('rspamd-checkv2-gtube-Y.json.raw'), SCANNER);
    assert.equal(y.action, 'add header');
    assert.equal(y.isSpam, true);
    assert.equal(y.score, 6);
    const z = parseCheckReply(fixture('rspamd-checkv2-gtube-Z.json.raw'), SCANNER);
    assert.equal(z.action, 'rewrite subject');
    assert.equal(z.subject, '***SPAM*** Test spam mail (GTUBE)');
    const a = parseCheckReply(fixture('rspamd-checkv2-gtube-A.json.raw'), SCANNER);
    assert.equal(a.action, 'no action');
    assert.equal(a.isSpam, false);
    assert.equal(a.smtpMessage, undefined);
    assert.deepEqual(a.symbols, []);
  });

  it('ham: symbols with descriptions and options, sorted by score, "3.400000" read as 3.4', () => {
    const v = parseCheckReply(fixture('rspamd-checkv2-ham-bare.json.raw'), SCANNER);
    assert.equal(v.score, 3.4);
    assert.equal(v.isSpam, false);
    assert.equal(v.symbols.length, 12);
    assert.deepEqual(v.symbols[0], {
      name: 'HFILTER_HOSTNAME_UNKNOWN',
      score: 2.5,
      description: 'Unknown client hostname (PTR or FCrDNS verification failed)',
    });
    assert.deepEqual(v.symbols.at(-1), {
      name: 'MIME_GOOD',
      score: -0.1,
      description: 'Known content-type',
      options: ['text/plain'],
    });
    assert.deepEqual(v.removeHeaders, [{ name: 'X-Spam', index: 0 }]);
    assert.deepEqual(v.addHeaders, []);
  });

  it('corpus spam: the milter block with orders, LF-folded values, removals by name', () => {
    const v = parseCheckReply(fixture('rspamd-checkv2-spam-corpus.json.raw'), SCANNER);
    assert.equal(v.action, 'add header');
    assert.equal(v.score, 12.3);
    assert.deepEqual(
      v.addHeaders.map((h) => h.name),
      [
        'Authentication-Results',
        'X-Rspamd-Action',
        'X-Rspamd-Queue-Id',
        'X-Rspamd-Server',
        'X-Spam-Level',
        'X-Spam-Status',
        'X-Spamd-Bar',
        'X-Spamd-Result',
      ],
    );
    const ar = v.addHeaders[0];
    assert.equal(ar?.order, 1);
    assert.match(ar?.value ?? '', /^vm;\n\tdkim=none;\n\tspf=none /);
    assert.deepEqual(v.addHeaders[2], { name: 'X-Rspamd-Queue-Id', value: '4ABCDEF125' });
    assert.equal(v.removeHeaders.length, 9);
    assert.ok(v.removeHeaders.every((r) => r.index === 0));
    assert.equal(v.messageId, '000c52d43aad$4242a0b5$4ad47ca8@fyiink');
  });

  it('greylisted: soft reject is not spam', () => {
    const v = parseCheckReply(fixture('rspamd-checkv2-greylisted.json.raw'), SCANNER);
    assert.equal(v.action, 'soft reject');
    assert.equal(v.isSpam, false);
    assert.equal(v.smtpMessage, 'Try again later');
    assert.deepEqual(v.symbols[0]?.options, [
      'greylisted',
      'Mon, 23 Nov 2026 09:00:22 GMT',
      'too early',
    ]);
  });
});

describe('parseCheckReply shapes and failures', () => {
  const reply = (extra: object): Buffer =>
    Buffer.from(JSON.stringify({ action: 'no action', score: 1, required_score: 15, ...extra }));

  it('add_headers: string, {value, order}, array of both; order -1 means append', () => {
    const v = parseCheckReply(
      reply({
        milter: {
          add_headers: {
            'X-B': 'legacy',
            'X-A': [{ value: 'one', order: 0 }, 'two', { value: 'three', order: -1 }],
            'X-C': { value: 'idx', index: -3 },
          },
          remove_headers: { 'X-Z': 2, 'X-Y': -1 },
        },
      }),
      SCANNER,
    );
    assert.deepEqual(v.addHeaders, [
      { name: 'X-A', value: 'one', order: 0 },
      { name: 'X-A', value: 'two' },
      { name: 'X-A', value: 'three' },
      { name: 'X-B', value: 'legacy' },
      { name: 'X-C', value: 'idx', order: -3 },
    ]);
    assert.deepEqual(v.removeHeaders, [
      { name: 'X-Y', index: -1 },
      { name: 'X-Z', index: 2 },
    ]);
  });

  it('dkim-signature goes first, at index 1, 2, …', () => {
    const v = parseCheckReply(reply({ 'dkim-signature': ['s1', 's2'] }), SCANNER);
    assert.deepEqual(v.addHeaders, [
      { name: 'DKIM-Signature', value: 's1', order: 1 },
      { name: 'DKIM-Signature', value: 's2', order: 2 },
    ]);
  });

  it('is_spam from rspamd wins; underscores in the action are accepted; unknown fields tolerated', () => {
    const v = parseCheckReply(
      reply({ action: 'add_header', is_spam: false, urls: ['x'], new_field: { a: 1 } }),
      SCANNER,
    );
    assert.equal(v.action, 'add header');
    assert.equal(v.isSpam, false);
  });

  it('isSpamAction: reject, rewrite subject, add header', () => {
    const spam = [
      'reject',
      'rewrite subject',
      'add header',
      'soft reject',
      'greylist',
      'no action',
    ].map((a) => isSpamAction(a as Parameters<typeof isSpamAction>[0]));
    assert.deepEqual(spam, [true, true, true, false, false, false]);
  });

  const bad: [string, string | Buffer, RegExp][] = [
    ['not JSON', 'garbage', /not JSON/],
    ['truncated JSON', '{"action":"reject","sco', /not JSON/],
    ['an array', '[]', /reply/],
    ['no action', '{"score":1,"required_score":15}', /action/],
    ['no score', '{"action":"reject","required_score":15}', /score/],
    ['a string score', '{"action":"reject","score":"1","required_score":15}', /score/],
    [
      'bad symbol',
      '{"action":"reject","score":1,"required_score":15,"symbols":{"X":{"options":[1]}}}',
      /symbols\.X/,
    ],
    [
      'bad header',
      '{"action":"reject","score":1,"required_score":15,"milter":{"add_headers":{"X":{"order":1}}}}',
      /milter\.add_headers\.X/,
    ],
    [
      'custom action',
      '{"action":"quarantine","score":1,"required_score":15}',
      /unsupported action "quarantine"/,
    ],
  ];
  for (const [what, body, reason] of bad) {
    it(`${what} → BadResponseError`, () => {
      assert.throws(
        () => parseCheckReply(Buffer.from(body), SCANNER),
        (e: unknown) =>
          e instanceof BadResponseError &&
          e.code === 'SCANNER_BAD_RESPONSE' &&
          reason.test(e.message),
      );
    });
  }

  it('an {"error": …} body → ServerError with the text (retryable only for 5xx)', () => {
    const body = Buffer.from('{"error":"invalid command","error_domain":"protocol-error"}');
    assert.throws(
      () => parseCheckReply(body, SCANNER, 500),
      (e: unknown) =>
        e instanceof ServerError &&
        e.status === 500 &&
        e.retryable &&
        /invalid command/.test(e.message),
    );
    assert.throws(
      () => parseCheckReply(body, SCANNER),
      (e: unknown) => e instanceof ServerError && e.status === 200 && !e.retryable,
    );
    assert.equal(errorText(body), 'invalid command');
    assert.equal(errorText(Buffer.from('pong')), undefined);
  });
});
