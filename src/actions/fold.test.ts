import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FOLD_WIDTH, foldHeader, MAX_LINE_LENGTH } from './fold.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/headers/${name}`, import.meta.url), 'utf8');

/** The value of the first `name:` header in a header block (LF line ends). */
function headerValue(block: string, name: string): string {
  const match = new RegExp(`^${name}: ?((?:.*)(?:\\n[ \\t].*)*)`, 'm').exec(block);
  assert.ok(match, `${name} in fixture`);
  return match[1] ?? '';
}

/** Unfolds the way SpamAssassin's own parser does for comparison: a fold after a comma is dropped. */
const unfoldSa = (value: string) => value.replace(/,\n\t/g, ',').replace(/\n\t/g, ' ');

/** Every line short enough, every continuation starts with whitespace, nothing that ends a header. */
function assertWellFolded(name: string, folded: string): void {
  const lines = folded.split('\n');
  lines.forEach((line, i) => {
    const length = (i === 0 ? name.length + 2 : 0) + line.length;
    assert.ok(length <= MAX_LINE_LENGTH, `line ${i} is ${length} long`);
    if (i > 0) assert.match(line, /^[ \t]\S/, `continuation line ${i}: ${JSON.stringify(line)}`);
  });
  assert.doesNotMatch(folded, /[\r\0]/);
}

describe('foldHeader', () => {
  it('leaves a short value alone', () => {
    assert.equal(foldHeader('X-Spam-Flag', 'YES'), 'YES');
    assert.equal(foldHeader('X-Spam-Level', ''), '');
  });

  it('folds X-Spam-Status exactly as SpamAssassin 4.0.1 did (GTUBE, ham, a 19-rule spam)', () => {
    for (const file of [
      'spamassassin-gtube.hdr',
      'spamassassin-ham.hdr',
      'spamassassin-corpus-spam.hdr',
    ]) {
      const expected = headerValue(fixture(file), 'X-Spam-Status');
      const folded = foldHeader('X-Spam-Status', unfoldSa(expected), { breakAfterComma: true });
      assert.equal(folded, expected, file);
    }
  });

  it('breaks at whitespace (the break replaces it) and keeps every line below 78 columns', () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const folded = foldHeader('X-Test', words);
    assert.equal(folded.replace(/\n\t/g, ' '), words);
    for (const [i, line] of folded.split('\n').entries()) {
      assert.ok((i === 0 ? 'X-Test: '.length : 0) + line.length < FOLD_WIDTH, line);
    }
  });

  it('breaks after commas only when asked', () => {
    const list = Array.from({ length: 30 }, (_, i) => `RULE_${i}`).join(',');
    assert.equal(foldHeader('X-Test', list), list);
    const folded = foldHeader('X-Test', list, { breakAfterComma: true });
    assert.ok(folded.includes(',\n\t'));
    assert.equal(folded.replace(/\n\t/g, ''), list);
  });

  it('keeps existing line breaks, normalising CRLF and the continuation whitespace to a TAB', () => {
    assert.equal(foldHeader('X', 'a;\n\tb;\r\n    c'), 'a;\n\tb;\n\tc');
  });

  it('turns a line break that is not folding into a continuation line (no header injection)', () => {
    const folded = foldHeader('X-Spam-Report', 'text\nBcc: victim@example.com\r\nX-Evil: 1\rY: 2');
    assert.equal(folded, 'text\n\tBcc: victim@example.com\n\tX-Evil: 1\n\tY: 2');
    assertWellFolded('X-Spam-Report', folded);
  });

  it('removes NUL and other control characters, and whitespace-only continuation lines', () => {
    assert.equal(foldHeader('X', 'a\0b\x01c\x7f\n\t\n   \n\td'), 'abc\n\td');
  });

  it('keeps an empty first line when the value starts with a line break (X-Spam-Report style)', () => {
    assert.equal(
      foldHeader('X-Spam-Report', '\n\t* 1.0 A desc\n\t* 2.0 B desc'),
      '\n\t* 1.0 A desc\n\t* 2.0 B desc',
    );
  });

  it('uses the continuation for wrapped lines only', () => {
    const long = `* 1.0 RULE ${'lorem ipsum '.repeat(10).trim()}`;
    const folded = foldHeader('X-Spam-Report', `\n\t${long}\n\t* 2.0 OTHER short`, {
      continuation: '\t*      ',
    });
    const lines = folded.split('\n');
    assert.equal(lines[0], '');
    assert.ok(lines[1]?.startsWith('\t* 1.0 RULE lorem'));
    assert.ok(lines[2]?.startsWith('\t*      '));
    assert.equal(lines.at(-1), '\t* 2.0 OTHER short');
  });

  it('refuses a continuation that would not start a continuation line', () => {
    assert.throws(() => foldHeader('X', 'a', { continuation: '*' }), RangeError);
    assert.throws(() => foldHeader('X', 'a', { continuation: '\t\n' }), RangeError);
  });

  it('cuts a token too long for any line so that no line exceeds 998 characters', () => {
    const token = 'x'.repeat(2500);
    const folded = foldHeader('X-Long', token);
    assertWellFolded('X-Long', folded);
    assert.equal(folded.replace(/\n\t/g, ''), token);
    const list = Array.from({ length: 300 }, (_, i) => `option-${i}`).join(',');
    const byComma = foldHeader('X-Long', list);
    assertWellFolded('X-Long', byComma);
    assert.ok(
      byComma
        .split('\n')
        .slice(0, -1)
        .every((line) => line.endsWith(',')),
    );
  });

  it('produces well-folded output for arbitrary input', () => {
    const alphabet = ['a', 'b', ' ', '\t', ',', '\n', '\r', '\0', 'é', 'xxxxxxxxxxxxxxxxxxxx'];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 300; run++) {
      let value = '';
      const length = Math.floor(random() * 400);
      for (let i = 0; i < length; i++) value += alphabet[Math.floor(random() * alphabet.length)];
      const folded = foldHeader('X-Fuzz', value, { breakAfterComma: random() < 0.5 });
      assert.doesNotMatch(folded, /[\r\0]|\n(?![ \t])/, JSON.stringify(value));
      for (const line of folded.split('\n')) assert.ok(line.length <= MAX_LINE_LENGTH);
    }
  });

  it('gives a value that fits as is the same answer as the general path', () => {
    // A trailing line break changes nothing in the result but always takes the general path.
    const printable = fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', ',', '=', '*', '-') });
    fc.assert(
      fc.property(fc.constantFrom('X-Spam-Flag', 'X-Spam-Level', 'X'), printable, (name, value) => {
        assert.equal(foldHeader(name, value), foldHeader(name, `${value}\n`));
      }),
      { seed: 78, numRuns: 2000 },
    );
  });
});
