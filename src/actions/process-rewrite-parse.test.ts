import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadResponseError } from '../scanners/errors.ts';
import { processRewrite } from './process-rewrite.ts';
import {
  ProcessRewriteError,
  parseRewritten,
  REWRITE_LIMITS,
  type RewriteFault,
  toCrlf,
} from './process-rewrite-parse.ts';

const message = (text: string) => ({
  kind: 'message' as const,
  bytes: Buffer.from(text, 'latin1'),
});
const headersOnly = (text: string) => ({
  kind: 'headers' as const,
  bytes: Buffer.from(text, 'latin1'),
});

function refused(run: () => unknown, fault: RewriteFault): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ProcessRewriteError, String(error));
    assert.ok(error instanceof BadResponseError);
    assert.equal(error.code, 'SCANNER_BAD_RESPONSE');
    assert.equal(error.fault, fault);
    assert.equal(error.retryable, false);
    return true;
  });
}

describe('parseRewritten', () => {
  it('fields as the MTA sends them: value after the colon, LF-joined folds, CR dropped', () => {
    const parsed = parseRewritten(
      message('Subject: a\r\n\tb\r\n  c\r\nX-Empty:\r\nName : v\r\n\r\nbody\r\n'),
    );
    assert.deepEqual(
      parsed.headers.map((h) => [h.name, h.value.toString('latin1')]),
      [
        ['Subject', ' a\n\tb\n  c'],
        ['X-Empty', ''],
        ['Name', ' v'],
      ],
    );
    assert.equal(parsed.body?.toString(), 'body\r\n');
  });

  it('bare LF output: body lines end in CRLF again, mixed endings too', () => {
    const parsed = parseRewritten(message('A: 1\nB: 2\n\none\ntwo\r\nthree\n'));
    assert.equal(parsed.body?.toString(), 'one\r\ntwo\r\nthree\r\n');
    assert.deepEqual(toCrlf(Buffer.from('a\rb\n')), Buffer.from('a\rb\r\n'));
  });

  it('HEADERS output has no body; anything after the blank line is ignored', () => {
    const parsed = parseRewritten(headersOnly('X-Spam-Flag: YES\r\n\r\nleftover'));
    assert.equal(parsed.body, undefined);
    assert.equal(parsed.headers.length, 1);
    assert.equal(parseRewritten(message('\r\n')).headers.length, 0);
  });

  it('8-bit bytes in names’ values are kept, never decoded', () => {
    const bytes = Buffer.from('Subject: \xe9\xc3\xa9\xff\r\n\r\n', 'latin1');
    const [field] = parseRewritten({ kind: 'headers', bytes }).headers;
    assert.deepEqual(field?.value, Buffer.from(' \xe9\xc3\xa9\xff', 'latin1'));
  });
});

describe('parseRewritten refuses what cannot be applied whole', () => {
  it('no blank line after the headers (truncated or not a message)', () => {
    refused(() => parseRewritten(message('')), 'no-header-end');
    refused(() => parseRewritten(message('Subject: x\r\nX-Spam-Flag: YES')), 'no-header-end');
    refused(
      () => parseRewritten(headersOnly('Subject: x\r\nX-Spam-Flag: YES\r\n')),
      'no-header-end',
    );
  });

  it('lines that are neither a field nor a continuation', () => {
    refused(() => parseRewritten(message('\tfolded first\r\n\r\n')), 'bad-header-line');
    refused(() => parseRewritten(message('Subject: x\r\nnot a header\r\n\r\n')), 'bad-header-line');
    refused(() => parseRewritten(message(': no name\r\n\r\n')), 'bad-header-line');
    refused(() => parseRewritten(message('Bad Name: x\r\n\r\n')), 'bad-header-line');
    refused(
      () => parseRewritten(message('From sender@example.org Mon Nov 23\r\n\r\n')),
      'bad-header-line',
    );
    refused(() => parseRewritten(message('N\xe4me: x\r\n\r\n')), 'bad-header-line');
  });

  it('absurd sizes: whole output, field count, one field', () => {
    const huge = Buffer.alloc(REWRITE_LIMITS.maxBytes + 1, 0x61);
    refused(() => parseRewritten({ kind: 'message', bytes: huge }), 'too-large');
    const many = 'X-A: 1\r\n'.repeat(REWRITE_LIMITS.maxFields + 1);
    refused(() => parseRewritten(headersOnly(`${many}\r\n`)), 'too-many-headers');
    const long = `X-Long: ${'a'.repeat(REWRITE_LIMITS.maxFieldBytes)}\r\n\r\n`;
    refused(() => parseRewritten(headersOnly(long)), 'header-too-long');
    const folded = `X-Long: a${'\r\n b'.repeat(REWRITE_LIMITS.maxFieldBytes / 3)}\r\n\r\n`;
    refused(() => parseRewritten(headersOnly(folded)), 'header-too-long');
    // Just within the limits is fine.
    assert.equal(
      parseRewritten(headersOnly(`${'X-A: 1\r\n'.repeat(100)}\r\n`)).headers.length,
      100,
    );
  });

  it('processRewrite throws the same error and returns nothing', () => {
    const original = { headers: [], body: Buffer.from('x\r\n') };
    const options = {
      preserveHeaders: false,
      preserveBody: false,
      scanner: 'spamd://127.0.0.1:783',
    };
    assert.throws(
      () => processRewrite(original, message('X-Spam-Flag: YES\r\ngarbage\r\n\r\n'), options),
      /spamd:\/\/127\.0\.0\.1:783: bad answer: rewritten message refused \(bad-header-line\)/,
    );
  });
});
