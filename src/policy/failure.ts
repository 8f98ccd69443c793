/**
 * The failure policy, in one place: every way scanning can fail falls in one of three classes,
 * and the configuration says per class whether the mail is accepted (stamped as unscanned),
 * temp-failed or rejected. Nothing is ever dropped silently.
 */
import type { Config } from '../config/schema.ts';
import {
  AllServersDownError,
  ConnectionError,
  ConnectTimeoutError,
  OverloadedError,
  ScanAbortedError,
  ScannerError,
  ScanTimeoutError,
  ServerError,
} from '../scanners/errors.ts';

/** Why scanning failed. */
export type FailureClass = 'unavailable' | 'timeout' | 'error';

/** What to do about one failure. */
export interface FailureOutcome {
  readonly failure: FailureClass;
  readonly action: Config['failure']['unavailable'];
  /** A stable code for logs and counters, e.g. `SCANNER_ALL_DOWN`. */
  readonly code: string;
}

/** Sorts an error into its failure class. */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof ScanTimeoutError || error instanceof ScanAbortedError) return 'timeout';
  if (isCode(error, 'FILTER_TIMEOUT')) return 'timeout';
  if (
    error instanceof ConnectionError ||
    error instanceof ConnectTimeoutError ||
    error instanceof AllServersDownError ||
    error instanceof OverloadedError ||
    (error instanceof ServerError && error.retryable)
  ) {
    return 'unavailable';
  }
  return 'error';
}

/** The configured outcome for an error. */
export function failureOutcome(error: unknown, policy: Config['failure']): FailureOutcome {
  const failure = classifyFailure(error);
  const code =
    error instanceof ScannerError || isCode(error, 'FILTER_TIMEOUT')
      ? (error as { code: string }).code
      : 'FILTER_ERROR';
  return { failure, action: policy[failure], code };
}

/**
 * What lies under an error, for the log: each `cause` in turn as `CODE: message` (or the message),
 * e.g. under `SCANNER_ALL_DOWN` the last server's `SCANNER_CONNECTION_FAILED: … ECONNREFUSED`.
 * Undefined when the error has no cause.
 */
export function failureCause(error: unknown): string | undefined {
  const parts: string[] = [];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 4; depth++) {
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : '';
    const message = cause instanceof Error ? cause.message : String(cause);
    parts.push(typeof code === 'string' && code !== '' ? `${code}: ${message}` : message);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.length === 0 ? undefined : parts.join(' <- ');
}

function isCode(error: unknown, code: string): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error as { code: unknown }).code === code
  );
}
