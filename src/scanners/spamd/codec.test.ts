import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { gtubeProbe, loadRaw, loadTranscript } from '../../../test/support/spamd-transcript.ts';
import { BadResponseError, ServerError } from '../errors.ts';
import { buildRequest, parseReply, type SpamdReply, type SpamdScanReply } from './codec.ts';
import { TruncatedReplyError } from './errors.ts';
import type { SpamdVerb } from './protocol.ts';

const GTUBE = gtubeProbe();

function scan(verb: SpamdVerb, bytes: Buffer | string): SpamdScanReply {
  const reply = parseReply(verb, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  assert.equal(reply.kind, 'scan');
  return reply as SpamdScanReply;
}

function fails(
  verb: SpamdVerb,
  bytes: string | Buffer,
  type: new (...args: never[]) => Error,
): Error {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  let caught: unknown;
  assert.throws(() => {
    try {
      parseReply(verb, data, 'spamd://127.0.0.1:783');
    } catch (error) {
      caught = error;
      throw error;
    }
  }, type);
  return caught as Error;
}

const OK = 'SPAMD/1.1 0 EX_OK\r\n';
const SPAM = 'Spam: True ; 1000.0 / 5.0\r\n';

describe('buildRequest', () => {
  it('writes the exact bytes of the captured CHECK request', () => {
    const { requestHead } = loadTranscript('spamd-CHECK-gtube.txt');
    assert.equal(GTUBE.length, 368);
    assert.deepEqual(buildRequest('CHECK', GTUBE), Buffer.concat([requestHead, GTUBE]));
  });

  it('writes the exact bytes of the captured PING and TELL requests', () => {
    assert.deepEqual(
      buildRequest('PING', Buffer.alloc(0)),
      loadTranscript('spamd-PING.txt').requestHead,
    );
    const spam = buildRequest('TELL', GTUBE, { messageClass: 'spam', set: ['local'] });
    const spamHead = loadTranscript('spamd-TELL-spam.txt').requestHead;
    assert.deepEqual(spam, Buffer.concat([spamHead, GTUBE]));
    const forget = buildRequest('TELL', Buffer.alloc(392), { remove: ['local'] });
    const forgetHead = loadTranscript('spamd-TELL-forget.txt').requestHead;
    assert.deepEqual(forget.subarray(0, forgetHead.length), forgetHead);
  });

  it('sends User and both TELL databases', () => {
    const head = buildRequest('TELL', GTUBE, {
      user: 'alice@example.org',
      messageClass: 'ham',
      set: ['local', 'remote'],
    }).toString('latin1');
    assert.ok(
      head.startsWith(
        'TELL SPAMC/1.5\r\nUser: alice@example.org\r\nMessage-class: ham\r\nSet: local, remote\r\nContent-length: 368\r\n\r\nFrom: ',
      ),
    );
  });

  it('deflates the body with Compress: zlib and counts the compressed bytes', () => {
    const request = buildRequest('SYMBOLS', GTUBE, { compress: true });
    const end = request.indexOf('\r\n\r\n');
    const head = request.subarray(0, end).toString('latin1');
    const payload = request.subarray(end + 4);
    assert.equal(head, `SYMBOLS SPAMC/1.5\r\nCompress: zlib\r\nContent-length: ${payload.length}`);
    assert.ok(payload.length < GTUBE.length);
    assert.deepEqual(inflateSync(payload), GTUBE);
  });

  it('refuses header injection and incomplete TELLs', () => {
    assert.throws(() => buildRequest('CHECK', GTUBE, { user: 'bob\r\nUser: root' }), RangeError);
    assert.throws(() => buildRequest('TELL', GTUBE, {}), RangeError);
    assert.throws(() => buildRequest('TELL', GTUBE, { set: ['local'] }), RangeError);
    const both = { messageClass: 'spam', set: ['local'], remove: ['local'] } as const;
    assert.throws(() => buildRequest('TELL', GTUBE, both), RangeError);
  });
});

describe('parseReply: real spamd 4.0.1 replies', () => {
  it('CHECK: verdict only, no Content-length, no body', () => {
    const spam = scan('CHECK', loadTranscript('spamd-CHECK-gtube.txt').reply);
    assert.deepEqual(spam.spam, { isSpam: true, score: 1000, required: 5 });
    assert.equal(spam.body.length, 0);
    assert.deepEqual(spam.status, { version: '1.1', code: 0, text: 'EX_OK' });
    const ham = scan('CHECK', loadTranscript('spamd-CHECK-ham.txt').reply);
    assert.equal(ham.spam.isSpam, false);
    assert.ok(Object.is(ham.spam.score, 0), '-0.0 becomes 0');
  });

  it('SYMBOLS and REPORT: body of exactly Content-length bytes', () => {
    const symbols = scan('SYMBOLS', loadTranscript('spamd-SYMBOLS-gtube.txt').reply);
    assert.equal(symbols.body.toString(), 'GTUBE,NO_RECEIVED,NO_RELAYS');
    assert.equal(symbols.headers.get('Content-length'), '27');
    const report = scan('REPORT', loadTranscript('spamd-REPORT-gtube.txt').reply);
    assert.equal(report.body.length, 829);
    assert.match(
      report.body.toString(),
      /Content analysis details: {3}\(1000\.0 points, 5\.0 required\)/,
    );
  });

  it("REPORT_IFSPAM's Spam: Yes / No, and its empty ham body", () => {
    const spam = scan('REPORT_IFSPAM', loadTranscript('spamd-REPORT_IFSPAM-gtube.txt').reply);
    assert.equal(spam.spam.isSpam, true);
    assert.equal(spam.body.length, 829);
    const ham = scan('REPORT_IFSPAM', loadTranscript('spamd-REPORT_IFSPAM-ham.txt').reply);
    assert.equal(ham.spam.isSpam, false);
    assert.equal(ham.body.length, 0);
  });

  it('PROCESS and HEADERS: the rewritten message or header block', () => {
    const processed = scan('PROCESS', loadTranscript('spamd-PROCESS-gtube.txt').reply);
    assert.equal(processed.body.length, 2233);
    assert.match(processed.body.toString(), /^Received: from localhost by vm\n/);
    const headers = scan('HEADERS', loadTranscript('spamd-HEADERS-ham.txt').reply);
    assert.ok(headers.body.toString().endsWith('charset=us-ascii\n\n'));
    const corpus = scan('HEADERS', loadTranscript('spamd-rs0-HEADERS-corpus-spam.txt').reply);
    assert.deepEqual(corpus.spam, { isSpam: true, score: 18.5, required: 5 });
    const crlf = scan('PROCESS', loadTranscript('spamd-rs0-PROCESS-gtube-crlf.txt').reply);
    assert.ok(crlf.body.includes('X-Spam-Flag: YES\r\n'));
  });

  it('PROCESS of a message without a final newline keeps it that way', () => {
    const reply = scan('PROCESS', loadRaw('spamd-PROCESS-nonl.raw'));
    assert.equal(reply.body.length, 573);
    assert.ok(reply.body.toString().endsWith('Cheers,\nAlice'));
  });

  it('PING → PONG', () => {
    const reply: SpamdReply = parseReply('PING', loadTranscript('spamd-PING.txt').reply);
    assert.deepEqual(reply, { kind: 'pong', status: { version: '1.5', code: 0, text: 'PONG' } });
  });

  it('TELL: DidSet / DidRemove, nothing when already known, and the stray CRLF', () => {
    const tell = (name: string): SpamdReply => parseReply('TELL', loadTranscript(name).reply);
    assert.deepEqual(pick(tell('spamd-TELL-spam.txt')), { didSet: ['local'], didRemove: [] });
    assert.deepEqual(pick(tell('spamd-TELL-ham.txt')), { didSet: ['local'], didRemove: [] });
    assert.deepEqual(pick(tell('spamd-TELL-spam-again.txt')), { didSet: [], didRemove: [] });
    assert.deepEqual(pick(tell('spamd-TELL-forget.txt')), { didSet: [], didRemove: ['local'] });
    const both = parseReply('TELL', Buffer.from(`${OK}DidSet: local,remote\r\n\r\n\r\n`));
    assert.deepEqual(pick(both), { didSet: ['local', 'remote'], didRemove: [] });
  });
});

function pick(reply: SpamdReply): { didSet: readonly string[]; didRemove: readonly string[] } {
  assert.equal(reply.kind, 'tell');
  return { didSet: reply.didSet, didRemove: reply.didRemove };
}

describe('parseReply: error status lines', () => {
  it('maps the captured EX_PROTOCOL reply to a non-retryable ServerError', () => {
    const error = fails('TELL', loadTranscript('spamd-TELL-conflict.txt').reply, ServerError);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 76);
    assert.equal(error.retryable, false);
    assert.equal(error.code, 'SCANNER_SERVER_ERROR');
    assert.match(error.message, /Unable to set local and remove local.*\(EX_PROTOCOL\)/);
  });

  it('retries only unavailable, OS, I/O and temporary failures', () => {
    const retryable = new Map([
      [64, false],
      [65, false],
      [69, true],
      [70, false],
      [71, true],
      [74, true],
      [75, true],
      [76, false],
      [77, false],
      [78, false],
      [79, false],
      [99, false],
    ]);
    for (const [code, expected] of retryable) {
      const error = fails('CHECK', `SPAMD/1.0 ${code} Something\r\n`, ServerError);
      assert.ok(error instanceof ServerError);
      assert.equal(error.status, code);
      assert.equal(error.retryable, expected, `code ${code}`);
    }
  });
});

describe('parseReply: malformed, truncated and oversize replies', () => {
  const gtubeSymbols = loadTranscript('spamd-SYMBOLS-gtube.txt').reply;

  it('garbage is a BadResponseError, not a truncation', () => {
    const error = fails('CHECK', 'HTTP/1.1 400 Bad Request\r\n\r\n', BadResponseError);
    assert.ok(!(error instanceof TruncatedReplyError));
    assert.ok(!(fails('CHECK', '<html>', BadResponseError) instanceof TruncatedReplyError));
    assert.ok(!(fails('CHECK', 'x'.repeat(5000), BadResponseError) instanceof TruncatedReplyError));
    fails('CHECK', 'SPAMD/1.1 zero EX_OK\r\n\r\n', BadResponseError);
    fails('CHECK', `SPAMD/1.1 0 WHAT\r\n${SPAM}\r\n`, BadResponseError);
    fails('PING', `${OK}`, BadResponseError);
  });

  it('every cut of a real reply is a TruncatedReplyError', () => {
    for (let cut = 0; cut < gtubeSymbols.length; cut++) {
      fails('SYMBOLS', gtubeSymbols.subarray(0, cut), TruncatedReplyError);
    }
    fails('TELL', `${OK}DidSet: local\r\n\r\n\r`, TruncatedReplyError);
  });

  it('checks Content-length both ways, and requires it where spamd always sends it', () => {
    fails('SYMBOLS', Buffer.concat([gtubeSymbols, Buffer.from('X')]), BadResponseError);
    fails('SYMBOLS', `${OK}${SPAM}\r\nGTUBE`, BadResponseError);
    fails('SYMBOLS', `${OK}Content-length: 5x\r\n${SPAM}\r\nGTUBE`, BadResponseError);
    fails('CHECK', `${OK}${SPAM}\r\nleftover`, BadResponseError);
    fails('TELL', `${OK}DidSet: local\r\n\r\nsurprise`, BadResponseError);
  });

  it('header names are case-sensitive: content-length is not Content-length', () => {
    fails('SYMBOLS', `${OK}content-length: 5\r\n${SPAM}\r\nGTUBE`, BadResponseError);
  });

  it('rejects missing, malformed or repeated fields', () => {
    fails('CHECK', `${OK}\r\n`, BadResponseError);
    fails('CHECK', `${OK}Spam: Maybe ; 1.0 / 5.0\r\n\r\n`, BadResponseError);
    fails('CHECK', `${OK}Spam: True ; lots / 5.0\r\n\r\n`, BadResponseError);
    fails('CHECK', `${OK}Spam: True;1.0/5.0\r\n\r\n`, BadResponseError);
    fails('CHECK', `${OK}${SPAM}${SPAM}\r\n`, BadResponseError);
    fails('CHECK', `${OK}NoColonHere\r\n${SPAM}\r\n`, BadResponseError);
    fails('TELL', `${OK}DidSet: everywhere\r\n\r\n\r\n`, BadResponseError);
  });

  it('ignores unknown headers and accepts integer scores', () => {
    const reply = scan('CHECK', `${OK}X-Future: yes\r\nSpam: False ; 4 / 5\r\n\r\n`);
    assert.deepEqual(reply.spam, { isSpam: false, score: 4, required: 5 });
    assert.equal(reply.headers.get('X-Future'), 'yes');
  });

  it("parses a large reply whole (the size cap is the transport's job)", () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 'a');
    const head = Buffer.from(`${OK}Content-length: ${body.length}\r\n${SPAM}\r\n`);
    assert.equal(scan('PROCESS', Buffer.concat([head, body])).body.length, body.length);
  });
});
