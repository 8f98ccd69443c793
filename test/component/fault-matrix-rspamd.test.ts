/**
 * Issue 6 fault matrix, rspamd: the REAL daemon process, our fake MTA, and a fault-injecting
 * HTTP scanner speaking rspamd's /checkv2 (test/support/fault-scanner.ts) on one port for the
 * whole file. What each row checks (failure policy by class, timing against the scan timeout,
 * the unscanned stamp, exact counter changes, the log line, recovery to a real verdict) and how
 * the pool's health is handled are described in fault-matrix-spamd.test.ts and runFaultRow.
 * rspamd adds a second oversized row: a declared Content-Length over the cap is refused from the
 * head alone, a body without one is counted while it streams.
 */
import { quote } from '../support/fault-assertions.ts';
import { MAX_RESPONSE_BYTES, POLICIES } from '../support/fault-daemon.ts';
import {
  COMMON_ROWS,
  describeFaultMatrix,
  type FaultRow,
  timedOut,
} from '../support/fault-rows.ts';

const tooLarge = (url: string): RegExp =>
  new RegExp(`^${quote(url)}: answer larger than ${MAX_RESPONSE_BYTES} bytes$`);

const ROWS: readonly FaultRow[] = [
  ...COMMON_ROWS,
  {
    name: 'garbage (not HTTP)',
    fault: { kind: 'garbage' },
    policy: POLICIES.P3,
    failure: 'error',
    code: 'SCANNER_BAD_RESPONSE',
    reason: (url) => new RegExp(`^${quote(url)}: bad answer: malformed HTTP \\(Parse Error: `),
    decidedBy: 'error',
  },
  {
    name: `oversized (1 MiB declared, cap ${MAX_RESPONSE_BYTES} bytes)`,
    fault: { kind: 'oversized', bytes: 1024 * 1024, declareLength: true },
    policy: POLICIES.P2,
    failure: 'error',
    code: 'SCANNER_RESPONSE_TOO_LARGE',
    reason: tooLarge,
    decidedBy: 'error',
  },
  {
    name: `oversized (1 MiB streamed without Content-Length, cap ${MAX_RESPONSE_BYTES} bytes)`,
    fault: { kind: 'oversized', bytes: 1024 * 1024, declareLength: false },
    policy: POLICIES.P1,
    failure: 'error',
    code: 'SCANNER_RESPONSE_TOO_LARGE',
    reason: tooLarge,
    decidedBy: 'error',
  },
  {
    name: 'slow drip (a valid answer, one byte every 20 ms)',
    fault: { kind: 'drip', intervalMs: 20 },
    policy: POLICIES.P3,
    failure: 'timeout',
    code: 'SCANNER_SCAN_TIMEOUT',
    reason: timedOut,
    decidedBy: 'timeout',
  },
];

describeFaultMatrix(
  'fault matrix through the daemon: rspamd',
  'http',
  ROWS,
  // rspamd's GTUBE answer: score 15 of 15 required.
  { idPrefix: 'RSPAMD', healthyScore: 15 },
);
