import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fingerprint, Ledger, openLedger, parseLedger } from './ledger.ts';

const MESSAGE =
  'Received: from a by b\r\nMessage-ID: <1@example.org>\r\nSubject: hi\r\n\r\nbody one\r\nbody two\r\n';
const msg = (text: string) => Buffer.from(text, 'latin1');

describe('fingerprint', () => {
  it('is the Message-ID and a body hash, blind to headers and line-end style', () => {
    const print = fingerprint(msg(MESSAGE));
    assert.equal(print.messageId, '<1@example.org>');
    assert.match(print.hash, /^[0-9a-f]{64}$/);
    const relayed = `X-Spam-Flag: YES\n${MESSAGE.replaceAll('\r\n', '\n')}`;
    assert.deepEqual(fingerprint(msg(relayed)), print);
  });

  it('changes with the body; no Message-ID is an empty one', () => {
    assert.notEqual(
      fingerprint(msg(MESSAGE.replace('two', '2'))).hash,
      fingerprint(msg(MESSAGE)).hash,
    );
    assert.equal(fingerprint(msg('Subject: x\n\nbody\n')).messageId, '');
  });
});

describe('Ledger', () => {
  const empty = () => {
    const lines: string[] = [];
    return { ledger: new Ledger(new Map(), async (l) => void lines.push(l)), lines };
  };

  it('skips a message taught to the same scanner as the same class', async () => {
    const { ledger, lines } = empty();
    const print = fingerprint(msg(MESSAGE));
    assert.equal(ledger.knows('builtin', 'spam', print), false);
    await ledger.record('builtin', 'spam', print);
    assert.equal(ledger.knows('builtin', 'spam', print), true);
    assert.equal(ledger.knows('builtin', 'ham', print), false, 'relearning as ham goes through');
    assert.equal(ledger.knows('spamd://127.0.0.1:783', 'spam', print), false, 'other scanner');
    assert.equal(ledger.knows('builtin', 'forget', print), false, 'forget is always asked');
    assert.equal(lines.length, 1);
  });

  it('learns a message with the same Message-ID but other content', async () => {
    const { ledger } = empty();
    await ledger.record('builtin', 'spam', fingerprint(msg(MESSAGE)));
    const edited = fingerprint(msg(MESSAGE.replace('body one', 'body uno')));
    assert.equal(edited.messageId, '<1@example.org>');
    assert.equal(ledger.knows('builtin', 'spam', edited), false);
  });

  it('takes the last line for a message and survives torn or foreign lines', async () => {
    const { ledger, lines } = empty();
    const print = fingerprint(msg(MESSAGE));
    await ledger.record('builtin', 'spam', print);
    await ledger.record('builtin', 'ham', print);
    const text = `${lines.join('')}{"torn":\nnot json\n`;
    const parsed = parseLedger(text);
    assert.equal(parsed.badLines, 2);
    const reread = new Ledger(parsed.entries, async () => {});
    assert.equal(reread.knows('builtin', 'ham', print), true);
    assert.equal(reread.knows('builtin', 'spam', print), false);
  });

  describe('openLedger', () => {
    let dir = '';
    after(() => rm(dir, { recursive: true, force: true }));

    it('creates its directory, appends lines and reads them back', async () => {
      dir = await mkdtemp(join(tmpdir(), 'spamward-ledger-'));
      const file = join(dir, 'sub', 'learned.jsonl');
      const print = fingerprint(msg(MESSAGE));
      const first = await openLedger(file);
      await first.record('builtin', 'spam', print);
      await first.close();
      await writeFile(file, `${await readFile(file, 'utf8')}{"torn`);
      const second = await openLedger(file);
      assert.equal(second.knows('builtin', 'spam', print), true);
      await second.record('builtin', 'ham', fingerprint(msg('Subject: y\n\nother\n')));
      await second.close();
      const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.equal(lines.length, 3, 'the torn line stays on its own line');
      assert.equal(parseLedger(lines.join('\n')).entries.size, 2);
    });
  });
});
