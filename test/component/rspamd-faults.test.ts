import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  BadResponseError,
  ConnectionError,
  ConnectTimeoutError,
  ResponseTooLargeError,
  ScanAbortedError,
  type ScannerError,
  ScanTimeoutError,
  ServerError,
} from '../../src/scanners/errors.ts';
import { RspamdScanner } from '../../src/scanners/rspamd/client.ts';
import type { ScanRequest } from '../../src/scanners/scanner.ts';
import { activeResources, assertResourcesBackTo } from '../support/active-resources.ts';
import {
  type FakeBehaviour,
  httpResponse,
  refusedPort,
  startBlackHole,
  startFakeScanner,
} from '../support/fake-http-scanner.ts';

const CONNECT_MS = 300;
const SCAN_MS = 300;
/** Scheduling slack on a loaded 2-core CI machine. */
const SLACK_MS = 400;

const request: ScanRequest = {
  message: Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n'),
  envelope: {
    clientAddress: '198.18.0.10',
    sender: 'a@example.org',
    recipients: ['b@example.com'],
  },
};

function scannerFor(url: string): RspamdScanner {
  return new RspamdScanner({
    url,
    connectTimeoutMs: CONNECT_MS,
    scanTimeoutMs: SCAN_MS,
    maxResponseBytes: 64 * 1024,
  });
}

/** Runs one scan, expecting `type`; returns the error and how long it took. */
async function expectFailure(
  url: string,
  type: new (...args: never[]) => ScannerError,
  signal: AbortSignal = new AbortController().signal,
): Promise<{ error: ScannerError; ms: number }> {
  const started = performance.now();
  const error = await scannerFor(url)
    .scan(request, signal)
    .then(
      () => assert.fail('scan succeeded'),
      (e: unknown) => e,
    );
  const ms = performance.now() - started;
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return { error, ms };
}

describe('rspamd client under faults', () => {
  let baseline: string[] = [];
  let cleanup: (() => Promise<void>) | undefined;

  before(() => {
    baseline = activeResources();
  });
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
    await assertResourcesBackTo(baseline);
  });
  after(async () => assertResourcesBackTo(baseline));

  /** A fake server; cleanup first waits for the client to hang up by itself, then closes it. */
  async function fake(behaviour: FakeBehaviour): Promise<string> {
    const server = await startFakeScanner(behaviour);
    cleanup = async () => {
      try {
        for (let i = 0; i < 200 && server.openConnections() > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.equal(server.openConnections(), 0, 'the client did not close its connection');
      } finally {
        await server.close();
      }
    };
    return server.url;
  }

  it('refused connection → ConnectionError (retryable)', async () => {
    const { error, ms } = await expectFailure(
      `rspamd://127.0.0.1:${await refusedPort()}`,
      ConnectionError,
    );
    assert.equal(error.code, 'SCANNER_CONNECTION_FAILED');
    assert.equal(error.retryable, true);
    assert.ok(ms < CONNECT_MS, `took ${ms} ms`);
  });

  it('connect never completes → ConnectTimeoutError at the connect timeout', async () => {
    const hole = await startBlackHole();
    cleanup = () => hole.close();
    const { error, ms } = await expectFailure(hole.url, ConnectTimeoutError);
    assert.equal(error.code, 'SCANNER_CONNECT_TIMEOUT');
    assert.ok(ms >= CONNECT_MS - 20 && ms < CONNECT_MS + SLACK_MS, `took ${ms} ms`);
  });

  it('never answers → ScanTimeoutError at the scan timeout', async () => {
    const { error, ms } = await expectFailure(await fake({ kind: 'silent' }), ScanTimeoutError);
    assert.equal(error.code, 'SCANNER_SCAN_TIMEOUT');
    assert.ok(ms >= SCAN_MS - 20 && ms < SCAN_MS + SLACK_MS, `took ${ms} ms`);
  });

  it('drips one byte a second → ScanTimeoutError at the scan timeout', async () => {
    const bytes = httpResponse(200, 'OK', '{"action":"no action","score":0,"required_score":15}');
    const url = await fake({ kind: 'drip', bytes: bytes.toString('latin1'), intervalMs: 1000 });
    const { ms } = await expectFailure(url, ScanTimeoutError);
    assert.ok(ms < SCAN_MS + SLACK_MS, `took ${ms} ms`);
  });

  it('resets mid-reply → ConnectionError', async () => {
    const partial =
      'HTTP/1.1 200 OK\r\nContent-Length: 500\r\nContent-Type: application/json\r\n\r\n{"act';
    const { ms } = await expectFailure(await fake({ kind: 'reset', partial }), ConnectionError);
    assert.ok(ms < SCAN_MS, `took ${ms} ms`);
  });

  it('closes after the headers, before the promised body → ConnectionError', async () => {
    const bytes = 'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"action":';
    await expectFailure(await fake({ kind: 'raw', bytes }), ConnectionError);
  });

  it('closes without answering → ConnectionError', async () => {
    await expectFailure(await fake({ kind: 'raw', bytes: '' }), ConnectionError);
  });

  it('answers garbage JSON → BadResponseError', async () => {
    const url = await fake({
      kind: 'raw',
      bytes: httpResponse(200, 'OK', '{"action": no action}'),
    });
    const { error } = await expectFailure(url, BadResponseError);
    assert.equal(error.code, 'SCANNER_BAD_RESPONSE');
    assert.equal(error.retryable, false);
  });

  it('answers JSON without required fields → BadResponseError naming the field', async () => {
    const url = await fake({ kind: 'raw', bytes: httpResponse(200, 'OK', '{"action":"reject"}') });
    const { error } = await expectFailure(url, BadResponseError);
    assert.match(error.message, /score/);
  });

  it('answers something that is not HTTP → BadResponseError', async () => {
    await expectFailure(
      await fake({ kind: 'raw', bytes: 'SPAMD/1.1 0 EX_OK\r\n\r\n' }),
      BadResponseError,
    );
  });

  it('declares a 100 MB body → ResponseTooLargeError before reading it', async () => {
    const url = await fake({ kind: 'huge', bytes: 100 * 1024 * 1024, declareLength: true });
    const { error, ms } = await expectFailure(url, ResponseTooLargeError);
    assert.equal(error.code, 'SCANNER_RESPONSE_TOO_LARGE');
    assert.ok(ms < SCAN_MS, `took ${ms} ms`);
  });

  it('streams 100 MB without a length → ResponseTooLargeError as soon as the cap is passed', async () => {
    const url = await fake({ kind: 'huge', bytes: 100 * 1024 * 1024, declareLength: false });
    const { ms } = await expectFailure(url, ResponseTooLargeError);
    assert.ok(ms < SCAN_MS, `took ${ms} ms`);
  });

  it('answers 500 → retryable ServerError with rspamd’s error text', async () => {
    const body = '{"error":"invalid command","error_domain":"protocol-error"}';
    const url = await fake({ kind: 'raw', bytes: httpResponse(500, 'invalid command', body) });
    const { error } = await expectFailure(url, ServerError);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 500);
    assert.equal(error.retryable, true);
    assert.match(error.message, /invalid command/);
  });

  it('answers 4xx → ServerError that is not retried', async () => {
    const url = await fake({
      kind: 'raw',
      bytes: httpResponse(413, 'Payload Too Large', '{"error":"too big"}'),
    });
    const { error } = await expectFailure(url, ServerError);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 413);
    assert.equal(error.retryable, false);
  });

  it('caller aborts while waiting → ScanAbortedError at once', async () => {
    const url = await fake({ kind: 'silent' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('MTA went away')), 50);
    const { error, ms } = await expectFailure(url, ScanAbortedError, controller.signal);
    assert.equal(error.code, 'SCANNER_ABORTED');
    assert.ok(ms < SCAN_MS, `took ${ms} ms`);
  });

  it('an already aborted signal → ScanAbortedError without connecting', async () => {
    const server = await startFakeScanner({ kind: 'silent' });
    cleanup = () => server.close();
    await expectFailure(server.url, ScanAbortedError, AbortSignal.abort());
    assert.equal(server.requests.length, 0);
  });
});
