import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string })
  .version;

function spamward(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('spamward CLI', () => {
  it('prints its version', () => {
    const out = spamward('--version');
    assert.equal(out.status, 0);
    assert.equal(out.stdout, `spamward ${VERSION}\n`);
  });

  it('exits 64 (EX_USAGE) on an unknown command or flag, naming it', () => {
    const unknown = spamward('frobnicate');
    assert.equal(unknown.status, 64);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = spamward('run', '--no-such-flag');
    assert.equal(flag.status, 64);
    assert.match(flag.stderr, /no-such-flag/);
  });

  it('exits 78 (EX_CONFIG) on a bad socket, naming it and the accepted forms', () => {
    const out = spamward('run', 'tcp:25');
    assert.equal(out.status, 78);
    assert.match(out.stderr, /invalid socket "tcp:25".*inet:PORT@HOST/);
  });
});
