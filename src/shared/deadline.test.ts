import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeadline } from './deadline.ts';

describe('startDeadline', () => {
  it('aborts with its reason when the time runs out', async () => {
    const deadline = startDeadline({ ms: 10, reason: () => new Error('late'), follow: [] });
    await sleep(30);
    assert.equal(deadline.signal.aborted, true);
    assert.equal(deadline.timedOut, true);
    assert.equal((deadline.signal.reason as Error).message, 'late');
    deadline.dispose();
  });

  it('follows an outer signal with its reason, also one aborted already', () => {
    const outer = new AbortController();
    const deadline = startDeadline({ ms: 10_000, reason: () => 'late', follow: [outer.signal] });
    outer.abort('stop');
    assert.equal(deadline.signal.reason, 'stop');
    assert.equal(deadline.timedOut, false);
    deadline.dispose();
    const early = startDeadline({ ms: 10_000, reason: () => 'late', follow: [outer.signal] });
    assert.equal(early.signal.reason, 'stop');
    early.dispose();
  });

  it('after dispose neither the timer nor the outer signal aborts it, and nothing stays behind', async () => {
    const outer = new AbortController();
    const controller = new AbortController();
    const deadline = startDeadline({
      ms: 10,
      reason: () => 'late',
      follow: [outer.signal],
      controller,
    });
    assert.equal(deadline.signal, controller.signal);
    deadline.dispose();
    // A listener left on the long-lived signal would be a leak per call.
    assert.equal(getEventListeners(outer.signal, 'abort').length, 0);
    outer.abort('stop');
    await sleep(30);
    assert.equal(controller.signal.aborted, false);
  });
});
