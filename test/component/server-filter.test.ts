/**
 * The filter at end-of-message over a real socket: a modification-heavy decision, a filter that
 * misses its deadline (with and without PROGRESS), one that fails, and an MTA that leaves while
 * the filter runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Modification } from '../../src/filter/decision.ts';
import { ConnectionClosedError, FilterTimeoutError } from '../../src/milter/connection.ts';
import type { Response } from '../../src/milter/responses.ts';
import { macroCommand } from '../support/fake-mta.ts';
import {
  failingFilter,
  type Harness,
  hangingFilter,
  kinds,
  modifyingFilter,
  plain,
  slowFilter,
  startServer,
  within,
} from './harness.ts';

const TEMPFAIL = {
  kind: 'replycode',
  text: '451 4.7.1 Temporary failure while filtering; try again later',
};

describe('a modification-heavy decision', () => {
  const longValue = 'x'.repeat(1500);
  const newBody = Buffer.alloc(200 * 1024, 'replaced body\r\n');
  const modifications: Modification[] = [
    { kind: 'add-header', name: 'X-One', value: 'first' },
    { kind: 'add-header', name: 'X-Long', value: longValue },
    { kind: 'add-header', name: 'X-Folded', value: 'line one\r\n\tline two' },
    { kind: 'replace-body', body: newBody },
    { kind: 'insert-header', index: 1, name: 'X-Top', value: 'inserted' },
    { kind: 'change-header', name: 'Subject', occurrence: 1, value: 'changed' },
    { kind: 'delete-header', name: 'X-Drop', occurrence: 2 },
    { kind: 'add-recipient', address: '<added@example.net>' },
    { kind: 'add-recipient', address: '<par@example.net>', args: ['NOTIFY=NEVER'] },
    { kind: 'delete-recipient', address: '<rcpt@example.net>' },
    { kind: 'change-sender', address: '<bounce@example.org>', args: ['SIZE=100'] },
    { kind: 'quarantine', reason: 'held for review' },
  ];
  let h: Harness;
  before(async () => {
    h = await startServer(modifyingFilter(modifications));
  });
  after(() => h.stop());

  it('sends every modification in order, REPLBODY contiguous and split, then one final reply', async () => {
    const mta = await h.connectNegotiated();
    const { eob } = await mta.message();
    const bodyParts = [65535, 65535, 65535, newBody.length - 3 * 65535];
    assert.deepEqual(plain(eob), [
      { kind: 'addheader', name: 'X-One', value: ' first' },
      { kind: 'addheader', name: 'X-Long', value: ` ${longValue}` },
      { kind: 'addheader', name: 'X-Folded', value: ' line one\n\tline two' },
      { kind: 'insheader', index: 1, name: 'X-Top', value: ' inserted' },
      { kind: 'chgheader', index: 1, name: 'Subject', value: ' changed' },
      { kind: 'chgheader', index: 2, name: 'X-Drop', value: '' },
      { kind: 'addrcpt', rcpt: '<added@example.net>' },
      { kind: 'addrcpt_par', rcpt: '<par@example.net>', args: ['NOTIFY=NEVER'] },
      { kind: 'delrcpt', rcpt: '<rcpt@example.net>' },
      { kind: 'chgfrom', from: '<bounce@example.org>', args: ['SIZE=100'] },
      { kind: 'quarantine', reason: 'held for review' },
      ...bodyParts.map((bytes) => ({ kind: 'replbody', bytes })),
      { kind: 'continue' },
    ]);
    const body = Buffer.concat(
      eob.flatMap((r: Response) => (r.kind === 'replbody' ? [r.chunk] : [])),
    );
    assert.ok(body.equals(newBody), 'REPLBODY packets reassemble the new body');

    // ABORT and MACRO are never answered: whatever arrives before the close is a stray reply.
    await mta.send({ kind: 'abort' });
    await mta.send(macroCommand('M', { i: 'NEXT' }));
    await mta.send({ kind: 'abort' });
    await mta.quit();
    assert.deepEqual(kinds(mta.unread), []);
  });
});

describe('a filter that misses its deadline', () => {
  it('gets TEMPFAIL 451 4.7.1 after filterTimeoutMs, its signal aborted, PROGRESS meanwhile', async (t) => {
    const hanging = hangingFilter();
    const h = await startServer(hanging.filter, {
      connection: { filterTimeoutMs: 200, progressIntervalMs: 50 },
    });
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const started = performance.now();
    const { eob } = await mta.message();
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 190 && elapsed < 1500, `final reply after ${Math.round(elapsed)} ms`);
    assert.deepEqual(plain(eob.slice(-1)), [TEMPFAIL]);
    const progress = eob.slice(0, -1);
    assert.ok(progress.length >= 2, `only ${progress.length} PROGRESS packets in 200 ms`);
    assert.ok(
      progress.every((r) => r.kind === 'progress'),
      kinds(eob).join(' '),
    );
    assert.ok((await within(hanging.aborted, 1000, 'abort')) instanceof FilterTimeoutError);
    await mta.quit();
  });

  it('sends no PROGRESS when the interval is longer than the deadline', async (t) => {
    const hanging = hangingFilter();
    const h = await startServer(hanging.filter, { connection: { filterTimeoutMs: 200 } });
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const { eob } = await mta.message();
    assert.deepEqual(plain(eob), [TEMPFAIL]);
    await mta.quit();
    assert.deepEqual(mta.unread, []);
  });
});

describe('a filter slower than idleTimeoutMs', () => {
  // The MTA is silent because it waits for our end-of-message reply: that is not idleness.
  it('still gets its answer: the idle timer does not run while the filter does', async (t) => {
    const slow = slowFilter(300);
    const h = await startServer(slow.filter, { connection: { idleTimeoutMs: 100 } });
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const { eob } = await mta.message();
    assert.deepEqual(kinds(eob), ['addheader', 'continue']);
    await mta.quit();
  });
});

describe('a failing filter', () => {
  for (const how of ['throw', 'reject'] as const) {
    it(`gets TEMPFAIL 451 4.7.1 when the filter ${how}s, and the connection goes on`, async (t) => {
      const h = await startServer(failingFilter(how));
      t.after(() => h.stop());
      const mta = await h.connectNegotiated();
      assert.deepEqual(plain((await mta.message()).eob), [TEMPFAIL]);
      await mta.send({ kind: 'abort' });
      assert.deepEqual(plain((await mta.message({ client: null, helo: null })).eob), [TEMPFAIL]);
      await mta.quit();
      assert.ok(h.log.at('warn').some((e) => e.msg === 'filter failed; failure policy applied'));
    });
  }
});

describe('the MTA leaves while the filter runs', () => {
  const hanging = hangingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(hanging.filter);
  });
  after(() => h.stop());

  it("aborts the filter's signal with ConnectionClosedError and keeps serving", async () => {
    const mta = await h.connectNegotiated();
    const running = mta.message().then(
      () => assert.fail('no reply expected'),
      (error: unknown) => error,
    );
    await hanging.started;
    mta.destroy();
    await mta.closed();
    assert.ok((await running) instanceof Error);

    const reason = await within(hanging.aborted, 2000, "the filter's signal");
    assert.ok(reason instanceof ConnectionClosedError, String(reason));

    const next = await h.connectNegotiated();
    const { steps } = await next.run([
      {
        command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
        reply: false,
      },
      { command: { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] }, reply: true },
    ]);
    assert.deepEqual(kinds(steps), ['continue']);
    await next.quit();
  });
});
