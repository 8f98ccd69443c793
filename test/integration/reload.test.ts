/**
 * SIGHUP reload of a running daemon (real spamd behind it, our fake MTA in front): a new
 * configuration applies to new connections, an open connection is not dropped, and an invalid
 * configuration is refused with the key named while the running one stays.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSpamward } from '../support/daemon.ts';
import { FakeMta } from '../support/fake-mta.ts';
import { requireComponent } from '../support/require-component.ts';
import { GTUBE } from '../support/scan-rig.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';

const SPAM = {
  headers: [
    ['From', ' alice@example.org'],
    ['Subject', ' reload test'],
  ] as const,
  body: `${GTUBE}\r\n`,
};

/** The end-of-message verdict: the final reply's kind, and the SMTP code of a REPLYCODE. */
async function verdictOn(mta: FakeMta): Promise<string> {
  const { eob } = await mta.message(SPAM);
  const last = eob.at(-1);
  if (last?.kind === 'replycode')
    return `replycode ${Buffer.from(last.text).toString('latin1').slice(0, 3)}`;
  return last?.kind ?? 'none';
}

describe('SIGHUP reload', () => {
  let dir = '';
  let spamd: SpamdEndpoints | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-reload-'));
  });
  after(async () => {
    await spamd?.stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a new config to new connections, keeps open ones, refuses a broken one', async (t) => {
    if (!requireComponent(t, 'spamd', spamdAvailable())) return;
    spamd = await getSpamd();
    const file = join(dir, 'spamward.yaml');
    const base = `scanner:\n  urls: [${spamd.tcpUrl}]\ntrust:\n  networks: []\n`;
    await writeFile(file, base);
    const daemon = await startSpamward(['--config', file]);
    t.after(() => daemon.stop());
    const address = { port: daemon.port };
    try {
      const before = await FakeMta.connect(address, { timeoutMs: 20_000 });
      await before.negotiate();
      assert.equal(await verdictOn(before), 'continue', 'tag only: GTUBE is delivered');

      await writeFile(file, `${base}actions:\n  reject: required + 0\n`);
      daemon.signal('SIGHUP');
      await daemon.waitForLog('configuration reloaded');
      const fresh = await FakeMta.connect(address, { timeoutMs: 20_000 });
      await fresh.negotiate();
      assert.equal(await verdictOn(fresh), 'replycode 550', 'the reloaded config rejects');
      // The connection opened before the reload is still served (with the config it began with).
      assert.equal(await verdictOn(before), 'continue');
      await before.quit();

      await writeFile(file, `${base}actions:\n  reject: banana\n`);
      daemon.signal('SIGHUP');
      await daemon.waitForLog('reload refused; the running configuration stays');
      assert.match(daemon.output(), /"path":"actions\.reject"/);
      assert.equal(await verdictOn(fresh), 'replycode 550', 'open connection unaffected');
      const after = await FakeMta.connect(address, { timeoutMs: 20_000 });
      await after.negotiate();
      assert.equal(await verdictOn(after), 'replycode 550', 'the last good config still applies');
      await Promise.all([fresh.quit(), after.quit()]);
    } catch (error) {
      t.diagnostic(daemon.output());
      throw error;
    }
  });
});
