/**
 * The `noop` scanner: answers "ham, score 0" at once without looking at the message. For
 * measuring the milter's own cost (the benchmark's header-only row) and for checking the MTA
 * wiring; never for filtering mail.
 */
import type { LearnResult, Scanner, ScanRequest } from './scanner.ts';
import type { Verdict } from './verdict.ts';

/** The verdict every message gets. */
const HAM: Verdict = {
  scanner: 'noop',
  score: 0,
  required: 5,
  isSpam: false,
  action: 'no action',
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
};

/** A Scanner that scores nothing. */
export class NoopScanner implements Scanner {
  readonly url = 'noop';

  scan(_request: ScanRequest, _signal: AbortSignal): Promise<Verdict> {
    return Promise.resolve(HAM);
  }

  ping(_signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  learn(): Promise<LearnResult> {
    return Promise.resolve({ learned: false });
  }
}
