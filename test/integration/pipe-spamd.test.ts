/**
 * `spamward check` as a pipe with a real spamd: GTUBE tagged with SpamAssassin-style headers
 * (our profile with REPORT, SpamAssassin's own with PROCESS), and a ham body kept byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { dateHeaderNow } from '../support/date.ts';
import { requireComponent } from '../support/require-component.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const HEAD = [
  'From: Alice <alice@example.org>',
  'To: bob@example.net',
  'Subject: lunch',
  'Message-ID: <pipe-spamd@example.org>',
  `Date: ${dateHeaderNow()}`,
].join('\n');
const HAM_BODY = Buffer.from(
  `Caf\xe9 at noon on Thursday?\n${'see you there '.repeat(300)}\n\nBob`,
  'latin1',
);

describe('spamward check: pipe mode with spamd', () => {
  let spamd: SpamdEndpoints | undefined;
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-pipe-spamd-'));
  });
  after(async () => {
    await spamd?.stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  async function check(verb: string, args: string[], input: Buffer | string) {
    spamd ??= await getSpamd();
    const config = join(dir, `${verb}.yaml`);
    await writeFile(config, `scanner:\n  urls: ["${spamd.tcpUrl}"]\n  spamd: { verb: ${verb} }\n`);
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'check', '-c', config, '--no-env', ...args],
      { cwd: REPO_ROOT, input, timeout: 60_000 },
    );
    return { status: out.status, stdout: out.stdout, stderr: out.stderr.toString() };
  }

  it('REPORT: GTUBE tagged with X-Spam-Flag and X-Spam-Status naming GTUBE, exit 1 with -E', async (t) => {
    if (!requireComponent(t, 'spamd', spamdAvailable())) return;
    const out = await check('REPORT', ['-E'], `${HEAD}\n\n${GTUBE}\n`);
    assert.equal(out.status, 1, out.stderr);
    const text = out.stdout.toString();
    assert.match(text, /^X-Spam-Flag: YES$/m);
    assert.match(text, /^X-Spam-Status: Yes, score=\d+(\.\d+)? required=5\.0 tests=[^\n]*GTUBE/m);
    assert.match(text, /^X-Spam-Checker-Version: Spamward [^\n]*spamd/m);
  });

  it("PROCESS: SpamAssassin's own headers on GTUBE", async (t) => {
    if (!requireComponent(t, 'spamd', spamdAvailable())) return;
    const out = await check('PROCESS', [], `${HEAD}\n\n${GTUBE}\n`);
    assert.equal(out.status, 0, out.stderr);
    const text = out.stdout.toString();
    assert.match(text, /^X-Spam-Checker-Version: SpamAssassin /m);
    assert.match(text, /^X-Spam-Flag: YES$/m);
  });

  for (const verb of ['REPORT', 'PROCESS']) {
    it(`${verb}: a ham body (8-bit, long lines, no final newline) comes out byte for byte`, async (t) => {
      if (!requireComponent(t, 'spamd', spamdAvailable())) return;
      const out = await check(verb, ['-E'], Buffer.concat([Buffer.from(`${HEAD}\n\n`), HAM_BODY]));
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout.toString('latin1'), /^X-Spam-Status: No, /m);
      assert.ok(out.stdout.subarray(out.stdout.length - HAM_BODY.length).equals(HAM_BODY));
    });
  }
});
