/**
 * Failures of the built-in engine's token store, refined from the shared scanner errors so the
 * failure policy treats them like any other scanner failure (never a crash).
 */
import { ConnectionError, ScannerError } from '../errors.ts';

/**
 * The store cannot be reached or is busy right now: Redis unreachable or gone, SQLite locked by
 * another writer past the busy timeout, the database file cannot be opened. Retryable, and the
 * failure policy classes it as `unavailable`, like a spamd that refuses connections.
 */
export class StoreUnavailableError extends ConnectionError {
  constructor(scanner: string, detail: string, options?: ErrorOptions) {
    super(scanner, `token store unavailable: ${detail}`, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Why a reachable store still failed. */
export type StoreFailure = 'corrupt' | 'io' | 'full' | 'readonly' | 'other';

/**
 * The store answered but cannot be used: a corrupt or foreign database file, an I/O error, a full
 * disk, a read-only file, unexpected data in Redis. Not retryable (another try would fail too).
 */
export class StoreError extends ScannerError {
  /** The kind of failure, for logs and tests. */
  readonly failure: StoreFailure;

  constructor(scanner: string, failure: StoreFailure, detail: string, options?: ErrorOptions) {
    super('SCANNER_STORE_FAILED', scanner, `token store ${failure}: ${detail}`, false, options);
    this.name = 'StoreError';
    this.failure = failure;
  }
}
