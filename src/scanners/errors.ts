/**
 * Scanner failures: one class per failure phase, each with a stable `code` and a `retryable`
 * flag (may the pool try another server?). A verdict is never retried; only failures are.
 */

/** Base class of every scanner failure. */
export class ScannerError extends Error {
  /** Stable machine-readable code, e.g. `SCANNER_SCAN_TIMEOUT`. */
  readonly code: string;
  /** The scanner URL (no credentials). */
  readonly scanner: string;
  /** True when another server might succeed (connection failures, temporary server errors). */
  readonly retryable: boolean;

  constructor(
    code: string,
    scanner: string,
    message: string,
    retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`${scanner}: ${message}`, options);
    this.name = 'ScannerError';
    this.code = code;
    this.scanner = scanner;
    this.retryable = retryable;
  }
}

/** The connection could not be established in time. */
export class ConnectTimeoutError extends ScannerError {
  constructor(scanner: string, ms: number) {
    super('SCANNER_CONNECT_TIMEOUT', scanner, `no connection within ${ms} ms`, true);
    this.name = 'ConnectTimeoutError';
  }
}

/** The connection was refused, reset or closed before a complete answer. */
export class ConnectionError extends ScannerError {
  constructor(scanner: string, detail: string, options?: ErrorOptions) {
    super('SCANNER_CONNECTION_FAILED', scanner, detail, true, options);
    this.name = 'ConnectionError';
  }
}

/**
 * Connected, but no complete answer within the scan timeout. Not retried elsewhere: the time is
 * spent, and a second server would likely be as slow (it still counts against the server's health).
 */
export class ScanTimeoutError extends ScannerError {
  constructor(scanner: string, ms: number) {
    super('SCANNER_SCAN_TIMEOUT', scanner, `no answer within ${ms} ms`, false);
    this.name = 'ScanTimeoutError';
  }
}

/** The answer exceeded the size cap; reading stopped there. */
export class ResponseTooLargeError extends ScannerError {
  constructor(scanner: string, limit: number) {
    super('SCANNER_RESPONSE_TOO_LARGE', scanner, `answer larger than ${limit} bytes`, false);
    this.name = 'ResponseTooLargeError';
  }
}

/** The answer did not parse or lacked required fields. */
export class BadResponseError extends ScannerError {
  constructor(scanner: string, detail: string, options?: ErrorOptions) {
    super('SCANNER_BAD_RESPONSE', scanner, `bad answer: ${detail}`, false, options);
    this.name = 'BadResponseError';
  }
}

/** The server answered with an error status (spamd EX_*, HTTP 4xx/5xx). */
export class ServerError extends ScannerError {
  /** The status the server sent (sysexits code or HTTP status). */
  readonly status: number;

  constructor(scanner: string, status: number, detail: string, retryable: boolean) {
    super('SCANNER_SERVER_ERROR', scanner, `server error ${status}: ${detail}`, retryable);
    this.name = 'ServerError';
    this.status = status;
  }
}

/** Every server of a pool is marked dead or failed this request. */
export class AllServersDownError extends ScannerError {
  constructor(scanner: string, options?: ErrorOptions) {
    super('SCANNER_ALL_DOWN', scanner, 'all servers are down', false, options);
    this.name = 'AllServersDownError';
  }
}

/** The concurrency cap and its wait queue are full: refused at once instead of piling up. */
export class OverloadedError extends ScannerError {
  constructor(scanner: string, limit: number, queue: number) {
    super(
      'SCANNER_OVERLOADED',
      scanner,
      `overloaded (${limit} scans running, ${queue} waiting)`,
      false,
    );
    this.name = 'OverloadedError';
  }
}

/** The scanner cannot learn (no classifier, no password, unsupported). */
export class LearnUnsupportedError extends ScannerError {
  constructor(scanner: string, detail: string) {
    super('SCANNER_LEARN_UNSUPPORTED', scanner, detail, false);
    this.name = 'LearnUnsupportedError';
  }
}

/** The caller gave up (its AbortSignal fired: the MTA left, the message deadline passed, shutdown). */
export class ScanAbortedError extends ScannerError {
  constructor(scanner: string, options?: ErrorOptions) {
    super('SCANNER_ABORTED', scanner, 'scan aborted by the caller', false, options);
    this.name = 'ScanAbortedError';
  }
}
