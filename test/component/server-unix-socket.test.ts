/**
 * Unix socket housekeeping: a stale socket file from a killed daemon is replaced, a live one or
 * a regular file is left alone, the mode defaults to 0660, and the file goes away on close.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { kinds, startServer } from './harness.ts';

/** Leaves a socket file behind the way a SIGKILLed daemon does (libuv unlinks on a clean close). */
function leaveStaleSocket(path: string): void {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: 5000 });
  assert.equal(result.signal, 'SIGKILL', result.stderr.toString());
}

describe('the unix socket', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-unix-'));
    path = join(dir, 'milter.sock');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replaces a stale socket file and serves on it', async (t) => {
    leaveStaleSocket(path);
    assert.ok((await stat(path)).isSocket());
    const h = await startServer(undefined, { transport: 'unix', path });
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const { steps } = await mta.run([
      {
        command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
        reply: false,
      },
      { command: { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] }, reply: true },
    ]);
    assert.deepEqual(kinds(steps), ['continue']);
    await mta.quit();
  });

  it('refuses to replace a regular file', async () => {
    await writeFile(path, 'precious');
    await assert.rejects(startServer(undefined, { transport: 'unix', path }), /not a socket/);
    assert.equal(await readFile(path, 'utf8'), 'precious');
  });

  it('refuses a socket another process is listening on', async (t) => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(path, resolve));
    t.after(() => new Promise<void>((resolve) => other.close(() => resolve())));
    await assert.rejects(startServer(undefined, { transport: 'unix', path }), /in use/);
  });

  it('is created with mode 0660 by default, or the mode asked for', async (t) => {
    const h = await startServer(undefined, { transport: 'unix', path });
    t.after(() => h.stop());
    assert.equal((await stat(path)).mode & 0o777, 0o660);
    const other = join(dir, 'other.sock');
    const h2 = await startServer(undefined, { transport: 'unix', path: other, unixMode: 0o600 });
    t.after(() => h2.stop());
    assert.equal((await stat(other)).mode & 0o777, 0o600);
  });

  it('is removed when the server closes', async () => {
    const h = await startServer(undefined, { transport: 'unix', path });
    await h.stop();
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });
});
