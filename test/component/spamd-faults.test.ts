/**
 * Fault injection for the spamd client against scripted fake servers: every fault ends in its
 * typed error within the configured timeout, and no socket or timer is left behind.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BadResponseError,
  ConnectionError,
  ConnectTimeoutError,
  LearnUnsupportedError,
  ResponseTooLargeError,
  ScanAbortedError,
  type ScannerError,
  ScanTimeoutError,
  ServerError,
} from '../../src/scanners/errors.ts';
import type { ScanRequest } from '../../src/scanners/scanner.ts';
import { SpamdScanner, type SpamdScannerOptions } from '../../src/scanners/spamd/client.ts';
import {
  closedPortUrl,
  type FakeBehaviour,
  type FakeSpamd,
  startBlackhole,
  startFakeSpamd,
} from '../support/fake-spamd.ts';
import { gtubeProbe, loadTranscript } from '../support/spamd-transcript.ts';

/** Short limits, so every case ends quickly; the slack covers scheduling on a busy machine. */
const TIMEOUT_MS = 300;
const SLACK_MS = 250;
const LIMITS = { connectTimeoutMs: TIMEOUT_MS, scanTimeoutMs: TIMEOUT_MS } as const;

const REQUEST: ScanRequest = {
  message: gtubeProbe(),
  envelope: {
    recipients: ['rcpt@example.com'],
    clientAddress: '198.51.100.7',
    clientName: 'mail.example.net',
    helo: 'mail.example.net',
    mtaName: 'mx.example.com',
    queueId: '4XYZ',
  },
};

type ErrorClass = abstract new (...args: never[]) => ScannerError;

/** Handles and timers of this process: what a leaked socket or timer would show up in. */
function resources(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  const count = (names: string[]): number => info.filter((name) => names.includes(name)).length;
  return { sockets: count(['TCPSocketWrap', 'PipeWrap', 'TLSWrap']), timers: count(['Timeout']) };
}

/** Waits (briefly: closes finish on the next loop turns) until resources equal the baseline. */
async function assertBackTo(baseline: { sockets: number; timers: number }): Promise<void> {
  for (let i = 0; i < 50 && JSON.stringify(resources()) !== JSON.stringify(baseline); i++) {
    await sleep(10);
  }
  assert.deepEqual(resources(), baseline, 'a socket or timer was left behind');
}

/** Runs `work`, expects `type` within `maxMs`, and returns the error. */
async function expectError(
  work: () => Promise<unknown>,
  type: ErrorClass,
  maxMs = TIMEOUT_MS + SLACK_MS,
): Promise<ScannerError> {
  const started = performance.now();
  const error = await work().then(
    () => assert.fail(`expected ${type.name}, got a result`),
    (caught: unknown) => caught,
  );
  const elapsed = performance.now() - started;
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.ok(elapsed <= maxMs, `${type.name} after ${Math.round(elapsed)} ms, limit ${maxMs} ms`);
  return error;
}

describe('spamd client faults', () => {
  let fake: FakeSpamd | undefined;
  let baseline = resources();

  /** A fake with one behaviour and a scanner for it. */
  async function scannerFor(
    behaviour: FakeBehaviour,
    options: Partial<SpamdScannerOptions> = {},
  ): Promise<SpamdScanner> {
    fake = await startFakeSpamd(behaviour);
    return new SpamdScanner({ url: fake.url, ...LIMITS, ...options });
  }

  // The baseline is taken before the fake starts; closing the fake ends its own sockets and
  // timers (a silent server cannot notice that a half-closed client went away), so whatever
  // is left afterwards was left by the client.
  beforeEach(() => {
    baseline = resources();
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    await assertBackTo(baseline);
  });

  it('a refused connection is a retryable ConnectionError', async () => {
    const scanner = new SpamdScanner({ url: await closedPortUrl(), ...LIMITS });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ConnectionError,
    );
    assert.equal(error.code, 'SCANNER_CONNECTION_FAILED');
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('a listener that never accepts is a ConnectTimeoutError', async () => {
    const blackhole = await startBlackhole();
    try {
      const scanner = new SpamdScanner({
        url: blackhole.url,
        connectTimeoutMs: TIMEOUT_MS,
        scanTimeoutMs: 5_000,
      });
      const error = await expectError(
        () => scanner.ping(new AbortController().signal),
        ConnectTimeoutError,
      );
      assert.equal(error.code, 'SCANNER_CONNECT_TIMEOUT');
    } finally {
      await blackhole.close();
    }
  });

  it('a server that never answers is a ScanTimeoutError', async () => {
    const scanner = await scannerFor({ kind: 'silent' });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ScanTimeoutError,
    );
    assert.equal(error.code, 'SCANNER_SCAN_TIMEOUT');
    assert.ok(error.message.includes(`${TIMEOUT_MS} ms`));
  });

  it('a reset in the middle of the reply is a ConnectionError', async () => {
    const scanner = await scannerFor({ kind: 'reset-mid-reply' });
    await expectError(() => scanner.scan(REQUEST, new AbortController().signal), ConnectionError);
  });

  it('garbage is a BadResponseError (not retried)', async () => {
    const scanner = await scannerFor({ kind: 'garbage' });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      BadResponseError,
    );
    assert.equal(error.retryable, false);
    assert.match(error.message, /HTTP\/1\.1 400/);
  });

  it('a 100 MB answer stops at the cap with ResponseTooLargeError', async () => {
    const scanner = await scannerFor(
      { kind: 'huge' },
      { maxResponseBytes: 64 * 1024, scanTimeoutMs: 5_000 },
    );
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ResponseTooLargeError,
      1_000,
    );
    assert.equal(error.code, 'SCANNER_RESPONSE_TOO_LARGE');
    // The fake stops when we hang up: only what fit into socket buffers was written.
    await sleep(50);
    assert.ok(
      (fake?.bytesWritten() ?? 0) < 32 * 1024 * 1024,
      `fake wrote ${fake?.bytesWritten()} bytes`,
    );
  });

  it('a reply dripping one byte a second is a ScanTimeoutError', async () => {
    const scanner = await scannerFor({ kind: 'drip' });
    await expectError(() => scanner.scan(REQUEST, new AbortController().signal), ScanTimeoutError);
  });

  it('a close before any reply is a ConnectionError', async () => {
    const scanner = await scannerFor({ kind: 'close-before-reply' });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ConnectionError,
    );
    assert.match(error.message, /without answering/);
  });

  it('a close in the middle of the body (FIN, Content-length short) is a ConnectionError', async () => {
    const full = loadTranscript('spamd-SYMBOLS-gtube.txt').reply;
    const scanner = await scannerFor({ kind: 'reply', reply: full.subarray(0, full.length - 5) });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ConnectionError,
    );
    assert.match(error.message, /before a complete answer/);
  });

  it("the caller's AbortSignal ends the scan with ScanAbortedError", async () => {
    const scanner = await scannerFor({ kind: 'silent' }, { scanTimeoutMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('MTA went away')), 100);
    const error = await expectError(
      () => scanner.scan(REQUEST, controller.signal),
      ScanAbortedError,
    );
    assert.equal(error.retryable, false);
    assert.ok(error.cause instanceof Error && error.cause.message === 'MTA went away');
  });

  it('an already aborted signal does not even connect', async () => {
    const scanner = await scannerFor({ kind: 'silent' });
    await expectError(() => scanner.scan(REQUEST, AbortSignal.abort()), ScanAbortedError, 50);
    await sleep(20);
    assert.equal(fake?.requests.length, 0);
  });

  it('an early error line (before the body was read) still becomes a ServerError', async () => {
    const reply = Buffer.from(
      "SPAMD/1.0 76 Bad header line: (header not in 'Name: value' format)\r\n",
    );
    const scanner = await scannerFor({ kind: 'reply', reply, early: true });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ServerError,
    );
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 76);
    assert.equal(error.retryable, false);
  });

  it('EX_TEMPFAIL is a retryable ServerError', async () => {
    const reply = Buffer.from('SPAMD/1.0 75 Temporary failure\r\n');
    const scanner = await scannerFor({ kind: 'reply', reply });
    const error = await expectError(
      () => scanner.scan(REQUEST, new AbortController().signal),
      ServerError,
    );
    assert.equal(error.retryable, true);
  });

  it('TELL without --allow-tell is LearnUnsupportedError', async () => {
    const text = 'Service Unavailable: TELL commands are not enabled, set the --allow-tell switch.';
    const scanner = await scannerFor({
      kind: 'reply',
      reply: Buffer.from(`SPAMD/1.0 69 ${text}\r\n`),
    });
    const error = await expectError(
      () => scanner.learn('spam', REQUEST, new AbortController().signal),
      LearnUnsupportedError,
    );
    assert.equal(error.code, 'SCANNER_LEARN_UNSUPPORTED');
  });

  it('sends the request in full and half-closes (real reply bytes round-trip to a verdict)', async () => {
    const { reply } = loadTranscript('spamd-SYMBOLS-gtube.txt');
    const scanner = await scannerFor({ kind: 'reply', reply }, { user: 'alice' });
    const verdict = await scanner.scan(REQUEST, new AbortController().signal);
    assert.equal(verdict.score, 1000);
    assert.deepEqual(
      verdict.symbols.map((symbol) => symbol.name),
      ['GTUBE', 'NO_RECEIVED', 'NO_RELAYS'],
    );
    const request = fake?.requests[0]?.toString('latin1') ?? '';
    const [head, body] = splitOnce(request);
    assert.match(head, /^SYMBOLS SPAMC\/1\.5\r\nUser: alice\r\nContent-length: (\d+)$/);
    assert.equal(
      Number(/Content-length: (\d+)/.exec(head)?.[1]),
      Buffer.byteLength(body, 'latin1'),
    );
    assert.ok(body.startsWith('Received: from mail.example.net (mail.example.net [198.51.100.7])'));
    assert.ok(body.endsWith(REQUEST.message.toString('latin1')));
  });
});

/** Splits a request at its first blank line. */
function splitOnce(request: string): [string, string] {
  const at = request.indexOf('\r\n\r\n');
  return [request.slice(0, at), request.slice(at + 4)];
}
