import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containsBypassPhrase } from './bypass.ts';

const message = (subject: string, body: string) => ({
  headers: [
    { name: 'From', value: Buffer.from(' mapsetahi@example.org') },
    { name: 'Subject', value: Buffer.from(` ${subject}`) },
  ],
  body: Buffer.from(body, 'latin1'),
});

describe('containsBypassPhrase', () => {
  it('finds the phrase in the Subject or the body, ignoring ASCII case', () => {
    assert.equal(containsBypassPhrase(message('Re: MapSetAhi please', 'x'), 'mapsetahi'), true);
    assert.equal(
      containsBypassPhrase(message('hello', 'I was told: MAPSETAHI'), 'mapsetahi'),
      true,
    );
  });
  it('does not look at other headers', () => {
    assert.equal(containsBypassPhrase(message('hello', 'body'), 'mapsetahi'), false);
  });
  it('matches 8-bit (UTF-8) phrases byte for byte; only ASCII letters are case-folded', () => {
    const utf8 = { headers: [], body: Buffer.from('un café phrase', 'utf8') };
    assert.equal(containsBypassPhrase(utf8, 'CAFé PHRASE'), true);
    assert.equal(containsBypassPhrase(utf8, 'CAFÉ PHRASE'), false);
  });
});
