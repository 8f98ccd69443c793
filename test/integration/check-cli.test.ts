import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { dateHeaderNow } from '../support/date.ts';
import { requireComponent } from '../support/require-component.ts';
import { getRspamd, type RspamdInstance, rspamdAvailable } from '../support/rspamd-server.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const MESSAGE = [
  'From: sender@example.org',
  'To: rcpt@example.net',
  'Subject: test',
  'Message-ID: <check-cli@example.org>',
  `Date: ${dateHeaderNow()}`,
  '',
  'This is the GTUBE, the Generic Test for Unsolicited Bulk Email.',
  GTUBE,
  '',
].join('\n');

function check(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'check', '--verdict', ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('spamward check --verdict --scanner URL FILE', () => {
  let dir = '';
  let file = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-check-'));
    file = join(dir, 'gtube.eml');
    await writeFile(file, MESSAGE);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('with spamd', () => {
    let spamd: SpamdEndpoints | undefined;
    after(() => spamd?.stop?.());

    it('prints score, action and symbols, and the normalised verdict with --json', async (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      spamd = await getSpamd();
      const text = check('--scanner', spamd.tcpUrl, '--verb', 'REPORT', file);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^scanner: spamd:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(text.stdout, /^score: {3}\d{4,}(\.\d+)? \/ 5 \(spam\)$/m);
      assert.match(text.stdout, /^action: {2}reject$/m);
      assert.match(text.stdout, /GTUBE\(1000\)/);
      const json = check('--scanner', spamd.tcpUrl, '--json', file);
      assert.equal(json.status, 0, json.stderr);
      const verdict = JSON.parse(json.stdout) as {
        isSpam: boolean;
        score: number;
        symbols: { name: string }[];
      };
      assert.equal(verdict.isSpam, true);
      assert.ok(verdict.score >= 1000);
      assert.ok(verdict.symbols.some((s) => s.name === 'GTUBE'));
    });

    it('reads the message from standard input with -', async (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      spamd ??= await getSpamd();
      const ham = MESSAGE.replace(GTUBE, 'See you at the meeting on Thursday.');
      const args = [
        'check',
        '--verdict',
        '--scanner',
        spamd.tcpUrl,
        '--ip',
        '203.0.113.9',
        '--helo',
        'mail.example.org',
        '-',
      ];
      const out = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        input: ham,
        timeout: 60_000,
      });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /\(ham\)/);
    });
  });

  describe('with rspamd', () => {
    let rspamd: RspamdInstance | undefined;
    after(() => rspamd?.stop?.());

    it('prints action reject for GTUBE, and JSON with --json', async (t) => {
      if (!requireComponent(t, 'rspamd', rspamdAvailable())) return;
      rspamd = await getRspamd();
      const text = check('--scanner', rspamd.url, file);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^action: {2}reject$/m);
      assert.match(text.stdout, /GTUBE/);
      const json = JSON.parse(check('--scanner', rspamd.url, '--json', file).stdout) as {
        action: string;
      };
      assert.equal(json.action, 'reject');
    });
  });

  it('fails with EX_TEMPFAIL and a typed error when the scanner is down', () => {
    const out = check('--scanner', 'spamd://127.0.0.1:1', '--timeout-ms', '2000', file);
    assert.equal(out.status, 75);
    assert.match(out.stderr, /SCANNER_CONNECTION_FAILED/);
  });

  it('rejects a bad URL, pipe-only flags or a missing file with the right exit code', () => {
    assert.equal(check('--scanner', 'http://x', file).status, 64);
    assert.equal(check('--exitcode', file).status, 64);
    assert.equal(check(file, '--exec', 'cat').status, 64);
    const missing = check('--scanner', 'spamd://127.0.0.1:1', join(dir, 'nope.eml'));
    assert.equal(missing.status, 66);
    assert.match(missing.stderr, /nope\.eml/);
  });
});
