import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { requireComponent } from '../support/require-component.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const PASSWORD = 'explain-secret-pw';

function message(body: string): string {
  return [
    'From: Alice <sender@example.org>',
    'To: rcpt@example.net',
    'Subject: hello',
    'Message-ID: <explain-cli@example.org>',
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    'X-Spam-Flag: YES',
    '',
    body,
    '',
  ].join('\n');
}
const SPAM = message(`This is the GTUBE, the Generic Test for Unsolicited Bulk Email.\n${GTUBE}`);
const HAM = message('Hi Bob,\n\nsee you at the meeting on Thursday.\n\nAlice');

const ENVELOPE = [
  '--from',
  'sender@example.org',
  '--rcpt',
  'rcpt@example.net',
  '--ip',
  '203.0.113.9',
  '--helo',
  'mail.example.org',
  '--hostname',
  'mail.example.org',
];

function explain(args: string[], env?: NodeJS.ProcessEnv, input?: string) {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'explain', ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      // Never the default data directory: no scanner configured means the built-in engine.
      env: env ?? {
        ...process.env,
        SPAMWARD_SCANNER_BUILTIN_DATA_DIR: join(tmpdir(), 'spamward-explain-none'),
      },
      ...(input === undefined ? {} : { input }),
    },
  );
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('spamward explain', () => {
  let dir = '';
  let spam = '';
  let ham = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-explain-'));
    spam = join(dir, 'gtube.eml');
    ham = join(dir, 'ham.eml');
    await writeFile(spam, SPAM);
    await writeFile(ham, HAM);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('with spamd', () => {
    let spamd: SpamdEndpoints | undefined;
    let config = '';
    before(async () => {
      if (spamdAvailable() !== null) return;
      spamd = await getSpamd();
      config = join(dir, 'spamward.yaml');
      await writeFile(
        config,
        [
          'scanner:',
          `  urls: ["${spamd.tcpUrl}"]`,
          `  rspamd: { password: ${PASSWORD} }`,
          'subjectTag: { enabled: true }',
          'actions: { reject: "required + 5" }',
          '',
        ].join('\n'),
      );
    });
    after(() => spamd?.stop?.());

    it('GTUBE: the verdict, the reject decision and its 550 reply', (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      const out = explain(['--config', config, ...ENVELOPE, spam]);
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /^ {2}MAIL FROM +<sender@example\.org>$/m);
      assert.match(out.stdout, /^ {2}scan mode +scan$/m);
      assert.match(out.stdout, /^ {2}answered by +spamd:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(out.stdout, /^ {2}score +\d{4,}(\.\d+)? \/ 5 \(spam\)$/m);
      assert.match(out.stdout, / 1000 {2}GTUBE /);
      assert.match(out.stdout, /^ {2}action +reject: score [\d.]+ >= reject threshold 10$/m);
      const ref = /^ {2}ref +([0-9a-f]{10})$/m.exec(out.stdout)?.[1];
      assert.ok(ref !== undefined, out.stdout);
      assert.match(
        out.stdout,
        new RegExp(
          `^ {2}550 5\\.7\\.1 Message rejected as spam \\(score [\\d.]+, ref ${ref}\\)$`,
          'm',
        ),
      );
      assert.doesNotMatch(out.stdout, new RegExp(PASSWORD));

      const json = explain(['--config', config, ...ENVELOPE, '--json', spam]);
      assert.equal(json.status, 0, json.stderr);
      assert.doesNotMatch(json.stdout, new RegExp(PASSWORD));
      const report = JSON.parse(json.stdout) as {
        engine: string;
        scan: { status: string; verdict: { isSpam: boolean; symbols: { name: string }[] } };
        decision: { verdict: string; action: string };
        reply: { code: number };
        resultingMessage?: unknown;
      };
      assert.equal(report.engine, 'scanner');
      assert.equal(report.scan.status, 'scanned');
      assert.equal(report.scan.verdict.isSpam, true);
      assert.ok(report.scan.verdict.symbols.some((s) => s.name === 'GTUBE'));
      assert.equal(report.decision.verdict, 'reject');
      assert.equal(report.reply.code, 550);
      assert.equal(report.resultingMessage, undefined);
    });

    it('ham from standard input: accepted with the header changes and the resulting message', (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      const out = explain(['--config', config, ...ENVELOPE, '--show-message', '-'], undefined, HAM);
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /^ {2}score +-?[\d.]+ \/ 5 \(ham\)$/m);
      assert.match(out.stdout, /^ {2}action +accept: ham: /m);
      assert.match(out.stdout, /^ {2}- X-Spam-Flag\[1\]$/m);
      assert.match(out.stdout, /^ {2}\+ X-Spam-Status: No, score=/m);
      assert.match(out.stdout, /^ {2}250 accepted$/m);
      const shown = out.stdout.slice(out.stdout.indexOf('Resulting message\n'));
      assert.match(shown, /^Subject: hello$/m);
      assert.match(shown, /^X-Spam-Status: No, score=/m);
      assert.doesNotMatch(shown, /^X-Spam-Flag: YES$/m);
      assert.match(shown, /see you at the meeting on Thursday\.\n\nAlice\n$/);

      const json = JSON.parse(explain(['--config', config, ...ENVELOPE, '--json', ham]).stdout) as {
        decision: { verdict: string };
        changes: { kind: string; name?: string; line: string }[];
      };
      assert.equal(json.decision.verdict, 'accept');
      assert.ok(json.changes.some((c) => c.kind === 'delete-header' && c.name === 'X-Spam-Flag'));
    });

    it('a scanner that is down: the failure class and what the failure policy does', (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      const out = explain([
        '--config',
        config,
        '--scanner',
        'spamd://127.0.0.1:1',
        ...ENVELOPE,
        spam,
      ]);
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /^ {2}failed +SCANNER_ALL_DOWN: /m);
      assert.match(out.stdout, /^ {2}policy +failure\.unavailable: tempfail$/m);
      assert.match(
        out.stdout,
        /^ {2}451 4\.7\.1 Spam filter unavailable \(ref [0-9a-f]+\); try again later$/m,
      );
    });
  });

  describe('with no scanner configured (the built-in engine)', () => {
    it('scores GTUBE with the built-in engine, in text and JSON', () => {
      const env = { ...process.env, SPAMWARD_SCANNER_BUILTIN_DATA_DIR: join(dir, 'builtin') };
      const gtube = explain([...ENVELOPE, spam], env);
      assert.equal(gtube.status, 0, gtube.stderr);
      assert.match(gtube.stdout, /^ {2}answered by +builtin$/m);
      assert.match(gtube.stdout, /GTUBE/);
      const json = JSON.parse(explain([...ENVELOPE, '--json', ham], env).stdout) as {
        engine: string;
        scanners: string[];
        reply: { lines: string[] };
      };
      assert.equal(json.engine, 'builtin');
      assert.deepEqual(json.scanners, ['builtin']);
      assert.deepEqual(json.reply.lines, ['250 accepted']);
    });
  });

  it('exit codes: usage 64, no input 66, configuration 78', async () => {
    assert.equal(explain([spam]).status, 64);
    assert.equal(explain([...ENVELOPE, '--bogus', spam]).status, 64);
    const missing = explain([...ENVELOPE, join(dir, 'nope.eml')]);
    assert.equal(missing.status, 66);
    assert.match(missing.stderr, /nope\.eml/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'scanner: { urlz: [] }\n');
    const config = explain(['--config', bad, ...ENVELOPE, spam]);
    assert.equal(config.status, 78);
    assert.match(config.stderr, /urlz/);
  });
});
