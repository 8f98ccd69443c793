/**
 * The fault-matrix rows shared by the spamd and rspamd files: one fault injected at the fake
 * scanner per row, checked end to end through the daemon (reply, timing against the scan
 * timeout, log line, counters) and followed by a recovery to a real verdict (runFaultRow); and
 * the scanner dying mid-run, marked dead, skipped for its dead time and then scanned again
 * (runDiesMidRun). Also the failure reasons the rows expect (allDown, timedOut), and the whole
 * matrix of one scanner type as a `describe` (describeFaultMatrix).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertFailed, assertScanned, type HealthyVerdict, quote } from './fault-assertions.ts';
import {
  countDead,
  type FailureClass,
  type FailurePolicy,
  logRecords,
  type MatrixDaemon,
  POLICIES,
  SCAN_TIMEOUT_MS,
  startMatrixDaemon,
} from './fault-daemon.ts';
import {
  type Fault,
  type FaultProtocol,
  type FaultScanner,
  healthyReply,
  startFaultScanner,
} from './fault-scanner.ts';
import { counterDeltas, failureDeltas, readCounters } from './metrics-counters.ts';

/** How late after the scan timeout a timed-out answer may arrive (a busy 2-core machine). */
export const TIMEOUT_MARGIN_MS = 3_000;

/** One fault row. `refused` stops the fake (nothing listens); it listens again for recovery. */
export interface FaultRow {
  readonly name: string;
  readonly fault: Fault | 'refused';
  readonly policy: FailurePolicy;
  readonly failure: FailureClass;
  readonly code: string;
  /** The log line's `reason`, given the fake's URL. */
  readonly reason: (url: string) => RegExp;
  /** Who ends the scan: the error itself (before the timeout) or the scan timeout. */
  readonly decidedBy: 'error' | 'timeout';
}

/** One server that fails retryably (refused, reset, cut) leaves the pool with all servers down. */
export function allDown(url: string): RegExp {
  return new RegExp(`^pool\\(${quote(url)}\\): all servers are down$`);
}

/** The reason of a scan timeout. */
export function timedOut(url: string): RegExp {
  return new RegExp(`^${quote(url)}: no answer within ${SCAN_TIMEOUT_MS} ms$`);
}

/**
 * Runs one row against a daemon whose scanner is `fake`: reload with the row's policy (a fresh
 * pool), inject the fault, send one message and check reply, stamp, timing, log and counters;
 * then make the fake healthy (listening again on the same port if it was stopped) and check that
 * the next message is scanned for real. One failure stays below maxErrors (3): no dead time.
 */
export async function runFaultRow(
  daemon: MatrixDaemon,
  fake: FaultScanner,
  row: FaultRow,
  id: string,
  healthy: HealthyVerdict,
): Promise<void> {
  await daemon.configure(fake.url, row.policy);
  fake.fault = { kind: 'healthy' };
  if (row.fault === 'refused') await fake.stop();
  else fake.fault = row.fault;
  const requests = fake.requests();
  const written = fake.bytesWritten();
  const counters = await readCounters(daemon.metricsUrl);

  const sent = await daemon.send(`${id}F`);
  await assertFailed(daemon, sent, `${id}F`, { ...row, reason: row.reason(fake.url) });
  assert.deepEqual(
    counterDeltas(counters, await readCounters(daemon.metricsUrl)),
    failureDeltas(row.policy, row.failure, row.code),
  );
  // The fault was really met: the request reached the fake (none can while refused).
  assert.equal(fake.requests() - requests, row.fault === 'refused' ? 0 : 1);
  const ms = Math.round(sent.ms);
  if (row.decidedBy === 'timeout') {
    assert.ok(sent.ms >= SCAN_TIMEOUT_MS - 50, `answered after ${ms} ms, before the timeout`);
    assert.ok(sent.ms <= SCAN_TIMEOUT_MS + TIMEOUT_MARGIN_MS, `answered after ${ms} ms`);
  } else {
    assert.ok(sent.ms < SCAN_TIMEOUT_MS, `the error took ${ms} ms, as long as the timeout`);
  }
  if (row.fault !== 'refused' && row.fault.kind === 'drip') {
    // Bytes kept coming until the timeout (no idle gap to time out on), yet not the whole reply.
    const dripped = fake.bytesWritten() - written;
    const expected = SCAN_TIMEOUT_MS / row.fault.intervalMs;
    assert.ok(dripped >= expected / 2, `only ${dripped} bytes dripped, ~${expected} expected`);
    assert.ok(dripped < healthyReply(fake.protocol).length, 'the whole reply was dripped');
  }

  if (row.fault === 'refused') await fake.restart();
  fake.fault = { kind: 'healthy' };
  await assertScanned(daemon, `${id}OK`, healthy);
}

/**
 * The scanner dies mid-run: three messages stall at the fake, the fake stops (connections cut,
 * port closed); all three are failed as unavailable before the scan timeout, and the server is
 * marked dead (3 errors within errorTimeMs). The fake comes back healthy on the same port at
 * once, yet the next message is not even tried there while deadTimeMs (shortened to 3 s) lasts;
 * after it, the message after that is scanned.
 */
export async function runDiesMidRun(
  daemon: MatrixDaemon,
  fake: FaultScanner,
  id: string,
  healthy: HealthyVerdict,
): Promise<void> {
  const DEAD_MS = 3_000;
  const policy = POLICIES.P1;
  const expected = {
    policy,
    failure: 'unavailable',
    code: 'SCANNER_ALL_DOWN',
    reason: allDown(fake.url),
  } as const;
  await daemon.configure(fake.url, policy, { maxErrors: 3, deadTimeMs: DEAD_MS });
  fake.fault = { kind: 'stall' };
  const counters = await readCounters(daemon.metricsUrl);
  const deadLines = countDead(daemon, fake.url);
  const requests = fake.requests();
  const ids = [0, 1, 2].map((i) => `${id}${i}`);
  const inFlight = ids.map((one) => daemon.send(one));
  await fake.waitForRequests(requests + 3);
  await fake.stop(); // every connection in flight is cut, nothing listens any more
  const diedAt = performance.now();
  for (const [i, sent] of (await Promise.all(inFlight)).entries()) {
    // Cut, not timed out: each answer came well before the scan timeout.
    assert.ok(sent.ms < SCAN_TIMEOUT_MS, `${ids[i]} took ${Math.round(sent.ms)} ms`);
    await assertFailed(daemon, sent, ids[i] as string, expected);
  }
  // Marked dead once, the warning naming the underlying failure's code.
  const until = performance.now() + 5_000;
  while (countDead(daemon, fake.url) !== deadLines + 1) {
    if (performance.now() > until) throw new Error('no "scanner marked dead" line');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const dead = logRecords(daemon.process.output()).filter(
    (r) => r['msg'] === 'scanner marked dead' && r['scanner'] === fake.url,
  );
  assert.equal(dead.at(-1)?.['code'], 'SCANNER_CONNECTION_FAILED');
  assert.equal(dead.at(-1)?.['level'], 40);

  // Back on the same port and healthy, but inside deadTimeMs: not even connected to.
  await fake.restart();
  fake.fault = { kind: 'healthy' };
  const connections = fake.connections();
  const skipped = await daemon.send(`${id}3`);
  await assertFailed(daemon, skipped, `${id}3`, expected);
  assert.ok(performance.now() - diedAt < DEAD_MS, `the dead time ran out before ${id}3`);
  assert.equal(fake.connections(), connections, 'a server marked dead was connected to');
  assert.deepEqual(
    counterDeltas(counters, await readCounters(daemon.metricsUrl)),
    failureDeltas(policy, 'unavailable', 'SCANNER_ALL_DOWN', 4),
  );

  // Once deadTimeMs has passed the server is tried again, and scans.
  const wait = DEAD_MS + 200 - (performance.now() - diedAt);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  await assertScanned(daemon, `${id}4`, healthy);
  assert.equal(fake.connections(), connections + 1);
}

/** The rows every network scanner shares: refused, stalled, reset mid-reply. */
export const COMMON_ROWS: readonly FaultRow[] = [
  {
    name: 'refused (nothing listening)',
    fault: 'refused',
    policy: POLICIES.P1,
    failure: 'unavailable',
    code: 'SCANNER_ALL_DOWN',
    reason: allDown,
    decidedBy: 'error',
  },
  {
    name: 'stalled (accepts, never answers)',
    fault: { kind: 'stall' },
    policy: POLICIES.P2,
    failure: 'timeout',
    code: 'SCANNER_SCAN_TIMEOUT',
    reason: timedOut,
    decidedBy: 'timeout',
  },
  {
    name: 'reset mid-reply (half the answer, then RST)',
    fault: { kind: 'reset' },
    policy: POLICIES.P3,
    failure: 'unavailable',
    code: 'SCANNER_ALL_DOWN',
    reason: allDown,
    decidedBy: 'error',
  },
];

/** The daemon and the fake scanner of one matrix, for tests a file adds to it. */
export interface MatrixRig {
  readonly daemon: MatrixDaemon;
  readonly fake: FaultScanner;
}

/**
 * The whole matrix for one scanner type as a `describe`: one fake scanner and one daemon for the
 * file, every row, then the scanner dying mid-run; `more` adds that type's own tests.
 */
export function describeFaultMatrix(
  title: string,
  protocol: FaultProtocol,
  rows: readonly FaultRow[],
  options: { readonly idPrefix: string; readonly healthyScore: number },
  more?: (rig: () => MatrixRig) => void,
): void {
  describe(title, () => {
    let fake: FaultScanner | undefined;
    let daemon: MatrixDaemon | undefined;
    const rig = (): MatrixRig => {
      if (fake === undefined || daemon === undefined) throw new Error('the matrix did not start');
      return { fake, daemon };
    };
    const healthy = (): HealthyVerdict => ({
      scanner: rig().fake.url,
      score: options.healthyScore,
      spam: true,
    });

    before(async () => {
      fake = await startFaultScanner(protocol);
      daemon = await startMatrixDaemon(fake.url);
    });
    after(async () => {
      await daemon?.stop();
      await fake?.stop();
    });

    for (const [index, row] of rows.entries()) {
      it(row.name, () =>
        runFaultRow(rig().daemon, rig().fake, row, `${options.idPrefix}${index}`, healthy()),
      );
    }

    it('dies mid-run with three messages in flight, marked dead, back on the same port', () =>
      runDiesMidRun(rig().daemon, rig().fake, `${options.idPrefix}DIE`, healthy()));

    more?.(rig);
  });
}
