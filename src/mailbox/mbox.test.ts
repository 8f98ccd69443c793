import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { looksLikeMbox, MboxSplitter, splitMbox } from './mbox.ts';

const texts = (mbox: string) =>
  splitMbox(Buffer.from(mbox, 'latin1')).map((m) => m.bytes.toString('latin1'));

const LF_MBOX = [
  'From alice@example.org Mon Sep  2 11:21:42 2002',
  'From: alice@example.org',
  'Subject: one',
  '',
  'first body',
  '>From the start, quoted by the writer',
  '>>From an already quoted line',
  '> From is not a From_ line quote',
  '',
  'From bob@example.org Mon Sep  2 11:22:00 2002',
  'From: bob@example.org',
  'Subject: two',
  '',
  'second body',
  '',
].join('\n');

describe('splitMbox', () => {
  it('splits on From_ lines, drops them and the separator blank line, unquotes >From', () => {
    const messages = splitMbox(Buffer.from(LF_MBOX));
    assert.equal(messages.length, 2);
    assert.deepEqual(
      messages.map((m) => [m.index, m.line]),
      [
        [1, 1],
        [2, 10],
      ],
    );
    assert.equal(
      messages[0]?.bytes.toString(),
      'From: alice@example.org\nSubject: one\n\nfirst body\nFrom the start, quoted by the writer\n>From an already quoted line\n> From is not a From_ line quote\n',
    );
    assert.equal(
      messages[1]?.bytes.toString(),
      'From: bob@example.org\nSubject: two\n\nsecond body\n',
    );
  });

  it('keeps CRLF line ends and drops a CRLF separator line', () => {
    const crlf = LF_MBOX.replaceAll('\n', '\r\n');
    const [first, second] = texts(crlf);
    assert.ok(first?.endsWith('> From is not a From_ line quote\r\n'));
    assert.ok(first?.includes('\r\nFrom the start'));
    assert.equal(second, 'From: bob@example.org\r\nSubject: two\r\n\r\nsecond body\r\n');
  });

  it('takes a last message without a trailing newline whole', () => {
    assert.deepEqual(texts('From x\nA: 1\n\nbody\n\nFrom y\nB: 2\n\nlast line'), [
      'A: 1\n\nbody\n',
      'B: 2\n\nlast line',
    ]);
  });

  it('keeps a message that lacks the separator blank line as it is', () => {
    assert.deepEqual(texts('From x\nA: 1\n\nbody\nFrom y\nB: 2\n'), ['A: 1\n\nbody\n', 'B: 2\n']);
  });

  it('gives an empty message for a From_ line with nothing after it', () => {
    assert.deepEqual(texts('From x\nA: 1\n\nbody\n\nFrom y\n\nFrom z\nC: 3\n'), [
      'A: 1\n\nbody\n',
      '',
      'C: 3\n',
    ]);
    assert.deepEqual(texts('From only\n'), ['']);
  });

  it('ignores text before the first From_ line and says so', () => {
    const splitter = new MboxSplitter();
    const out = [...splitter.push(Buffer.from('junk\nFrom x\nA: 1\n')), ...splitter.end()];
    assert.equal(out.length, 1);
    assert.equal(splitter.hadPreamble, true);
  });

  it('gives the same messages whatever the chunk boundaries', () => {
    const whole = Buffer.from(LF_MBOX.replaceAll('\n', '\r\n'));
    const expected = splitMbox(whole).map((m) => m.bytes.toString('latin1'));
    for (let size = 1; size <= 17; size++) {
      const splitter = new MboxSplitter();
      const got: string[] = [];
      for (let i = 0; i < whole.length; i += size)
        for (const m of splitter.push(whole.subarray(i, i + size))) got.push(m.bytes.toString());
      for (const m of splitter.end()) got.push(m.bytes.toString('latin1'));
      assert.deepEqual(got, expected, `chunks of ${size} bytes`);
    }
  });
});

describe('looksLikeMbox', () => {
  it('is true only for a leading "From " line', () => {
    assert.equal(looksLikeMbox(Buffer.from('From a@b Mon Sep  2 2002\n')), true);
    assert.equal(looksLikeMbox(Buffer.from('From: a@b\n')), false);
    assert.equal(looksLikeMbox(Buffer.from('Received: x\nFrom a\n')), false);
    assert.equal(looksLikeMbox(Buffer.from('From')), false);
  });
});
