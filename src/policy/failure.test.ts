import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterTimeoutError } from '../milter/connection.ts';
import {
  AllServersDownError,
  BadResponseError,
  ConnectionError,
  ConnectTimeoutError,
  OverloadedError,
  ResponseTooLargeError,
  ScanAbortedError,
  ScanTimeoutError,
  ServerError,
} from '../scanners/errors.ts';
import { classifyFailure, failureCause, failureOutcome } from './failure.ts';

describe('the failure policy', () => {
  it('sorts every failure into unavailable, timeout or error', () => {
    const cases: [unknown, string][] = [
      [new ConnectionError('s', 'ECONNREFUSED'), 'unavailable'],
      [new ConnectTimeoutError('s', 10), 'unavailable'],
      [new AllServersDownError('s'), 'unavailable'],
      [new OverloadedError('s', 1, 1), 'unavailable'],
      [new ServerError('s', 75, 'EX_TEMPFAIL', true), 'unavailable'],
      [new ScanTimeoutError('s', 10), 'timeout'],
      [new ScanAbortedError('s'), 'timeout'],
      [new FilterTimeoutError(10), 'timeout'],
      [new BadResponseError('s', 'x'), 'error'],
      [new ResponseTooLargeError('s', 10), 'error'],
      [new ServerError('s', 65, 'EX_DATAERR', false), 'error'],
      [new Error('a bug'), 'error'],
    ];
    for (const [error, expected] of cases)
      assert.equal(classifyFailure(error), expected, String(error));
  });

  it('applies the configured action per class, with a stable code', () => {
    const policy = { unavailable: 'accept', timeout: 'tempfail', error: 'reject' } as const;
    assert.deepEqual(failureOutcome(new AllServersDownError('s'), policy), {
      failure: 'unavailable',
      action: 'accept',
      code: 'SCANNER_ALL_DOWN',
    });
    assert.deepEqual(failureOutcome(new FilterTimeoutError(5), policy), {
      failure: 'timeout',
      action: 'tempfail',
      code: 'FILTER_TIMEOUT',
    });
    assert.deepEqual(failureOutcome(new TypeError('bug'), policy), {
      failure: 'error',
      action: 'reject',
      code: 'FILTER_ERROR',
    });
  });

  it('names what lies under a pool failure, down to the system error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const last = new ConnectionError('spamd://127.0.0.1:1', 'connect failed', { cause: refused });
    assert.equal(
      failureCause(new AllServersDownError('pool(spamd://127.0.0.1:1)', { cause: last })),
      'SCANNER_CONNECTION_FAILED: spamd://127.0.0.1:1: connect failed <- ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
    );
    assert.equal(failureCause(new ScanTimeoutError('s', 100)), undefined);
  });
});
