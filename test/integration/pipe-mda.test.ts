/**
 * `spamward check` under real mail delivery agents, with the README's recipes: procmail (`:0 fw`
 * filter, `e` recipe deferring on failure) and maildrop (`xfilter`), sorting GTUBE and a ham
 * into two mailboxes and deferring (exit 75) when the scanner is down. Needs the Debian
 * packages procmail and maildrop.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { dateHeaderNow } from '../support/date.ts';
import { requireComponent } from '../support/require-component.ts';
import { findExecutable } from '../support/which.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const HEAD = `From: alice@example.org\nTo: bob@example.net\nSubject: lunch\nDate: ${dateHeaderNow()}\nMessage-ID: <pipe-mda@example.org>`;
const SPAM = `${HEAD}\n\n${GTUBE}\n`;
const HAM = `${HEAD}\n\nSee you at noon on Thursday.\n`;

function missing(name: string): string | null {
  return findExecutable(name) === null
    ? `${name} not found in PATH (Debian package ${name})`
    : null;
}

describe('spamward check under procmail and maildrop', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let spamward = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-mda-'));
    env = { ...process.env, SPAMWARD_SCANNER_BUILTIN_DATA_DIR: join(dir, 'builtin') };
    for (const name of ['SENDER', 'RECIPIENT', 'CLIENT_ADDRESS', 'TCPREMOTEIP']) delete env[name];
    // What an installed `spamward` would be: the CLI run from the repository.
    spamward = join(dir, 'spamward');
    await writeFile(
      spamward,
      `#!/bin/sh\ncd '${REPO_ROOT}' && exec '${process.execPath}' --import tsx src/cli/main.ts "$@"\n`,
    );
    await chmod(spamward, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  function deliver(argv: string[], input: string, scanner: string) {
    const out = spawnSync(argv[0] as string, argv.slice(1), {
      input,
      env: { ...env, SCANNER: scanner },
      cwd: dir,
      timeout: 60_000,
    });
    return { status: out.status, stderr: out.stderr.toString() };
  }

  async function mailbox(path: string): Promise<string> {
    return existsSync(path) ? readFile(path, 'utf8') : '';
  }

  it('procmail: spam and ham sorted, delivery deferred when the scanner is down', async (t) => {
    if (!requireComponent(t, 'procmail', missing('procmail'))) return;
    const box = join(dir, 'procmail');
    await mkdir(box);
    const rc = join(box, 'procmailrc');
    await writeFile(
      rc,
      [
        'SHELL=/bin/sh',
        ':0 fw',
        `| ${spamward} check --scanner $SCANNER`,
        '# spamward failed (75: scanner down): defer the delivery, do not deliver unfiltered',
        ':0 e',
        '{',
        '  EXITCODE=$?',
        '  HOST',
        '}',
        ':0',
        '* ^X-Spam-Flag: YES',
        `${box}/spam`,
        ':0',
        `${box}/inbox`,
        '',
      ].join('\n'),
    );
    const procmail = (input: string, scanner: string) =>
      deliver(['procmail', '-m', `SCANNER=${scanner}`, rc], input, scanner);
    assert.equal(procmail(SPAM, 'builtin').status, 0);
    assert.equal(procmail(HAM, 'builtin').status, 0);
    const down = procmail(HAM, 'spamd://127.0.0.1:1');
    assert.equal(down.status, 75, down.stderr);
    const spam = await mailbox(join(box, 'spam'));
    const inbox = await mailbox(join(box, 'inbox'));
    assert.equal(spam.match(/^X-Spam-Flag: YES$/gm)?.length, 1);
    assert.equal(
      inbox.match(/^X-Spam-Status: No, /gm)?.length,
      1,
      'the deferred copy is not there',
    );
    assert.match(inbox, /See you at noon on Thursday\./);
  });

  it('maildrop: xfilter, spam and ham sorted, EX_TEMPFAIL when the scanner is down', async (t) => {
    if (!requireComponent(t, 'maildrop', missing('maildrop'))) return;
    const box = join(dir, 'maildrop');
    await mkdir(box);
    const rc = join(box, 'mailfilter');
    await writeFile(
      rc,
      [
        `xfilter "${spamward} check --scanner $SCANNER"`,
        'if (/^X-Spam-Flag: YES/)',
        '{',
        `  to "${box}/spam"`,
        '}',
        `to "${box}/inbox"`,
        '',
      ].join('\n'),
    );
    await chmod(rc, 0o600);
    const maildrop = (input: string, scanner: string) => deliver(['maildrop', rc], input, scanner);
    assert.equal(maildrop(SPAM, 'builtin').status, 0);
    assert.equal(maildrop(HAM, 'builtin').status, 0);
    assert.equal(maildrop(HAM, 'spamd://127.0.0.1:1').status, 75);
    const spam = await mailbox(join(box, 'spam'));
    const inbox = await mailbox(join(box, 'inbox'));
    assert.equal(spam.match(/^X-Spam-Flag: YES$/gm)?.length, 1);
    assert.equal(inbox.match(/^X-Spam-Status: No, /gm)?.length, 1);
  });

  it('maildrop: a filter file rejects GTUBE with --exitcode and passes ham; --exec delivers into a Maildir through maildrop', async (t) => {
    if (!requireComponent(t, 'maildrop', missing('maildrop'))) return;
    const box = join(dir, 'maildrop-exitcode');
    const maildir = join(box, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
    // The Courier recipe: run spamward on the message, refuse it (EXITCODE 77) when it is spam.
    const rc = join(box, 'mailfilter');
    await writeFile(
      rc,
      [
        `RESULT=\`${spamward} check --exitcode --scanner $SCANNER\``,
        'if ($RETURNCODE == 1)',
        '{',
        '  echo "550 5.7.1 rejected as spam"',
        '  EXITCODE=77',
        '  exit',
        '}',
        `to "${maildir}/"`,
        '',
      ].join('\n'),
    );
    await chmod(rc, 0o600);
    const spam = deliver(['maildrop', rc], SPAM, 'builtin');
    assert.equal(spam.status, 77, spam.stderr);
    const ham = deliver(['maildrop', rc], HAM, 'builtin');
    assert.equal(ham.status, 0, ham.stderr);
    const delivered = await readdir(join(maildir, 'new'));
    assert.equal(delivered.length, 1, 'only the ham reached the Maildir');
    // --exec: spamward hands the tagged message to maildrop, which delivers it (no shell).
    const plain = join(box, 'deliver');
    await writeFile(plain, `to "${maildir}/"\n`);
    await chmod(plain, 0o600);
    const exec = deliver(
      [spamward, 'check', '--scanner', 'builtin', '--exec', 'maildrop', plain],
      SPAM,
      'builtin',
    );
    assert.equal(exec.status, 0, exec.stderr);
    const files = await readdir(join(maildir, 'new'));
    assert.equal(files.length, 2);
    const texts = await Promise.all(files.map((f) => readFile(join(maildir, 'new', f), 'utf8')));
    assert.equal(texts.filter((x) => /^X-Spam-Flag: YES$/m.test(x)).length, 1, 'the spam, tagged');
  });
});
