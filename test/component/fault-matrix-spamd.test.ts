/**
 * Issue 6 fault matrix, spamd: the REAL daemon process (`spamward run`), our fake MTA, and a
 * fault-injecting spamd (test/support/fault-scanner.ts) on one port for the whole file. Each row
 * is one fault; for each it checks, through the daemon only:
 *   1. the failure policy's action for the class the fault falls in (every policy used gives the
 *      three classes three different actions, so the action proves the class mapping);
 *   2. the answer arrives before the scan timeout (errors) or at it (stall, drip: the timeout, not
 *      an early error, decided), never later than timeout + margin;
 *   3. accepted unscanned mail is stamped `X-Spam-Checker: unavailable (CODE, ref REF)`;
 *   4. the counters change by exactly one message (action, verdict) and one failure (class, code);
 *   5. the `message filtered` log line names class, code, action, reason and the same ref;
 *   6. recovery: the fake turns healthy (or listens again on the same port) and the next message
 *      gets a real verdict (spamd's GTUBE answer: score 1000, X-Spam-Flag: YES, no stamp).
 * Health (src/scanners/health.ts): each row reloads the config (SIGHUP), which builds a fresh pool,
 * and causes ONE failure, below maxErrors (3): the server is never marked dead there, so recovery
 * is immediate. The dies-mid-run case makes three failures at once, sees the server marked dead
 * (skipped without a connection for deadTimeMs, shortened to 3 s), then scanned again.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { quote } from '../support/fault-assertions.ts';
import { MAX_RESPONSE_BYTES, POLICIES } from '../support/fault-daemon.ts';
import {
  COMMON_ROWS,
  describeFaultMatrix,
  type FaultRow,
  timedOut,
} from '../support/fault-rows.ts';

const ROWS: readonly FaultRow[] = [
  ...COMMON_ROWS,
  {
    name: 'garbage (no SPAMD status line)',
    fault: { kind: 'garbage' },
    policy: POLICIES.P3,
    failure: 'error',
    code: 'SCANNER_BAD_RESPONSE',
    reason: (url) => new RegExp(`^${quote(url)}: bad answer: bad status line: "\\\\u0000`),
    decidedBy: 'error',
  },
  {
    name: `oversized (1 MiB reply, cap ${MAX_RESPONSE_BYTES} bytes)`,
    fault: { kind: 'oversized', bytes: 1024 * 1024 },
    policy: POLICIES.P2,
    failure: 'error',
    code: 'SCANNER_RESPONSE_TOO_LARGE',
    reason: (url) => new RegExp(`^${quote(url)}: answer larger than ${MAX_RESPONSE_BYTES} bytes$`),
    decidedBy: 'error',
  },
  {
    name: 'slow drip (a valid reply, one byte every 20 ms)',
    fault: { kind: 'drip', intervalMs: 20 },
    policy: POLICIES.P3,
    failure: 'timeout',
    code: 'SCANNER_SCAN_TIMEOUT',
    reason: timedOut,
    decidedBy: 'timeout',
  },
];

describeFaultMatrix(
  'fault matrix through the daemon: spamd',
  'spamd',
  ROWS,
  // spamd's GTUBE answer: score 1000.
  { idPrefix: 'SPAMD', healthyScore: 1000 },
  (rig) => {
    // The daemon wraps even one server in a pool, so these fail as SCANNER_ALL_DOWN; the log line's
    // `cause` says what happened underneath.
    it('the log line of an unavailable scan names its cause (refused / reset)', async () => {
      const { daemon, fake } = rig();
      await daemon.configure(fake.url, POLICIES.P1);
      await fake.stop();
      await daemon.send('SPAMDCAUSE0');
      await fake.restart();
      fake.fault = { kind: 'reset' };
      await daemon.send('SPAMDCAUSE1');
      fake.fault = { kind: 'healthy' };
      const refused = JSON.stringify(await daemon.logFor('SPAMDCAUSE0'));
      const reset = JSON.stringify(await daemon.logFor('SPAMDCAUSE1'));
      assert.match(refused, /"cause":"[^"]*ECONNREFUSED/, `the refusal is not logged: ${refused}`);
      // A reset after part of the reply reaches the client as ECONNRESET or as an early close.
      assert.match(
        reset,
        /"cause":"[^"]*(ECONNRESET|closed after \d+ bytes)/,
        `the reset is not logged: ${reset}`,
      );
    });
  },
);
