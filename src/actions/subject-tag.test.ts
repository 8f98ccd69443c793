import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCheckReply } from '../scanners/rspamd/reply.ts';
import { decodeEncodedWords } from './decode-word.ts';
import {
  isTagged,
  renderTag,
  subjectReplacement,
  subjectTagModification,
  tagSubject,
} from './subject-tag.ts';

const spam = { score: 15.24, required: 5 };
const text = (value: string | Buffer) =>
  typeof value === 'string' ? value : value.toString('latin1');

describe('renderTag', () => {
  it('fills in SpamAssassin and Spamward placeholders with one decimal', () => {
    assert.equal(renderTag('*****SPAM***** (_SCORE_)', spam), '*****SPAM***** (15.2)');
    assert.equal(renderTag('[SPAM %{score}/%{required}] _REQD_', spam), '[SPAM 15.2/5.0] 5.0');
    assert.equal(renderTag('[SPAM]', { score: -0.04, required: 5 }), '[SPAM]');
  });

  it('cannot put a line break into the subject', () => {
    assert.equal(
      renderTag('[SPAM]\r\nBcc: victim@example.com', spam),
      '[SPAM] Bcc: victim@example.com',
    );
  });
});

describe('tagSubject', () => {
  it('prefixes the subject, dropping the whitespace after the colon', () => {
    const tagged = tagSubject(Buffer.from(' Test spam mail (GTUBE)'), '[SPAM]', spam);
    assert.ok(Buffer.isBuffer(tagged));
    assert.equal(text(tagged), '[SPAM] Test spam mail (GTUBE)');
    assert.equal(
      text(tagSubject(Buffer.from(' Hi'), '*****SPAM***** (_SCORE_)', spam)),
      '*****SPAM***** (15.2) Hi',
    );
  });

  it("fills rspamd's `%s` template the way rspamd did for the ZJS test pattern", () => {
    const reply = parseCheckReply(
      readFileSync(
        new URL('../../test/fixtures/rspamd/rspamd-checkv2-gtube-Z.json.raw', import.meta.url),
      ),
      'rspamd://x',
    );
    const tagged = tagSubject(Buffer.from(' Test spam mail (GTUBE)'), '***SPAM*** %s', reply);
    assert.equal(text(tagged), reply.subject);
    assert.equal(text(tagSubject(Buffer.from(' Hi'), '%s [SPAM]', spam)), 'Hi [SPAM]');
  });

  it('keeps 8-bit subject bytes exactly', () => {
    const original = Buffer.from([0x20, 0x43, 0x61, 0x66, 0xe9, 0x20, 0xc3, 0xa9, 0xff]);
    const tagged = tagSubject(original, '[SPAM]', spam);
    assert.ok(Buffer.isBuffer(tagged));
    assert.deepEqual(tagged, Buffer.concat([Buffer.from('[SPAM] '), original.subarray(1)]));
  });

  it('keeps encoded-words and existing folds exactly', () => {
    const original = ' =?UTF-8?B?w6nDqQ==?= and\n\t=?ISO-8859-1?Q?caf=E9?=';
    const tagged = text(tagSubject(Buffer.from(original), '[SPAM]', spam));
    assert.equal(tagged, `[SPAM]${original}`);
    assert.equal(decodeEncodedWords(tagged.replace(/\n/g, '')), '[SPAM] éé and\tcafé');
  });

  it('encodes a non-ASCII tag, keeping the space before an encoded subject visible', () => {
    const plain = text(tagSubject(Buffer.from(' Hello'), '[СПАМ]', spam));
    assert.match(plain, /^=\?UTF-8\?[QB]\?[^ ]+\?= Hello$/);
    assert.equal(decodeEncodedWords(plain), '[СПАМ] Hello');
    const encoded = text(tagSubject(Buffer.from(' =?UTF-8?Q?h=C3=A9?='), '[СПАМ]', spam));
    assert.equal(decodeEncodedWords(encoded), '[СПАМ] hé');
    const suffix = text(tagSubject(Buffer.from(' =?UTF-8?Q?h=C3=A9?='), '%s [СПАМ]', spam));
    assert.equal(decodeEncodedWords(suffix), 'hé [СПАМ]');
  });

  it('does not tag twice: as written, in any case, with another score, inside encoded-words', () => {
    const same = (subject: string, tag: string) => {
      const original = Buffer.from(subject);
      assert.deepEqual(tagSubject(original, tag, spam), original.subarray(1), subject);
      assert.equal(isTagged(original, tag), true, subject);
    };
    same(' [SPAM] Hello', '[SPAM]');
    same(' Re: [spam] Hello', '[SPAM]');
    same(' *****SPAM***** (3.0) Hello', '*****SPAM***** (_SCORE_)');
    same(' ***SPAM*** Test', '***SPAM*** %s');
    same(' =?UTF-8?Q?=5BSPAM=5D_h=C3=A9?=', '[SPAM]');
    same(' =?UTF-8?B?W9Ch0J/QkNCcXSBIZWxsbw==?=', '[СПАМ]');
    same(' [СПАМ] Hello', '[СПАМ]');
    assert.equal(isTagged(Buffer.from(' SPAM Hello'), '[SPAM]'), false);
    assert.equal(isTagged(undefined, '[SPAM]'), false);
  });

  it('is the tag alone when there is no subject or an empty one', () => {
    assert.equal(tagSubject(undefined, '[SPAM]', spam), '[SPAM]');
    assert.equal(tagSubject(Buffer.from(' '), '***SPAM*** %s', spam), '***SPAM***');
  });

  it('folds between tag and a long subject so the first line stays short', () => {
    const long = ` ${'word '.repeat(14)}end`;
    const tagged = text(tagSubject(Buffer.from(long), '*****SPAM***** (_SCORE_)', spam));
    assert.equal(tagged, `*****SPAM***** (15.2)\n${long}`);
    assert.equal(
      tagged.replace(/\n/g, ''),
      `*****SPAM***** (15.2)${long}`,
      'unfolds to the same text',
    );
  });
});

describe('subjectTagModification', () => {
  const subject = (value: string) => [
    { name: 'From', value: Buffer.from(' a@example.org') },
    { name: 'SUBJECT', value: Buffer.from(value) },
    { name: 'Subject', value: Buffer.from(' second') },
  ];

  it('changes the first Subject', () => {
    assert.deepEqual(subjectTagModification(subject(' Hello'), '[SPAM]', spam), {
      kind: 'change-header',
      name: 'Subject',
      occurrence: 1,
      value: Buffer.from('[SPAM] Hello'),
    });
  });

  it('adds a Subject when there is none', () => {
    assert.deepEqual(
      subjectTagModification([{ name: 'From', value: Buffer.from(' a') }], '[SPAM %{score}]', spam),
      {
        kind: 'add-header',
        name: 'Subject',
        value: '[SPAM 15.2]',
      },
    );
  });

  it('does nothing for a subject already tagged or an empty tag', () => {
    assert.equal(subjectTagModification(subject(' [SPAM] Hello'), '[SPAM]', spam), undefined);
    assert.equal(subjectTagModification(subject(' Hello'), ' %s ', spam), undefined);
  });
});

describe('subjectReplacement', () => {
  const subject = [{ name: 'Subject', value: Buffer.from(' hello') }];
  it('changes the first Subject, or adds one', () => {
    assert.deepEqual(subjectReplacement(subject, '*** SPAM *** hello'), {
      kind: 'change-header',
      name: 'Subject',
      occurrence: 1,
      value: '*** SPAM *** hello',
    });
    assert.deepEqual(subjectReplacement([], 'x'), {
      kind: 'add-header',
      name: 'Subject',
      value: 'x',
    });
  });
  it('cannot inject a header line, and encodes non-ASCII text', () => {
    const m = subjectReplacement(subject, 'a\r\nBcc: victim@example.org');
    assert.ok(m !== undefined && 'value' in m);
    assert.doesNotMatch(String(m.value), /[\r\n]/);
    const encoded = subjectReplacement(subject, '*** SPAM *** Déjà vu');
    assert.ok(encoded !== undefined && 'value' in encoded);
    assert.equal(String(encoded.value), '*** SPAM *** =?UTF-8?Q?D=C3=A9j=C3=A0?= vu');
  });
  it('gives nothing for an empty subject', () => {
    assert.equal(subjectReplacement(subject, '\r\n'), undefined);
  });
});
