/**
 * `spamward check` as a pipe / LDA wrapper, the real CLI with the built-in engine (a temp token
 * store): the message on stdout with Spamward's headers, exit codes for spamc -E and for
 * maildrop's backticks, `--exec` delivery without a shell, scanner failures and the body kept
 * byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { dateHeaderNow } from '../support/date.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const HEAD = [
  'Return-Path: <alice@example.org>',
  'Delivered-To: bob@example.net',
  'From: Alice <alice@example.org>',
  'To: bob@example.net',
  'Subject: lunch',
  'Message-ID: <pipe-builtin@example.org>',
  `Date: ${dateHeaderNow()}`,
].join('\n');
const SPAM = `${HEAD}\n\nThis is the GTUBE.\n${GTUBE}\n`;
/** 8-bit bytes, a 3000-byte line, CRLF inside an LF message, and no final newline. */
const HAM_BODY = Buffer.from(
  `Caf\xe9 at noon? \xa4\xff\n${'long '.repeat(600)}\n\r\nsee you\n\nBob`,
  'latin1',
);
const HAM = Buffer.concat([Buffer.from(`${HEAD}\n\n`), HAM_BODY]);

/** Variables a delivering program sets: removed so that the host's own never leak in. */
const ENVELOPE_VARS = [
  'SENDER',
  'RECIPIENT',
  'CLIENT_ADDRESS',
  'CLIENT_HELO',
  'CLIENT_HOSTNAME',
  'SASL_USERNAME',
  'TCPREMOTEIP',
  'TCPREMOTEHOST',
];

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

describe('spamward check: pipe / LDA mode with the built-in engine', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let lda = '';

  function check(args: string[], input: string | Buffer, extraEnv: NodeJS.ProcessEnv = {}): Run {
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args],
      { cwd: REPO_ROOT, input, env: { ...env, ...extraEnv }, timeout: 60_000 },
    );
    return { status: out.status, stdout: out.stdout, stderr: out.stderr.toString() };
  }

  async function config(name: string, yaml: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, yaml);
    return file;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-pipe-'));
    env = { ...process.env, SPAMWARD_SCANNER_BUILTIN_DATA_DIR: join(dir, 'builtin') };
    for (const name of ENVELOPE_VARS) delete env[name];
    // A delivery agent: stdin to argv[2], its argv as JSON to argv[2].args, exit with argv[3].
    lda = join(dir, 'lda.mjs');
    await writeFile(
      lda,
      [
        "import { writeFileSync } from 'node:fs';",
        'const chunks = [];',
        'for await (const c of process.stdin) chunks.push(c);',
        'const [out, code] = process.argv.slice(2);',
        'writeFileSync(out, Buffer.concat(chunks));',
        "writeFileSync(out + '.args', JSON.stringify(process.argv.slice(2)));",
        'process.exit(Number(code));',
      ].join('\n'),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes GTUBE with X-Spam-Flag: YES and the status to stdout, exit 0', () => {
    const out = check([], SPAM);
    assert.equal(out.status, 0, out.stderr);
    const text = out.stdout.toString();
    assert.match(text, /^X-Spam-Flag: YES$/m);
    assert.match(text, /^X-Spam-Status: Yes, score=\d+(\.\d+)? required=5\.0 tests=GTUBE/m);
    assert.ok(text.startsWith(`${HEAD}\n`), 'the original header block comes first, unchanged');
    assert.ok(text.endsWith(`\n\nThis is the GTUBE.\n${GTUBE}\n`), 'the body is unchanged');
  });

  it('--exitcode (-E): 1 for GTUBE, 0 for ham, the message written either way', () => {
    const spam = check(['--exitcode'], SPAM);
    assert.equal(spam.status, 1, spam.stderr);
    assert.match(spam.stdout.toString(), /^X-Spam-Flag: YES$/m);
    const ham = check(['-E'], HAM);
    assert.equal(ham.status, 0, ham.stderr);
    assert.match(ham.stdout.toString(), /^X-Spam-Status: No, /m);
  });

  it('keeps the ham body byte for byte (8-bit, long lines, no final newline)', () => {
    const out = check([], HAM);
    assert.equal(out.status, 0, out.stderr);
    assert.ok(out.stdout.subarray(out.stdout.length - HAM_BODY.length).equals(HAM_BODY));
    assert.ok(out.stdout.subarray(0, HEAD.length + 1).equals(Buffer.from(`${HEAD}\n`)));
    const crlf = Buffer.concat([Buffer.from(`${HEAD.replaceAll('\n', '\r\n')}\r\n\r\n`), HAM_BODY]);
    const viaCrlf = check([], crlf).stdout;
    assert.ok(viaCrlf.subarray(viaCrlf.length - HAM_BODY.length).equals(HAM_BODY));
    assert.match(viaCrlf.toString('latin1'), /\r\nX-Spam-Status: No, [^\n]*\r\n/);
    const mbox = Buffer.concat([
      Buffer.from('From alice@example.org Thu Jan  1 00:00:00 2026\n'),
      HAM,
    ]);
    assert.ok(check([], mbox).stdout.toString('latin1').startsWith('From alice@example.org Thu'));
  });

  it('--reject-text: only the SMTP reply for spam, nothing for ham', () => {
    const spam = check(['--reject-text'], SPAM);
    assert.equal(spam.status, 1, spam.stderr);
    assert.match(
      spam.stdout.toString(),
      /^550 5\.7\.1 Message rejected as spam \(score \d+(\.\d+)?, ref [0-9a-f]{10}\)\n$/,
    );
    const ham = check(['--reject-text'], HAM);
    assert.equal(ham.status, 0, ham.stderr);
    assert.equal(ham.stdout.length, 0);
  });

  it('--exec: the agent gets the tagged message and its argv verbatim; its exit code is ours', async () => {
    const file = join(dir, 'delivered-1');
    const tricky = ['a b', '$HOME', '; rm -rf /', '`id`', '*', '\'"', '--exec'];
    const out = check(['-', '--exec', process.execPath, lda, file, '7', ...tricky], SPAM);
    assert.equal(out.status, 7, out.stderr);
    assert.equal(out.stdout.length, 0, 'nothing on our stdout');
    assert.match(await readFile(file, 'utf8'), /^X-Spam-Flag: YES$/m);
    const argv = JSON.parse(await readFile(`${file}.args`, 'utf8')) as string[];
    assert.deepEqual(argv, [file, '7', ...tricky]);
    const ham = check(['--exec', process.execPath, lda, join(dir, 'delivered-2'), '0'], HAM);
    assert.equal(ham.status, 0, ham.stderr);
    const delivered = await readFile(join(dir, 'delivered-2'));
    assert.ok(delivered.subarray(delivered.length - HAM_BODY.length).equals(HAM_BODY));
  });

  it('--exec: an agent that cannot be started is EX_TEMPFAIL', () => {
    const out = check(['--exec', join(dir, 'no-such-lda'), '-d', 'bob'], HAM);
    assert.equal(out.status, 75);
    assert.match(out.stderr, /no-such-lda.*ENOENT/);
  });

  it('a reject by score is tagged, not refused; --reject-text prints the configured reply', async () => {
    const file = await config(
      'reject.yaml',
      'actions:\n  reject: 100\n  rejectReply: { text: "Go away (%{score})" }\nsubjectTag: { enabled: true }\n',
    );
    const out = check(['-c', file], SPAM);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout.toString(), /^X-Spam-Flag: YES$/m);
    assert.match(out.stdout.toString(), /^Subject: \[SPAM\] lunch$/m);
    const text = check(['-c', file, '--reject-text'], SPAM);
    assert.equal(text.status, 1);
    assert.match(text.stdout.toString(), /^550 5\.7\.1 Go away \(\d+(\.\d+)?\)\n$/);
  });

  it('a discard runs no agent with --exec (exit 0), and is spam for --exitcode', async () => {
    const file = await config('discard.yaml', 'actions:\n  discard: 100\n');
    const delivered = join(dir, 'discarded');
    const out = check(['-c', file, '--exec', process.execPath, lda, delivered, '0'], SPAM);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(existsSync(delivered), false, 'the delivery agent never ran');
    const flagged = check(['-c', file, '-E'], SPAM);
    assert.equal(flagged.status, 1);
    assert.match(flagged.stdout.toString(), /^X-Spam-Flag: YES$/m);
  });

  it('scanner down: EX_TEMPFAIL and nothing written; failure.unavailable accept passes it stamped', async () => {
    const down = ['--scanner', 'spamd://127.0.0.1:1'];
    const out = check(down, HAM);
    assert.equal(out.status, 75, out.stderr);
    assert.equal(out.stdout.length, 0);
    assert.match(out.stderr, /SCANNER_ALL_DOWN/);
    const text = check([...down, '--reject-text'], HAM);
    assert.equal(text.status, 75);
    assert.match(text.stdout.toString(), /^451 4\.7\.1 /);
    const accept = await config('accept.yaml', 'failure:\n  unavailable: accept\n');
    const passed = check([...down, '-c', accept, '-E'], SPAM);
    assert.equal(passed.status, 0, passed.stderr);
    assert.match(
      passed.stdout.toString(),
      /^X-Spam-Checker: unavailable \(SCANNER_ALL_DOWN, ref [0-9a-f]{10}\)$/m,
    );
    assert.doesNotMatch(passed.stdout.toString(), /X-Spam-Flag/);
    const reject = await config('reject-failure.yaml', 'failure:\n  unavailable: reject\n');
    assert.equal(check([...down, '-c', reject], HAM).status, 69);
  });

  it('applies the trust rules to the client the MTA exports, unless --no-env', () => {
    const trusted = check(['-E'], SPAM, { CLIENT_ADDRESS: '127.0.0.1' });
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.doesNotMatch(trusted.stdout.toString(), /X-Spam-Flag/);
    const ignored = check(['-E', '--no-env'], SPAM, { CLIENT_ADDRESS: '127.0.0.1' });
    assert.equal(ignored.status, 1, ignored.stderr);
    const untrusted = check(['-E'], SPAM, { CLIENT_ADDRESS: '203.0.113.9' });
    assert.equal(untrusted.status, 1, untrusted.stderr);
  });

  it('passes a message above --max-input-bytes on whole, unscanned and unchanged', () => {
    const out = check(['-E', '--max-input-bytes', '100'], SPAM);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.toString(), SPAM);
    assert.match(out.stderr, /larger than 100 bytes/);
  });

  it('reports usage and input errors with sysexits codes', () => {
    assert.equal(check(['--exec'], HAM).status, 64);
    assert.equal(check(['-E', '--exec', 'cat'], HAM).status, 64);
    assert.equal(check([join(dir, 'missing.eml')], '').status, 66);
  });
});
