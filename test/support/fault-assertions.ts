/**
 * Checks of one message sent through the fault matrix's daemon: that it failed as the policy
 * says (the 451/554 reply or the unscanned stamp, the `message filtered` log line with its class,
 * code, reason and ref) or that it was scanned for real (the healthy scanner's verdict headers,
 * log line and counters); with the header and reply readers they use.
 */
import assert from 'node:assert/strict';
import type { Response } from '../../src/milter/responses.ts';
import { UNSCANNED_HEADER } from '../../src/policy/replies.ts';
import { describeReplies } from './fake-mta.ts';
import type {
  FailureAction,
  FailureClass,
  FailurePolicy,
  LogRecord,
  MatrixDaemon,
  Sent,
} from './fault-daemon.ts';
import { counterDeltas, readCounters } from './metrics-counters.ts';

/** `text` as a literal inside a RegExp. */
export function quote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Header fields the milter added or inserted, name → value (leading space trimmed). */
export function addedHeaders(eob: readonly Response[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of eob) {
    if (r.kind === 'addheader' || r.kind === 'insheader')
      out.set(
        Buffer.from(r.name).toString('latin1'),
        Buffer.from(r.value).toString('latin1').trim(),
      );
  }
  return out;
}

/** The SMTP reply text of a `replycode` response, if any. */
export function smtpReply(eob: readonly Response[]): string | undefined {
  const found = eob.find((r) => r.kind === 'replycode');
  return found?.kind === 'replycode' ? Buffer.from(found.text).toString('latin1') : undefined;
}

/**
 * Checks the end-of-message replies of a failed scan: `accept` delivers the message stamped
 * `X-Spam-Checker: unavailable (CODE, ref REF)` and nothing else of ours; `tempfail` / `reject`
 * answer 451 4.7.1 / 554 5.7.1 naming the same ref, with no header work.
 */
export function assertFailureReply(
  sent: Sent,
  action: FailureAction,
  code: string,
  ref: string,
): void {
  const headers = addedHeaders(sent.eob);
  const final = sent.eob.at(-1)?.kind;
  if (action === 'accept') {
    assert.equal(final, 'continue', describeReplies(sent.eob));
    assert.equal(headers.get(UNSCANNED_HEADER), `unavailable (${code}, ref ${ref})`);
    assert.deepEqual([...headers.keys()], [UNSCANNED_HEADER], 'no verdict headers when unscanned');
    return;
  }
  assert.equal(final, 'replycode', describeReplies(sent.eob));
  assert.equal(headers.size, 0, 'no header work on a refused message');
  const expected =
    action === 'tempfail'
      ? `451 4.7.1 Spam filter unavailable (ref ${ref}); try again later`
      : `554 5.7.1 Message could not be checked for spam (ref ${ref})`;
  assert.equal(smtpReply(sent.eob), expected);
}

/** What a scan by the healthy scanner looks like. */
export interface HealthyVerdict {
  /** The scanner URL the log names. */
  readonly scanner: string;
  readonly score: number;
  /** Spam (tagged, X-Spam-Flag: YES) or ham (accepted, no flag). */
  readonly spam: boolean;
  /** What X-Spam-Status must also show (e.g. a rule only a working store gives). */
  readonly status?: RegExp;
}

/**
 * Sends one message and checks it was scanned for real: the healthy scanner's verdict (score,
 * X-Spam-Status, X-Spam-Flag for spam) and no unscanned stamp, logged without a failure, counted
 * as one message of that action and no failure.
 */
export async function assertScanned(
  daemon: MatrixDaemon,
  id: string,
  healthy: HealthyVerdict,
): Promise<void> {
  const before = await readCounters(daemon.metricsUrl);
  const sent = await daemon.send(id);
  const headers = addedHeaders(sent.eob);
  assert.equal(sent.eob.at(-1)?.kind, 'continue', describeReplies(sent.eob));
  assert.equal(headers.has(UNSCANNED_HEADER), false, `stamped: ${headers.get(UNSCANNED_HEADER)}`);
  assert.equal(headers.get('X-Spam-Flag'), healthy.spam ? 'YES' : undefined);
  const status = headers.get('X-Spam-Status') ?? '';
  const flag = healthy.spam ? 'Yes' : 'No';
  assert.match(status, new RegExp(`^${flag}, score=${quote(healthy.score.toFixed(1))} `));
  if (healthy.status !== undefined) assert.match(status, healthy.status);
  const action = healthy.spam ? 'tag' : 'accept';
  const log = await daemon.logFor(id);
  assert.equal(log['failure'], undefined);
  assert.equal(log['code'], undefined);
  assert.equal(log['scanner'], healthy.scanner);
  assert.equal(log['score'], healthy.score);
  assert.equal(log['action'], action);
  assert.equal(log['verdict'], 'accept');
  assert.deepEqual(counterDeltas(before, await readCounters(daemon.metricsUrl)), {
    [`spamward_messages_total{action="${action}",verdict="accept"}`]: 1,
    spamward_decision_seconds_count: 1,
  });
}

/**
 * One failed message, checked end to end: the reply the policy's action for `failure` gives
 * (stamp or 451/554, the ref matching the log), the `message filtered` line (class, code, action,
 * reason, ref) and exactly these counter changes: one message with that action, one failure of
 * that class and code. Returns the log line.
 */
export async function assertFailed(
  daemon: MatrixDaemon,
  sent: Sent,
  id: string,
  expected: {
    readonly policy: FailurePolicy;
    readonly failure: FailureClass;
    readonly code: string;
    readonly reason: RegExp;
  },
): Promise<LogRecord> {
  const action = expected.policy[expected.failure];
  const log = await daemon.logFor(id);
  assert.equal(log['failure'], expected.failure, JSON.stringify(log));
  assert.equal(log['code'], expected.code, JSON.stringify(log));
  assert.equal(log['action'], action);
  assert.equal(log['verdict'], action);
  assert.match(String(log['reason']), expected.reason);
  assert.equal(log['level'], 30);
  assert.match(String(log['ref']), /^[0-9a-f]{10}$/);
  assertFailureReply(sent, action, expected.code, String(log['ref']));
  return log;
}
