import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ledger } from '../mailbox/ledger.ts';
import {
  ConnectionError,
  LearnUnsupportedError,
  ScanAbortedError,
  ServerError,
} from '../scanners/errors.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from '../scanners/scanner.ts';
import { parseLearnArgs } from './learn.ts';
import { renderProgress, summaryText } from './learn-output.ts';
import { classifyLearnError, type LearnJob, runLearn } from './learn-run.ts';
import { jobsFromTraining } from './learn-sources.ts';
import { LearnTally } from './learn-summary.ts';

/** A scanner that remembers what it learned and answers from `behave`. */
class FakeScanner implements Scanner {
  readonly url = 'fake://';
  readonly seen: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly behave: (subject: string, kind: LearnKind) => LearnResult | Error;
  constructor(behave?: (subject: string, kind: LearnKind) => LearnResult | Error) {
    this.behave = behave ?? (() => ({ learned: true }));
  }
  scan(): never {
    throw new Error('not used');
  }
  async ping(): Promise<void> {}
  async learn(kind: LearnKind, request: ScanRequest): Promise<LearnResult> {
    const subject = /^Subject: (.*)$/m.exec(request.message.toString())?.[1]?.trim() ?? '';
    this.seen.push(subject);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 25));
    this.inFlight--;
    const answer = this.behave(subject, kind);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spamward-learn-run-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const mail = (subject: string) =>
  `Subject: ${subject}\nMessage-ID: <${subject}@x>\n\n${subject} body\n`;

async function files(name: string, subjects: string[]): Promise<LearnJob[]> {
  await mkdir(join(dir, name), { recursive: true });
  const jobs: LearnJob[] = [];
  for (const s of subjects) {
    const path = join(dir, name, s);
    await writeFile(path, mail(s));
    jobs.push({ path, folder: name, kind: 'spam' });
  }
  return jobs;
}

const options = (scanner: Scanner, extra = {}) => ({
  scanner,
  scannerId: 'fake://',
  timeoutMs: 5_000,
  ...extra,
});

describe('runLearn', () => {
  it('learns every message of files and mboxes, at most 4 at once', async () => {
    const jobs = await files('plain', ['a', 'b', 'c', 'd', 'e', 'f']);
    const mbox = join(dir, 'plain.mbox');
    await writeFile(mbox, `From x\n${mail('m1')}\nFrom y\n${mail('m2')}`);
    jobs.push({ path: mbox, folder: 'box', kind: 'spam' });
    const scanner = new FakeScanner((s) => ({ learned: s !== 'b' }));
    const tally = new LearnTally('fake://');
    await runLearn(jobs, tally, options(scanner));
    assert.deepEqual([...scanner.seen].sort(), ['a', 'b', 'c', 'd', 'e', 'f', 'm1', 'm2']);
    assert.equal(scanner.maxInFlight, 4);
    const summary = tally.summary();
    assert.deepEqual([summary.learned, summary.skipped, summary.failed], [7, 1, 0]);
    assert.equal(summary.byFolder['box']?.learned, 2);
    assert.equal(tally.exitCode(), 0);
  });

  it('skips what the ledger knows, and records what it learned', async () => {
    const jobs = await files('ledger', ['g', 'h']);
    const lines: string[] = [];
    const ledger = new Ledger(new Map(), async (l) => void lines.push(l));
    const first = new FakeScanner();
    await runLearn(jobs, new LearnTally('fake://'), options(first, { ledger }));
    assert.equal(lines.length, 2);
    const again = new FakeScanner();
    const tally = new LearnTally('fake://');
    await runLearn(jobs, tally, options(again, { ledger }));
    assert.deepEqual(again.seen, [], 'the scanner is not asked again');
    assert.equal(tally.summary().skipped, 2);
  });

  it('reports a refused message and goes on (65)', async () => {
    const jobs = await files('refused', ['i', 'j', 'k']);
    const scanner = new FakeScanner((s) =>
      s === 'j' ? new ServerError('fake://', 400, 'too big', false) : { learned: true },
    );
    const tally = new LearnTally('fake://');
    await runLearn(jobs, tally, options(scanner));
    const summary = tally.summary();
    assert.deepEqual([summary.learned, summary.failed], [2, 1]);
    assert.equal(summary.errors[0]?.code, 'SCANNER_SERVER_ERROR');
    assert.match(summary.errors[0]?.path ?? '', /refused\/j$/);
    assert.equal(tally.exitCode(), 65);
  });

  it('stops when the scanner is down (75) and moves nothing unlearned', async () => {
    const root = join(dir, 'md');
    for (const sub of ['cur', 'new', 'tmp'])
      await mkdir(join(root, '.Train', sub), { recursive: true });
    for (let i = 0; i < 20; i++)
      await writeFile(join(root, '.Train', 'new', `m${i}`), mail(`n${i}`));
    const jobs = await jobsFromTraining(
      { roots: [root], spamFolders: ['.Train'], hamFolders: [], moveTo: '.Trash' },
      new LearnTally('fake://'),
    );
    assert.equal(jobs.length, 20);
    const scanner = new FakeScanner((s) =>
      s === 'n0' ? { learned: true } : new ConnectionError('fake://', 'refused'),
    );
    const tally = new LearnTally('fake://');
    await runLearn(jobs, tally, options(scanner, { concurrency: 1 }));
    const summary = tally.summary();
    assert.equal(summary.stopped?.code, 'SCANNER_CONNECTION_FAILED');
    assert.deepEqual([summary.learned, summary.failed, summary.moved], [1, 1, 1]);
    assert.equal(scanner.seen.length, 2, 'no more calls after the failure');
    assert.equal(tally.exitCode(), 75);
    assert.deepEqual(await readdir(join(root, '.Trash', 'cur')), ['m0']);
    assert.equal((await readdir(join(root, '.Train', 'new'))).length, 19);
  });

  it('stops with 78 when the scanner cannot learn', async () => {
    const jobs = await files('unsupported', ['p', 'q']);
    const scanner = new FakeScanner(() => new LearnUnsupportedError('fake://', 'no TELL'));
    const tally = new LearnTally('fake://');
    await runLearn(jobs, tally, options(scanner, { concurrency: 1 }));
    assert.equal(tally.exitCode(), 78);
    assert.equal(scanner.seen.length, 1);
  });

  it('counts a file that is no e-mail as failed (65) without asking the scanner', async () => {
    await mkdir(join(dir, 'junk'), { recursive: true });
    const path = join(dir, 'junk', 'notes.txt');
    await writeFile(path, 'just some notes\nnothing else\n');
    const scanner = new FakeScanner();
    const tally = new LearnTally('fake://');
    await runLearn([{ path, folder: 'junk', kind: 'ham' }], tally, options(scanner));
    assert.deepEqual(scanner.seen, []);
    assert.equal(tally.summary().errors[0]?.code, 'NOT_A_MESSAGE');
    assert.equal(tally.exitCode(), 65);
  });
});

describe('classifyLearnError', () => {
  it('sorts failures into stop-the-run and per-message ones', () => {
    const c = (e: unknown, timedOut = false) => {
      const f = classifyLearnError(e, timedOut);
      return [f.code, f.exit, f.fatal];
    };
    assert.deepEqual(c(new ConnectionError('x', 'refused')), [
      'SCANNER_CONNECTION_FAILED',
      75,
      true,
    ]);
    assert.deepEqual(c(new ScanAbortedError('x'), true), ['LEARN_TIMEOUT', 75, true]);
    assert.deepEqual(c(new ServerError('x', 503, 'busy', true)), [
      'SCANNER_SERVER_ERROR',
      75,
      true,
    ]);
    assert.deepEqual(c(new ServerError('x', 400, 'bad', false)), [
      'SCANNER_SERVER_ERROR',
      65,
      false,
    ]);
    assert.deepEqual(c(new LearnUnsupportedError('x', 'no')), [
      'SCANNER_LEARN_UNSUPPORTED',
      78,
      true,
    ]);
    assert.deepEqual(c(new TypeError('bug')), ['INTERNAL_ERROR', 70, false]);
  });
});

describe('LearnTally', () => {
  it('exits with the most serious problem', () => {
    const tally = new LearnTally('x');
    tally.error('a', 'EMPTY_MESSAGE', 'empty', 65);
    tally.error('b', 'PATH_NOT_FOUND', 'missing', 66);
    assert.equal(tally.exitCode(), 66);
    tally.stop('SCANNER_ALL_DOWN', 'down', 75);
    assert.equal(tally.exitCode(), 75);
  });
});

describe('parseLearnArgs', () => {
  it('takes one class and PATHs, or the training loop', () => {
    const paths = parseLearnArgs(['--ham', '--json', 'a', 'b']);
    assert.ok(paths !== 'help' && paths.mode.kind === 'paths');
    assert.deepEqual(paths.mode.kind === 'paths' && paths.mode.paths, ['a', 'b']);
    const loop = parseLearnArgs([
      '--maildir-root',
      '/home/*/Maildir',
      '--spam-folder',
      '.S',
      '--move-to',
      '.T',
    ]);
    assert.ok(loop !== 'help' && loop.mode.kind === 'training');
  });

  it('refuses contradictions as usage errors', () => {
    const bad = [
      [],
      ['a'],
      ['--spam', '--ham', 'a'],
      ['--spam'],
      ['--spam', '--move-to', '.T', 'a'],
      ['--maildir-root', '/m', '--spam', '--spam-folder', '.S'],
      ['--maildir-root', '/m'],
      ['--maildir-root', '/m', '--spam-folder', '../x'],
      ['--maildir-root', '/m', '--spam-folder', '.S', '--move-to', '.S'],
      ['--spam', '--ledger', 'f', '--no-ledger', 'a'],
      ['--spam', '--scanner', 'http://x', 'a'],
      ['--spam', '--timeout-ms', '0', 'a'],
    ];
    for (const args of bad)
      assert.throws(
        () => parseLearnArgs(args),
        { code: /CLI_USAGE|BAD_SCANNER_URL/ },
        args.join(' '),
      );
  });
});

describe('learn output', () => {
  it('draws a progress bar and a text summary', () => {
    const line = renderProgress(
      { filesDone: 5, filesTotal: 10, learned: 4, skipped: 1, failed: 0, moved: 0 },
      10,
    );
    assert.equal(line, '[#####-----]  50% 5/10 files: 4 learned, 1 skipped, 0 failed');
    const tally = new LearnTally('builtin');
    tally.count('/m/.Train.Spam', 'spam', 'learned');
    tally.moved('/m/.Train.Spam', 'spam');
    assert.match(
      summaryText(tally.summary()),
      /spam {3}\/m\/\.Train\.Spam: 1 learned, 0 skipped, 0 failed, 1 moved/,
    );
  });
});
