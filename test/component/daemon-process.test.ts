import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Proto } from '../../src/milter/constants.ts';
import { startSpamward } from '../support/daemon.ts';
import { FakeMta } from '../support/fake-mta.ts';

/** True when this machine can bind IPv6 loopback (some containers have no ::1). */
async function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

describe('the spamward process', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('on SIGTERM closes idle MTA connections, exits 0 and removes its unix socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spamward-proc-'));
    dirs.push(dir);
    const path = join(dir, 'milter.sock');
    const daemon = await startSpamward([], { socket: `unix:${path}` });
    assert.equal(daemon.socket, `unix:${path}`);
    assert.equal((await stat(path)).mode & 0o777, 0o660);
    // Like Postfix, this MTA keeps its side open and does not read an idle milter socket.
    const mta = await FakeMta.connect({ path }, { allowHalfOpen: true });
    await mta.negotiate();
    const replies = await mta.message({ body: 'hello\r\n' });
    assert.ok(replies.eob.some((r) => r.kind === 'addheader'));
    await mta.send({ kind: 'abort' });
    const started = performance.now();
    const exit = await daemon.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output());
    assert.ok(performance.now() - started < 5_000, 'an idle connection must not hold the shutdown');
    assert.match(daemon.output(), /"connections":1,.*"msg":"stopping"/);
    mta.destroy();
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.match(daemon.output(), /"msg":"stopped"/);
  });

  it('asks for RCPT replies only when a recipient gate can refuse (access map, recipient cap)', async () => {
    for (const [env, answered] of [
      [{}, false],
      [{ SPAMWARD_TRUST_MAX_RECIPIENTS: '2' }, true],
    ] as const) {
      const daemon = await startSpamward([], { env: { ...process.env, ...env } });
      try {
        const mta = await FakeMta.connect({ port: daemon.port });
        const reply = await mta.negotiate();
        assert.equal((reply.protocol & Proto.NrRcpt) === 0, answered, JSON.stringify(env));
        for (const flag of [Proto.NrConn, Proto.NrHelo, Proto.NrMail, Proto.NrBody]) {
          assert.notEqual(reply.protocol & flag, 0, `flag ${flag} not agreed`);
        }
        const { steps, eob } = await mta.message({ body: 'hello\r\n' });
        assert.deepEqual(
          steps.map((r) => r.kind),
          answered ? ['continue'] : [],
        );
        assert.ok(eob.some((r) => r.kind === 'addheader'));
        await mta.quit();
      } finally {
        await daemon.stop();
      }
    }
  });

  it('listens on inet6 loopback', async (t) => {
    if (!(await hasIpv6Loopback())) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    const daemon = await startSpamward([], { socket: 'inet6:0@::1' });
    try {
      assert.match(daemon.socket, /^inet6:\d+@::1$/);
      const mta = await FakeMta.connect({ port: daemon.port, host: '::1' });
      await mta.negotiate();
      const replies = await mta.message({ body: 'hello\r\n' });
      assert.ok(replies.eob.some((r) => r.kind === 'addheader'));
      await mta.quit();
    } finally {
      await daemon.stop();
    }
  });

  it('--verbose logs the protocol trace with names and sizes, never header values or body text', async () => {
    const daemon = await startSpamward(['--verbose']);
    try {
      const mta = await FakeMta.connect({ port: daemon.port });
      await mta.negotiate();
      await mta.message({
        headers: [['X-Secret', ' header-value-not-for-logs']],
        body: 'body-text-not-for-logs\r\n',
      });
      await mta.quit();
      await daemon.waitForLog('message filtered');
      const output = daemon.output();
      for (const cmd of ['optneg', 'connect', 'helo', 'mail', 'rcpt', 'header', 'eoh', 'eob'])
        assert.match(output, new RegExp(`"in":\\{"cmd":"${cmd}"`), cmd);
      assert.match(output, /"in":\{"cmd":"header","name":"X-Secret","bytes":26\}/);
      assert.match(output, /"out":\{"reply":"addheader","name":"X-Spam-Checker-Version"/);
      assert.doesNotMatch(output, /header-value-not-for-logs|body-text-not-for-logs/);
    } finally {
      await daemon.stop();
    }
  });

  it('without --verbose there is no protocol trace', async () => {
    const daemon = await startSpamward(['--log-level', 'debug']);
    try {
      const mta = await FakeMta.connect({ port: daemon.port });
      await mta.negotiate();
      await mta.message({ body: 'x\r\n' });
      await mta.quit();
      await daemon.waitForLog('message filtered');
      assert.doesNotMatch(daemon.output(), /"msg":"milter command"/);
    } finally {
      await daemon.stop();
    }
  });
});
