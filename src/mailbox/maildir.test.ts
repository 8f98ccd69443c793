import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MailboxError } from './errors.ts';
import { isMaildir, listMaildir, moveToFolder } from './maildir.ts';
import { readMessages } from './read.ts';
import { walkMailPath } from './walk.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spamward-maildir-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function makeMaildir(path: string, cur: string[], fresh: string[]): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(path, sub), { recursive: true });
  for (const name of cur) await writeFile(join(path, 'cur', name), `Subject: ${name}\n\nx\n`);
  for (const name of fresh) await writeFile(join(path, 'new', name), `Subject: ${name}\n\nx\n`);
}

describe('Maildir', () => {
  it('lists cur/ then new/, sorted, without hidden files, tmp/ or subfolders', async () => {
    const md = join(dir, 'list');
    await makeMaildir(md, ['2.b:2,S', '1.a:2,'], ['3.c']);
    await writeFile(join(md, 'cur', '.hidden'), 'x');
    await writeFile(join(md, 'tmp', '4.d'), 'x');
    await makeMaildir(join(md, '.Sub'), ['5.e'], []);
    assert.equal(await isMaildir(md), true);
    assert.equal(await isMaildir(join(md, 'cur')), false);
    assert.deepEqual(await listMaildir(md), [
      join(md, 'cur', '1.a:2,'),
      join(md, 'cur', '2.b:2,S'),
      join(md, 'new', '3.c'),
    ]);
  });

  it('moves a file into a folder it creates, keeping the name', async () => {
    const md = join(dir, 'move');
    await makeMaildir(md, [], ['6.f']);
    const to = await moveToFolder(join(md, 'new', '6.f'), md, '.Trash');
    assert.equal(to, join(md, '.Trash', 'cur', '6.f'));
    assert.deepEqual((await readdir(join(md, '.Trash'))).sort(), [
      'cur',
      'maildirfolder',
      'new',
      'tmp',
    ]);
    assert.deepEqual(await readdir(join(md, 'new')), []);
    assert.ok((await stat(to)).isFile());
  });

  it('reports a failed move as MOVE_FAILED', async () => {
    const md = join(dir, 'move-fail');
    await makeMaildir(md, [], []);
    await assert.rejects(moveToFolder(join(md, 'new', 'gone'), md, '.Trash'), (e: unknown) => {
      assert.ok(e instanceof MailboxError);
      assert.equal(e.code, 'MOVE_FAILED');
      return true;
    });
  });
});

describe('walkMailPath', () => {
  it('finds files, Maildirs and Maildir++ folders recursively, skipping hidden files', async () => {
    const root = join(dir, 'walk');
    await makeMaildir(join(root, 'Maildir'), ['1'], ['2']);
    await makeMaildir(join(root, 'Maildir', '.Spam'), ['3'], []);
    await mkdir(join(root, 'Maildir', 'courierimapkeywords'));
    await writeFile(join(root, 'Maildir', 'courierimapkeywords', 'k'), 'x');
    await writeFile(join(root, 'Maildir', 'dovecot-uidlist'), 'x');
    await mkdir(join(root, 'plain', 'deeper'), { recursive: true });
    await writeFile(join(root, 'plain', 'a.eml'), 'Subject: a\n\nx\n');
    await writeFile(join(root, 'plain', '.DS_Store'), 'x');
    await writeFile(join(root, 'plain', 'deeper', 'b.mbox'), 'From x\nSubject: b\n\nx\n');
    const found: string[] = [];
    for await (const item of walkMailPath(root)) {
      assert.equal(item.kind, 'file');
      if (item.kind === 'file') found.push(item.path.slice(root.length + 1));
    }
    assert.deepEqual(found, [
      'Maildir/cur/1',
      'Maildir/new/2',
      'Maildir/.Spam/cur/3',
      'plain/a.eml',
      'plain/deeper/b.mbox',
    ]);
  });

  it('reports a missing path', async () => {
    const items = [];
    for await (const item of walkMailPath(join(dir, 'missing'))) items.push(item);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.kind === 'error' && items[0].error.code, 'PATH_NOT_FOUND');
  });
});

describe('readMessages', () => {
  const read = async (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    await writeFile(path, content);
    const out: string[] = [];
    for await (const m of readMessages(path))
      out.push(`${m.source.slice(dir.length + 1)}=${m.bytes}`);
    return out;
  };

  it('reads a plain message whole and an mbox message by message', async () => {
    assert.deepEqual(await read('one.eml', 'Subject: a\n\nFrom me\n'), [
      'one.eml=Subject: a\n\nFrom me\n',
    ]);
    assert.deepEqual(
      await read('two.mbox', 'From a\nSubject: a\n\n>From x\n\nFrom b\nSubject: b\n'),
      ['two.mbox#1=Subject: a\n\nFrom x\n', 'two.mbox#2=Subject: b\n'],
    );
  });

  it('reads a large mbox in chunks', async () => {
    const message = (i: number) => `From x\nSubject: ${i}\n\n${'y'.repeat(50_000)}\n\n`;
    const all = Array.from({ length: 8 }, (_, i) => message(i)).join('');
    const out = await read('big.mbox', all);
    assert.equal(out.length, 8);
    assert.ok(out[7]?.startsWith('big.mbox#8=Subject: 7\n'));
  });

  it('rejects an empty file and reports empty mbox entries after the good ones', async () => {
    await assert.rejects(read('empty.eml', '\n'), { code: 'EMPTY_MESSAGE' });
    const path = join(dir, 'holes.mbox');
    await writeFile(path, 'From a\n\nFrom b\nSubject: b\n');
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of readMessages(path)) got.push(m.source);
      })(),
      { code: 'EMPTY_MESSAGE', message: /message\(s\) 1 are empty/ },
    );
    assert.deepEqual(got, [`${path}#2`]);
  });
});
