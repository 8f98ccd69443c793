/**
 * SIGTERM while 64 fake MTAs keep the daemon (built-in engine) busy. Every transaction is
 * recorded step by step; none may end half-applied (header changes without a final reply), every
 * one the daemon had begun (MAIL answered) must be finished with the right verdict, the rest may
 * only be cut before that. While a message is still in flight, new connections are refused; the
 * daemon then exits 0 within its grace period.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SpamwardProcess, startSpamward } from '../support/daemon.ts';
import { FakeMta, messageSteps } from '../support/fake-mta.ts';
import {
  type Expectation,
  loadMessage,
  openNegotiated,
  runTransaction,
  type TransactionRecord,
  verdictProblem,
} from '../support/milter-load.ts';

const WORKERS = 64;
const MESSAGES_PER_CONNECTION = 3;
/** SIGTERM once this many transactions have completed. */
const TERM_AFTER = 200;
const GRACE_MS = 15_000;
const TIMEOUT_MS = 20_000;

/** One transaction with what it was and when it ran relative to SIGTERM. */
interface Entry extends TransactionRecord {
  readonly expect: Expectation;
  readonly startedAfterTerm: boolean;
  readonly endedAfterTerm: boolean;
}

/** Resolves once the daemon's process is gone (exit reaped), polling its pid. */
async function processGone(daemon: SpamwardProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(daemon.pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`the daemon is still running after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** How a fresh connection attempt went: refused (or closed unanswered), or served. */
async function tryNewConnection(port: number): Promise<'refused' | 'served'> {
  let mta: FakeMta;
  try {
    mta = await FakeMta.connect({ port }, { timeoutMs: 2_000 });
  } catch {
    return 'refused';
  }
  try {
    await mta.negotiate();
    return 'served';
  } catch {
    return 'refused';
  } finally {
    mta.destroy();
  }
}

describe('SIGTERM under a 64-way load', () => {
  it('loses no message: in-flight ones finish, the rest are cut before their verdict', async (t) => {
    const daemon = await startSpamward(['--shutdown-grace-ms', String(GRACE_MS)], {
      env: {
        ...process.env,
        SPAMWARD_TRUST_NETWORKS: '',
        SPAMWARD_ACTIONS_REJECT: 'required + 0',
      },
    });
    t.after(() => daemon.stop());
    const address = { port: daemon.port };
    const entries: Entry[] = [];
    const connectFailuresBeforeTerm: string[] = [];
    let termSent = false;
    let completed = 0;
    let term: () => void = () => undefined;
    const termReached = new Promise<void>((resolve) => {
      term = resolve;
    });

    const worker = async (w: number): Promise<void> => {
      for (let round = 0; ; round++) {
        let mta: FakeMta;
        try {
          mta = await openNegotiated(address, TIMEOUT_MS);
        } catch (error) {
          if (termSent) return; // refused after SIGTERM: this worker is done
          connectFailuresBeforeTerm.push(String(error));
          return;
        }
        let cut = false;
        for (let n = 0; n < MESSAGES_PER_CONNECTION; n++) {
          const seq = round * MESSAGES_PER_CONNECTION + n;
          const spam = (w + seq) % 3 === 0;
          const startedAfterTerm = termSent;
          const record = await runTransaction(
            mta,
            loadMessage(spam ? 'spam' : 'ham', w, seq, n === 0),
          );
          entries.push({
            ...record,
            expect: spam ? 'reject' : 'ham',
            startedAfterTerm,
            endedAfterTerm: termSent,
          });
          if (record.outcome !== 'completed') {
            cut = true;
            break;
          }
          if (++completed >= TERM_AFTER) term();
        }
        if (cut) {
          mta.destroy();
          if (termSent) return;
          continue;
        }
        // Postfix-like QUIT; the daemon may already have closed this connection when draining.
        await mta.quit().catch(() => mta.destroy());
      }
    };

    const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    // A connection that stays inside a message across the SIGTERM keeps the daemon draining, so
    // "new connections are refused" is checked while the daemon is still running.
    const holder = await openNegotiated(address, TIMEOUT_MS);
    const negotiated = holder.negotiated;
    assert.ok(negotiated !== undefined);
    const holderSteps = messageSteps(loadMessage('ham', 999, 0, true), negotiated);
    const mailAt = holderSteps.findIndex((s) => s.command.kind === 'rcpt');
    await holder.run(holderSteps.slice(0, mailAt + 1));

    await termReached;
    const termAt = Date.now();
    termSent = true;
    daemon.signal('SIGTERM');
    await daemon.waitForLog('stopping');

    // The daemon is alive (the holder's message is open) and must not take new connections.
    assert.equal(await tryNewConnection(daemon.port), 'refused', 'a new connection after SIGTERM');
    process.kill(daemon.pid, 0); // still running: the probe above was not against a dead port

    await workers;
    // The holder finishes its message: it gets the full ham verdict, then the daemon closes.
    const rest = await holder.run(holderSteps.slice(mailAt + 1));
    assert.equal(verdictProblem(rest.eob, 'ham'), null);
    await holder.closed(GRACE_MS).catch(() => holder.destroy());

    await daemon.waitForLog('stopped', 1, GRACE_MS);
    await processGone(daemon, GRACE_MS);
    const exit = await daemon.stop(); // already exited: only collects the exit status
    const tookMs = Date.now() - termAt;

    const diag = (): string =>
      `${entries.length} transactions; ${JSON.stringify(entries.filter((e) => e.outcome !== 'completed').slice(0, 5))}`;
    assert.deepEqual(connectFailuresBeforeTerm, [], 'connections failed before SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output().slice(-2000));
    assert.ok(tookMs < GRACE_MS, `exit ${tookMs} ms after SIGTERM, grace is ${GRACE_MS} ms`);

    const problems: string[] = [];
    for (const [i, e] of entries.entries()) {
      const label = `#${i} (${e.expect}, answered ${e.answered.join(',') || 'nothing'})`;
      if (e.outcome === 'unexpected') problems.push(`${label}: ${e.error}`);
      else if (e.outcome === 'completed') {
        const problem = verdictProblem(e.eob, e.expect);
        if (problem !== null) problems.push(`${label}: wrong verdict: ${problem}`);
      } else if (e.eob.length > 0) {
        problems.push(`${label}: half-applied: ${e.eob.map((r) => r.kind).join(',')}`);
      } else if (e.answered.includes('mail')) {
        problems.push(`${label}: begun by the daemon but never finished (${e.error})`);
      } else if (!e.endedAfterTerm) {
        problems.push(`${label}: cut before SIGTERM (${e.error})`);
      }
    }
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad transactions; ${diag()}`);

    // The run really straddled the signal: messages finished after it, and some were cut.
    const finishedAcross = entries.filter(
      (e) => e.outcome === 'completed' && !e.startedAfterTerm && e.endedAfterTerm,
    );
    assert.ok(finishedAcross.length > 0, `no message was in flight at SIGTERM; ${diag()}`);
    assert.ok(entries.filter((e) => e.outcome === 'completed').length >= TERM_AFTER);
    t.diagnostic(
      `${entries.length} transactions: ${entries.filter((e) => e.outcome === 'completed').length} completed ` +
        `(${finishedAcross.length} across SIGTERM), ${entries.filter((e) => e.outcome === 'cut').length} cut before their verdict`,
    );
    assert.match(daemon.output(), /"msg":"stopped"/);
    assert.doesNotMatch(daemon.output(), /"msg":"connection failed"/);
  });
});
