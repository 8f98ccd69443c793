/**
 * 1,000 MTA connections at once on one daemon process (built-in engine): every session does a
 * full transaction, a quarter of them GTUBE. Each must get its own correct verdict (550 for
 * GTUBE; the X-Spam-* stamp once and CONTINUE for ham), none may be dropped, and the daemon
 * must log exactly one `message filtered` per transaction. Correctness only, no timing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startSpamward } from '../support/daemon.ts';
import type { FakeMta } from '../support/fake-mta.ts';
import {
  type Expectation,
  loadMessage,
  openNegotiated,
  runTransaction,
  verdictProblem,
} from '../support/milter-load.ts';

const SESSIONS = 1_000;
/** Every SPAM_EVERY-th session sends GTUBE. */
const SPAM_EVERY = 4;
/** Generous per-wait deadline: 1,000 scans queue up on two shared cores. */
const TIMEOUT_MS = 60_000;

/** The soft open-files limit of this process (inherited by the daemon), or undefined off Linux. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

describe('1,000 concurrent milter sessions on one daemon', () => {
  it('every session gets its own correct verdict and none is dropped', async (t) => {
    // Each side holds one fd per session plus a few dozen of its own (the daemon: sqlite, logs).
    const limit = openFilesLimit();
    if (limit !== undefined && limit < SESSIONS + 200) {
      t.skip(`ulimit -n is ${limit}; this test needs at least ${SESSIONS + 200}`);
      return;
    }
    const daemon = await startSpamward([], {
      env: {
        ...process.env,
        SPAMWARD_TRUST_NETWORKS: '',
        SPAMWARD_ACTIONS_REJECT: 'required + 0',
        SPAMWARD_LOG_LEVEL: 'info',
      },
    });
    const mtas: FakeMta[] = [];
    t.after(async () => {
      for (const mta of mtas) mta.destroy();
      await daemon.stop();
    });
    const address = { port: daemon.port };

    // All connections open (and negotiated) before any transaction starts: 1,000 at once.
    const opened = await Promise.allSettled(
      Array.from({ length: SESSIONS }, () => openNegotiated(address, TIMEOUT_MS)),
    );
    const refused = opened.filter((o) => o.status === 'rejected');
    for (const o of opened) if (o.status === 'fulfilled') mtas.push(o.value);
    assert.equal(
      refused.length,
      0,
      `connections refused: ${refused.length}, e.g. ${String((refused[0] as PromiseRejectedResult | undefined)?.reason)}`,
    );

    const expected: Expectation[] = mtas.map((_, i) => (i % SPAM_EVERY === 0 ? 'reject' : 'ham'));
    const records = await Promise.all(
      mtas.map((mta, i) =>
        runTransaction(mta, loadMessage(i % SPAM_EVERY === 0 ? 'spam' : 'ham', i, 0, true)),
      ),
    );

    const problems: string[] = [];
    records.forEach((record, i) => {
      if (record.outcome !== 'completed') {
        problems.push(`#${i}: ${record.outcome} (${record.error ?? ''})`);
        return;
      }
      const problem = verdictProblem(record.eob, expected[i] as Expectation);
      if (problem !== null) problems.push(`#${i}: ${problem}`);
    });
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} sessions went wrong`);
    assert.equal(records.length, SESSIONS);
    assert.equal(
      records.filter((r, i) => r.outcome === 'completed' && expected[i] === 'reject').length,
      SESSIONS / SPAM_EVERY,
    );

    // Each message was filtered exactly once (no retry, no duplicate, none lost in the log).
    await daemon.waitForLog('message filtered', SESSIONS, 20_000);
    const filtered = daemon
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"message filtered"'));
    assert.equal(filtered.length, SESSIONS);
    assert.equal(
      filtered.filter((line) => line.includes('"verdict":"reject"')).length,
      SESSIONS / SPAM_EVERY,
    );

    // Every connection is still usable after the burst and closes cleanly.
    await Promise.all(mtas.map((mta) => mta.quit()));
    assert.doesNotMatch(daemon.output(), /"msg":"connection failed"/);
  });
});
