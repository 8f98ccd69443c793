/**
 * Started as root, the daemon refuses to stay root unless told to, or binds its socket and then
 * switches to an unprivileged user and group that own the socket and the built-in data dir.
 * Needs root (CI runs as root); skips loudly otherwise, fails under CI=true.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startSpamward } from '../support/daemon.ts';
import { FakeMta } from '../support/fake-mta.ts';
import { requireComponent } from '../support/require-component.ts';

const NOBODY = 65534; // Debian's nobody / nogroup
const notRoot = process.getuid?.() === 0 ? null : 'not running as root';

/** The real uid and gid of a process, from /proc. */
async function ids(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\t(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

describe('privileges', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-priv-'));
    await chmod(dir, 0o755); // the switched user must reach its data dir below
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('as root without user (and without allowRoot) it refuses to start, naming the key', (t) => {
    if (!requireComponent(t, 'root', notRoot)) return;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SPAMWARD_SCANNER_BUILTIN_DATA_DIR: join(dir, 'unused'),
    };
    delete env['SPAMWARD_ALLOW_ROOT'];
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'run', 'inet:0@127.0.0.1'],
      { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(out.status, 78, out.stderr);
    assert.match(out.stderr, /user: Spamward was started as root/);
  });

  it('with --user nobody --group nogroup it binds, hands over the socket and data dir, and switches', async (t) => {
    if (!requireComponent(t, 'root', notRoot)) return;
    const path = join(dir, 'milter.sock');
    const dataDir = join(dir, 'data');
    const daemon = await startSpamward(['--user', 'nobody', '--group', 'nogroup'], {
      socket: `unix:${path}`,
      env: {
        ...process.env,
        SPAMWARD_ALLOW_ROOT: 'false',
        SPAMWARD_SCANNER_BUILTIN_DATA_DIR: dataDir,
      },
    });
    try {
      assert.deepEqual(await ids(daemon.pid), { uid: NOBODY, gid: NOBODY });
      const socket = await stat(path);
      assert.deepEqual([socket.uid, socket.mode & 0o777], [NOBODY, 0o660]);
      assert.equal((await stat(dataDir)).uid, NOBODY);
      // The switched process still scans: the built-in engine opens its store as nobody.
      const mta = await FakeMta.connect({ path }, { timeoutMs: 20_000 });
      await mta.negotiate();
      const { eob } = await mta.message({ body: 'Hello there.\r\n' });
      assert.equal(eob.at(-1)?.kind, 'continue');
      assert.ok(
        eob.some((r) => r.kind === 'addheader'),
        'scanned and stamped',
      );
      await mta.quit();
      assert.match(daemon.output(), /"msg":"switched user"/);
    } finally {
      await daemon.stop();
    }
  });

  it('as root with allowRoot it runs as root and says so', async (t) => {
    if (!requireComponent(t, 'root', notRoot)) return;
    const daemon = await startSpamward(['--allow-root']);
    try {
      assert.equal((await ids(daemon.pid)).uid, 0);
      assert.match(daemon.output(), /"msg":"running as root \(allowRoot\)"/);
    } finally {
      await daemon.stop();
    }
  });
});
