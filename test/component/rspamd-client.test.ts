import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, before, describe, it } from 'node:test';
import {
  BadResponseError,
  ConnectionError,
  LearnUnsupportedError,
  ScanAbortedError,
  ServerError,
} from '../../src/scanners/errors.ts';
import { RspamdScanner, type RspamdScannerOptions } from '../../src/scanners/rspamd/client.ts';
import type { ScanRequest } from '../../src/scanners/scanner.ts';
import { activeResources, assertResourcesBackTo } from '../support/active-resources.ts';
import {
  type FakeBehaviour,
  type FakeScanner,
  headerValues,
  httpResponse,
  type RecordedRequest,
  startFakeScanner,
} from '../support/fake-http-scanner.ts';

const fixtures = new URL('../fixtures/rspamd/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, fixtures));

/** The raw response under `### title` in the controller transcript (CRLF HTTP, LF separators). */
function learnTranscript(title: string): Buffer {
  const text = fixture('rspamd-controller-learn.txt').toString('latin1');
  const start = text.indexOf(`### ${title}\n`);
  assert.notEqual(start, -1, title);
  const raw = text.slice(text.indexOf('\n', start) + 1);
  const headEnd = raw.indexOf('\r\n\r\n') + 4;
  const length = Number(/Content-Length: (\d+)/.exec(raw.slice(0, headEnd))?.[1]);
  return Buffer.from(raw.slice(0, headEnd + length), 'latin1');
}

const message = Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n');
const request: ScanRequest = {
  message,
  envelope: {
    clientAddress: '198.18.0.10',
    helo: 'mail.example.org',
    sender: 'sender@exämple.org',
    recipients: ['rcpt@example.com', 'other@example.com'],
    queueId: '4ABCDEF123',
  },
};
const signal = new AbortController().signal;

describe('RspamdScanner against a scripted server', () => {
  let server: FakeScanner | undefined;
  let baseline: string[] = [];
  before(() => {
    baseline = activeResources();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await assertResourcesBackTo(baseline);
  });

  async function scanner(
    behaviour: FakeBehaviour | ((r: RecordedRequest, i: number) => FakeBehaviour),
    options: Partial<RspamdScannerOptions> = {},
  ): Promise<RspamdScanner> {
    server = await startFakeScanner(behaviour);
    return new RspamdScanner({
      url: server.url,
      controllerUrl: server.url,
      scanTimeoutMs: 2_000,
      ...options,
    });
  }

  it('scan: POST /checkv2 with the envelope headers, Rcpt repeated, the exact body', async () => {
    const s = await scanner(
      { kind: 'raw', bytes: httpResponse(200, 'OK', fixture('rspamd-checkv2-gtube.json.raw')) },
      { settingsId: 'inbound' },
    );
    const verdict = await s.scan(request, signal);
    assert.equal(verdict.action, 'reject');
    assert.equal(verdict.scanner, server?.url);
    const got = server?.requests[0];
    assert.ok(got !== undefined);
    assert.equal(got.method, 'POST');
    assert.equal(got.path, '/checkv2');
    assert.deepEqual(got.body, message);
    assert.deepEqual(headerValues(got, 'Content-Length'), [String(message.length)]);
    assert.deepEqual(headerValues(got, 'Rcpt'), ['<rcpt@example.com>', '<other@example.com>']);
    assert.deepEqual(headerValues(got, 'From'), ['<sender@xn--exmple-cua.org>']);
    assert.deepEqual(headerValues(got, 'IP'), ['198.18.0.10']);
    assert.deepEqual(headerValues(got, 'Queue-Id'), ['4ABCDEF123']);
    assert.deepEqual(headerValues(got, 'Settings-ID'), ['inbound']);
    assert.deepEqual(headerValues(got, 'Flags'), ['milter']);
    assert.deepEqual(headerValues(got, 'Password'), []);
    assert.deepEqual(headerValues(got, 'Deliver-To'), []);
  });

  it('scan: a UTF-8 local part arrives as its UTF-8 bytes', async () => {
    const s = await scanner({
      kind: 'raw',
      bytes: httpResponse(200, 'OK', fixture('rspamd-checkv2-gtube-A.json.raw')),
    });
    await s.scan(
      { ...request, envelope: { sender: 'jürgen@example.org', recipients: [] } },
      signal,
    );
    const from = headerValues(server?.requests[0] ?? assert.fail(), 'From')[0] ?? '';
    assert.equal(Buffer.from(from, 'latin1').toString('utf8'), '<jürgen@example.org>');
  });

  it('basic auth from the options (or the URL) on every request', async () => {
    const s = await scanner(
      { kind: 'raw', bytes: httpResponse(200, 'OK', 'pong\r\n', 'text/plain') },
      {
        basicAuth: { username: 'u', password: 'p:w' },
      },
    );
    await s.ping(signal);
    assert.deepEqual(headerValues(server?.requests[0] ?? assert.fail(), 'Authorization'), [
      `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    ]);
  });

  it('ping: GET /ping → pong; anything else is a BadResponseError', async () => {
    const s = await scanner((_r, i) => ({
      kind: 'raw',
      bytes: httpResponse(200, 'OK', i === 0 ? 'pong\r\n' : 'pang', 'text/plain'),
    }));
    await s.ping(signal);
    assert.equal(server?.requests[0]?.method, 'GET');
    assert.equal(server?.requests[0]?.path, '/ping');
    await assert.rejects(s.ping(signal), BadResponseError);
  });

  it('learn: POST /learnspam with Password; 200 → learned, 208 (transcript) → already known', async () => {
    const s = await scanner(
      (_r, i) => ({
        kind: 'raw',
        bytes: learnTranscript(
          i === 0
            ? 'POST /learnspam Password: research-rw (enable password)'
            : 'same message again',
        ),
      }),
      { password: 'research-rw' },
    );
    assert.deepEqual(await s.learn('spam', request, signal), { learned: true });
    assert.deepEqual(await s.learn('spam', request, signal), { learned: false });
    const got = server?.requests[0] ?? assert.fail();
    assert.equal(got.path, '/learnspam');
    assert.deepEqual(headerValues(got, 'Password'), ['research-rw']);
    assert.deepEqual(got.body, message);
    assert.deepEqual(headerValues(got, 'Flags'), []);
  });

  it('learn ham: POST /learnham', async () => {
    const s = await scanner({ kind: 'raw', bytes: learnTranscript('/learnham other message') });
    assert.deepEqual(await s.learn('ham', request, signal), { learned: true });
    assert.equal(server?.requests[0]?.path, '/learnham');
  });

  it('learn without a Redis classifier: the real 204-with-a-body → LearnUnsupportedError', async () => {
    const s = await scanner({ kind: 'raw', bytes: fixture('rspamd-learnspam-no-redis.http') });
    await assert.rejects(
      s.learn('spam', request, signal),
      (e: unknown) =>
        e instanceof LearnUnsupportedError &&
        e.code === 'SCANNER_LEARN_UNSUPPORTED' &&
        /Redis/.test(e.message) &&
        /all learn conditions denied/.test(e.message),
    );
  });

  it('learn with a wrong password (401) or on a normal worker (500 invalid command) → LearnUnsupportedError', async () => {
    const s = await scanner((_r, i) => ({
      kind: 'raw',
      bytes: learnTranscript(
        i === 0
          ? 'POST /learnspam with the read-only password'
          : '/learnspam on the normal worker port',
      ),
    }));
    await assert.rejects(s.learn('spam', request, signal), /enable password/);
    await assert.rejects(s.learn('spam', request, signal), /not an rspamd controller/);
  });

  it('learn: other errors are ServerErrors (400 not retryable)', async () => {
    const s = await scanner({ kind: 'raw', bytes: learnTranscript('/learnham empty body') });
    await assert.rejects(
      s.learn('ham', request, signal),
      (e: unknown) =>
        e instanceof ServerError &&
        e.status === 400 &&
        !e.retryable &&
        /Empty body/.test(e.message),
    );
  });

  it('forget → LearnUnsupportedError without contacting rspamd', async () => {
    const s = await scanner({ kind: 'silent' });
    await assert.rejects(
      s.learn('forget', request, signal),
      (e: unknown) => e instanceof LearnUnsupportedError && /forget/.test(e.message),
    );
    assert.equal(server?.requests.length, 0);
  });

  it('rspamd+https: checks the certificate against the given CA, sends basic auth from the URL', async () => {
    const tls = new URL('../fixtures/tls/', import.meta.url);
    const cert = readFileSync(new URL('localhost-cert.pem', tls));
    const seen: string[] = [];
    const https = createHttpsServer(
      { key: readFileSync(new URL('localhost-key.pem', tls)), cert },
      (req, res) => {
        seen.push(req.headers.authorization ?? '');
        res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' }).end('pong\r\n');
      },
    );
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    const { port } = https.address() as AddressInfo;
    try {
      const trusting = new RspamdScanner({
        url: `rspamd+https://u:p%40w@127.0.0.1:${port}`,
        tls: { ca: cert },
      });
      assert.equal(trusting.url, `rspamd+https://127.0.0.1:${port}`);
      await trusting.ping(signal);
      assert.deepEqual(seen, [`Basic ${Buffer.from('u:p@w').toString('base64')}`]);
      const untrusting = new RspamdScanner({ url: `rspamd+https://127.0.0.1:${port}` });
      await assert.rejects(
        untrusting.ping(signal),
        (e: unknown) => e instanceof ConnectionError && /certificate/.test(e.message),
      );
    } finally {
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
    }
  });

  it('the controller defaults to the worker host on port 11334; options are checked', async () => {
    const s = new RspamdScanner({ url: 'rspamd://127.0.0.1:18333' });
    assert.equal(s.url, 'rspamd://127.0.0.1:18333');
    // An aborted signal fails before connecting, naming the endpoint it would have used.
    await assert.rejects(
      s.learn('spam', request, AbortSignal.abort()),
      (e: unknown) => e instanceof ScanAbortedError && e.scanner === 'rspamd://127.0.0.1:11334',
    );
    assert.throws(() => new RspamdScanner({ url: 'rspamd://h', scanTimeoutMs: 0 }), RangeError);
    assert.throws(() => new RspamdScanner({ url: 'rspamd://h', password: 'a\r\nb' }), RangeError);
  });
});
