import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEncodedWords } from './decode-word.ts';
import { encodeHeaderText, encodeWords, MAX_ENCODED_WORD, sanitizeText } from './encode-word.ts';

const WORD = /=\?UTF-8\?([QB])\?([^?]*)\?=/g;

/** Every encoded-word is at most 75 characters and holds whole UTF-8 characters only. */
function assertWellFormedWords(encoded: string): void {
  const strict = new TextDecoder('utf-8', { fatal: true });
  for (const [word, kind, payload = ''] of encoded.matchAll(WORD)) {
    assert.ok(word.length <= MAX_ENCODED_WORD, `${word} is ${word.length} long`);
    const bytes =
      kind === 'B'
        ? Buffer.from(payload, 'base64')
        : Buffer.from(
            payload
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/g, (_, hex: string) =>
                String.fromCharCode(Number.parseInt(hex, 16)),
              ),
            'latin1',
          );
    assert.doesNotThrow(() => strict.decode(bytes), `${word} splits a character`);
  }
  assert.match(encoded, /^[\x20-\x7e]*$/, 'only printable ASCII');
}

describe('encodeHeaderText', () => {
  it('returns plain ASCII text unchanged', () => {
    const text = 'BODY: Generic Test for Unsolicited Bulk Email (x=1, y?)';
    assert.equal(encodeHeaderText(text), text);
  });

  it('encodes only the words that need it, keeping the spaces around them', () => {
    const encoded = encodeHeaderText('Grüße aus Köln');
    assert.equal(encoded, '=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?K=C3=B6ln?=');
    assert.equal(decodeEncodedWords(encoded), 'Grüße aus Köln');
  });

  it('encodes neighbouring non-ASCII words together, the space between them inside the encoding', () => {
    const encoded = encodeHeaderText('Привет мир !');
    assert.equal((encoded.match(WORD) ?? []).length, 1);
    assert.ok(encoded.endsWith('?= !'));
    assert.equal(decodeEncodedWords(encoded), 'Привет мир !');
  });

  it('splits long text into words of at most 75 characters without splitting a character', () => {
    for (const text of [
      'é'.repeat(200),
      '日本語のテキスト'.repeat(20),
      '😀a'.repeat(80),
      `${'ü'.repeat(30)} ${'x'.repeat(30)}`,
    ]) {
      for (const kind of ['Q', 'B', 'auto'] as const) {
        const encoded = encodeHeaderText(text, kind);
        assertWellFormedWords(encoded);
        assert.equal(decodeEncodedWords(encoded), text, `${kind}: ${text.slice(0, 10)}`);
      }
    }
  });

  it('ends an encoded-word after a space where it can, so folds fall between words', () => {
    const text = 'Очень длинное описание правила на русском языке для проверки переноса строк';
    const encoded = encodeWords(text, 'B');
    const words = encoded.split(' ');
    assert.ok(words.length > 1);
    for (const word of words.slice(0, -1)) {
      assert.ok(decodeEncodedWords(word).endsWith(' '), decodeEncodedWords(word));
    }
    assert.equal(decodeEncodedWords(encoded), text);
  });

  it('picks B when it is shorter (CJK, emoji) and Q for mostly Latin text', () => {
    assert.match(encodeHeaderText('日本語のテキスト'), /^=\?UTF-8\?B\?/);
    assert.match(encodeHeaderText('Zürich'), /^=\?UTF-8\?Q\?/);
  });

  it('encodes a word that merely looks like an encoded-word, so it cannot be decoded as one', () => {
    const encoded = encodeHeaderText('see =?UTF-8?B?SGk=?= here');
    assert.doesNotMatch(encoded, /=\?UTF-8\?B\?SGk=\?=/);
    assert.equal(decodeEncodedWords(encoded), 'see =?UTF-8?B?SGk=?= here');
  });

  it('never lets a control character through, even in unsanitised input', () => {
    const encoded = encodeHeaderText('a\r\nBcc: x\0 y');
    assert.doesNotMatch(encoded, /[\r\n\0]/);
    assertWellFormedWords(encoded);
  });

  it('encodeWords encodes everything, spaces included', () => {
    const encoded = encodeWords('[SPAM] ', 'Q');
    assert.equal(encoded, '=?UTF-8?Q?=5BSPAM=5D_?=');
    assert.equal(decodeEncodedWords(`${encoded} =?UTF-8?Q?x?=`), '[SPAM] x');
  });
});

describe('sanitizeText', () => {
  it('turns line breaks and tabs into single spaces and trims', () => {
    assert.equal(
      sanitizeText('  a\r\nBcc: evil@example.com\n\tX-Spam-Flag: NO\r '),
      'a Bcc: evil@example.com X-Spam-Flag: NO',
    );
    assert.equal(sanitizeText('a\u2028b\u0085c\vd\fe'), 'a b c d e');
  });

  it('drops NUL, other controls and bidi overrides', () => {
    assert.equal(sanitizeText('a\0b\x07c\x7fd\x9be\u202ef\u2066g\ufeffh'), 'abcdefgh');
  });

  it('replaces lone surrogates and keeps pairs', () => {
    assert.equal(sanitizeText('a\ud800b😀'), 'a\ufffdb😀');
  });

  it('caps the length in characters, never inside a surrogate pair', () => {
    assert.equal(sanitizeText('x'.repeat(300)).length, 256);
    assert.equal(sanitizeText('abcdefghij', 8), 'abcde...');
    assert.equal(sanitizeText('😀'.repeat(10), 5), '😀😀...');
    assert.equal(sanitizeText('abc', 2), 'ab');
  });

  it('keeps clean text as is, and agrees with a character-by-character reference on any input', () => {
    const text = 'BAYES_00 Bayes spam probability is 0 to 1%';
    assert.equal(sanitizeText(text), text);
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme-ascii' }),
      fc.constantFrom(' ', '  ', '\t', '\r\n', '\0', '\x7f', '\x9b', '\u00a0', '\u2028', '\u202e'),
      fc.constantFrom('\ud800', '\udc00', '😀', 'é', '\ufeff'),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        fc.integer({ min: 0, max: 40 }),
        (parts, max) => {
          const input = parts.join('');
          assert.equal(sanitizeText(input, max), referenceSanitize(input, max));
        },
      ),
      { seed: 4242, numRuns: 2000 },
    );
  });
});

/** The first, unit-by-unit implementation of sanitizeText, kept as the reference for the fast one. */
function referenceSanitize(text: string, maxLength: number): string {
  const invisible = (code: number): boolean =>
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff;
  const clean = text
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .split('')
    .filter((unit) => !invisible(unit.charCodeAt(0)))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(clean);
  if (chars.length <= maxLength) return clean;
  if (maxLength <= 3) return chars.slice(0, Math.max(0, maxLength)).join('');
  return `${chars
    .slice(0, maxLength - 3)
    .join('')
    .trimEnd()}...`;
}

describe('decodeEncodedWords', () => {
  it('decodes Q and B, drops whitespace between adjacent words, keeps it elsewhere', () => {
    assert.equal(
      decodeEncodedWords('=?UTF-8?Q?a?= =?UTF-8?B?Yg==?= c =?utf-8?q?d_e?='),
      'ab c d e',
    );
  });

  it('joins the bytes of a character split across two words', () => {
    assert.equal(decodeEncodedWords('=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?='), 'é');
  });

  it('reads other charsets and RFC 2231 languages, and leaves unknown charsets alone', () => {
    assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?caf=E9?='), 'café');
    assert.equal(decodeEncodedWords('=?UTF-8*en?Q?hi?='), 'hi');
    assert.equal(decodeEncodedWords('=?x-unknown?Q?hi?= there'), '=?x-unknown?Q?hi?= there');
    assert.equal(decodeEncodedWords('no words here'), 'no words here');
  });
});
