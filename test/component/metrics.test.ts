/**
 * The metrics endpoint of the real daemon: decided messages by action and verdict, scanner
 * failures by class and code (here a scanner that refuses connections, failure policy accept).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSpamward } from '../support/daemon.ts';
import { FakeMta } from '../support/fake-mta.ts';
import { fetchText } from '../support/metrics-counters.ts';

describe('metrics', () => {
  it('counts messages and scanner failures, served on metrics.listen', async () => {
    const daemon = await startSpamward(['--scanner', 'spamd://127.0.0.1:1'], {
      env: {
        ...process.env,
        SPAMWARD_METRICS_LISTEN: '127.0.0.1:0',
        SPAMWARD_FAILURE_UNAVAILABLE: 'accept',
        SPAMWARD_TRUST_NETWORKS: '',
      },
    });
    try {
      const url = /"metrics":"(http:\/\/[^"]+)"/.exec(daemon.output())?.[1];
      assert.ok(url !== undefined, daemon.output());
      const mta = await FakeMta.connect({ port: daemon.port }, { timeoutMs: 20_000 });
      await mta.negotiate();
      for (let i = 0; i < 2; i++) {
        const { eob } = await mta.message({ body: 'Hello.\r\n' });
        assert.equal(eob.at(-1)?.kind, 'continue');
      }
      await mta.quit();
      await daemon.waitForLog('message filtered', 2);
      const { status, body } = await fetchText(url);
      assert.equal(status, 200);
      assert.match(body, /^spamward_messages_total\{action="accept",verdict="accept"\} 2$/m);
      assert.match(
        body,
        /^spamward_scanner_failures_total\{class="unavailable",code="SCANNER_ALL_DOWN"\} 2$/m,
      );
      assert.match(body, /^spamward_decision_seconds_count 2$/m);
      assert.equal((await fetchText(url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await daemon.stop();
    }
  });
});
