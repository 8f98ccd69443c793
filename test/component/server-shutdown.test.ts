/**
 * Graceful stop: the message being filtered gets its answer, idle connections close at once,
 * new connections are refused, and whatever is left when the grace period ends is cut.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VERSION } from '../../src/version.ts';
import { FakeMta } from '../support/fake-mta.ts';
import { hangingFilter, plain, slowFilter, startServer, TRANSPORTS, within } from './harness.ts';

const ACCEPTED = [
  { kind: 'addheader', name: 'X-Spamward', value: ` ${VERSION}` },
  { kind: 'continue' },
];

/** True for the errors a connect to a closed listener gives (TCP: refused; unix: socket file gone). */
const refused = (error: NodeJS.ErrnoException): boolean =>
  error.code === 'ECONNREFUSED' || error.code === 'ENOENT';

for (const transport of TRANSPORTS) {
  describe(`server.close(graceMs) over ${transport}`, () => {
    it('finishes the message in flight, closes idle connections at once, refuses new ones', async (t) => {
      const slow = slowFilter(300);
      const h = await startServer(slow.filter, { transport });
      t.after(() => h.stop());
      const busy = await h.connectNegotiated();
      const idle = await h.connectNegotiated();
      const events: string[] = [];
      const answered = busy.message().then((result) => {
        events.push('busy answered');
        return result;
      });
      await slow.started;

      const closing = h.server.close(5000);
      const idleClosed = idle.closed().then(() => events.push('idle closed'));
      await assert.rejects(FakeMta.connect(h.address, { timeoutMs: 1000 }), refused);

      assert.deepEqual(plain((await answered).eob), ACCEPTED);
      await busy.closed();
      events.push('busy closed');
      await idleClosed;
      await within(closing, 2000, 'server.close');
      assert.deepEqual(events, ['idle closed', 'busy answered', 'busy closed']);
      assert.equal(h.server.connectionCount, 0);
    });
  });
}

describe('server.close(graceMs) with an idle MTA that keeps its side open', () => {
  // Postfix does not watch an idle milter socket: it sees our FIN only when it next writes.
  it('closes the idle connection at once instead of waiting out the grace period', async (t) => {
    const h = await startServer();
    t.after(() => h.stop());
    const mta = await h.connect({ allowHalfOpen: true });
    await mta.negotiate();
    await within(h.server.close(2000), 1000, 'server.close with one idle connection');
    assert.equal(h.server.connectionCount, 0);
  });
});

describe('server.close(graceMs) when the grace period runs out', () => {
  it("cuts the connection and aborts the filter's signal", async (t) => {
    const hanging = hangingFilter();
    const h = await startServer(hanging.filter);
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const outcome = mta.message().then(
      () => 'answered',
      () => 'cut',
    );
    await hanging.started;

    const started = performance.now();
    await within(h.server.close(100), 2000, 'server.close');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 1500, `close took ${Math.round(elapsed)} ms`);
    assert.equal(await outcome, 'cut');
    await within(hanging.aborted, 1000, "the filter's signal");
    await mta.closed();
  });
});
