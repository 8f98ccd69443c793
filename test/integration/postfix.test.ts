/**
 * End-to-end tests against a real, private Postfix instance (see test/support/postfix.ts) with the
 * Spamward daemon as its milter. Needs postfix and swaks, and root to start Postfix: missing
 * components skip the tests locally and fail them under CI=true.
 *
 * Run: node --import tsx --test test/integration/postfix.test.ts
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, type SpamwardProcess, startSpamward } from '../support/daemon.ts';
import {
  freeLoopbackPort,
  type PostfixInstance,
  postfixAvailable,
  startPostfix,
} from '../support/postfix.ts';
import { requireComponent } from '../support/require-component.ts';
import {
  type Envelope,
  formatReply,
  replyAt,
  type SmtpReply,
  sendWithSwaks,
  smtpSession,
  swaksAvailable,
} from '../support/smtp.ts';

/** Spamward as these tests run it: nothing trusted, spam (GTUBE) rejected at end of data. */
const SCANNING_ENV = {
  ...process.env,
  SPAMWARD_TRUST_NETWORKS: '',
  SPAMWARD_ACTIONS_REJECT: 'required + 0',
};

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const SENDER = 'alice@example.org';
const BOUNDARY = '=_spamward_e2e_boundary';
/** What smtpd logs when the milter port is closed. */
const MILTER_REFUSED = /connect to Milter service inet:127\.0\.0\.1:\d+: Connection refused/;

/** Components needed by every test here, checked once. */
const missingComponent = postfixAvailable() ?? swaksAvailable();

/** Applies the skip policy (skip locally, fail under CI=true); true when the test may run. */
function componentsPresent(t: TestContext): boolean {
  return (
    requireComponent(t, 'postfix', postfixAvailable()) &&
    requireComponent(t, 'swaks', swaksAvailable())
  );
}

/** Runs a test body; on failure prints the maillogs and daemon output as test diagnostics. */
async function withDiagnostics(
  t: TestContext,
  sources: { postfix?: PostfixInstance[]; daemon?: SpamwardProcess },
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    for (const instance of sources.postfix ?? []) {
      printDiagnostic(t, `maillog of ${instance.dir}`, await instance.log());
    }
    if (sources.daemon !== undefined) {
      printDiagnostic(t, 'spamward output', sources.daemon.output());
    }
    throw error;
  }
}

/** Prints a multi-line text as diagnostics, one line each (TAP would escape embedded newlines). */
function printDiagnostic(t: TestContext, title: string, text: string): void {
  t.diagnostic(`--- ${title} ---`);
  for (const line of text.trimEnd().split('\n')) t.diagnostic(line);
}

/** A message split into the part before the blank line and the body after it. */
interface ParsedMessage {
  /** Unfolded header lines. */
  headers: string[];
  body: Buffer;
}

/** Splits a message at the first empty line (CRLF or LF line endings) and unfolds the headers. */
function parseMessage(raw: Buffer): ParsedMessage {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const useCrlf = crlf !== -1 && (lf === -1 || crlf < lf);
  const split = useCrlf ? crlf : lf;
  assert.notEqual(split, -1, 'message has no header/body separator');
  const headerText = raw.subarray(0, split).toString('utf8');
  const body = raw.subarray(split + (useCrlf ? 4 : 2));
  const headers = headerText.split(/\r?\n(?![ \t])/).map((line) => line.replace(/\r?\n/g, ''));
  return { headers, body };
}

/** Values of every header with this name (the single space after the colon is not part of it). */
function headerValues(message: ParsedMessage, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return message.headers
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).replace(/^ /, ''));
}

/**
 * The body Postfix must deliver for a body sent over SMTP. Exactly two normalisations:
 * 1. CRLF → LF: SMTP carries CRLF; Postfix stores lines without their terminator and the
 *    virtual(8) Maildir writer ends every line with a bare LF.
 * 2. A final LF is appended when the sent body had no final line ending: the SMTP end-of-data
 *    sequence `<CRLF>.<CRLF>` terminates the last line, so the client (toSmtpData) adds a CRLF
 *    and Postfix stores a complete last line, which Maildir writes with LF.
 * Nothing else (8-bit bytes, long lines, trailing whitespace, `.`/`From ` at line start) may change.
 */
function expectedDeliveredBody(sentBody: Buffer): Buffer {
  const lf = Buffer.from(sentBody.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
  return lf.at(-1) === 0x0a ? lf : Buffer.concat([lf, Buffer.from('\n')]);
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing run can be reproduced. */
function pseudoRandomBytes(length: number, seed = 0x5eed1234): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** A line of exactly `length` printable ASCII characters, tagged with its number. */
function longLine(number: number, length = 990): string {
  const prefix = `line ${number} of exactly ${length} characters: `;
  const filler = 'abcdefghijklmnopqrstuvwxyz0123456789-'.repeat(Math.ceil(length / 37));
  return (prefix + filler).slice(0, length);
}

/** Joins header lines and a body into a CRLF message. */
function buildMessage(headers: string[], body: string | Buffer): { message: Buffer; body: Buffer } {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'utf8');
  return { message: Buffer.concat([head, bodyBytes]), body: bodyBytes };
}

/** The simple test headers for a message with this subject and id. */
function basicHeaders(to: string, subject: string, id: string): string[] {
  return [
    `From: Alice <${SENDER}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    `Message-ID: <${id}@spamward.test>`,
  ];
}

/**
 * The fidelity message: multipart/mixed with an 8-bit UTF-8 text part (990-character lines, a
 * leading dot, a leading `From `, trailing whitespace) and a ~2 MB base64 attachment; the body
 * ends without a final newline.
 */
function fidelityMessage(to: string): { message: Buffer; headers: string[]; body: Buffer } {
  const headers = [
    ...basicHeaders(to, 'Spamward end-to-end body fidelity', 'fidelity'),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
  ];
  const attachment = pseudoRandomBytes(1_536_000).toString('base64');
  const base64Lines = attachment.match(/.{1,76}/g) ?? [];
  const lines = [
    'This is a multi-part message in MIME format.',
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße aus Köln: naïve café, 東京, Ελληνικά, Ünïcödé ✓ 🎉',
    '.a line starting with a dot (SMTP dot-stuffing must be undone)',
    'From the start of a line: Maildir must not quote this as >From',
    'trailing spaces and a tab   \t',
    '',
    '',
    longLine(1),
    longLine(2),
    longLine(3),
    `--${BOUNDARY}`,
    'Content-Type: application/octet-stream; name="blob.bin"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="blob.bin"',
    '',
    ...base64Lines,
    `--${BOUNDARY}--`,
    'Epilogue: the message ends here, without a final newline. Schluss ✓',
  ];
  return { ...buildMessage(headers, lines.join('\r\n')), headers };
}

/**
 * Waits for the messages with these Message-IDs (e.g. `<first@spamward.test>`) and returns them in
 * the same order. Other deliveries (strays of an earlier, failed test) are ignored.
 */
async function waitForMessages(postfix: PostfixInstance, ids: string[]): Promise<ParsedMessage[]> {
  const found = new Map<string, ParsedMessage>();
  while (found.size < ids.length) {
    const [raw] = await postfix.waitForDelivery(1);
    assert.ok(raw !== undefined);
    const message = parseMessage(raw);
    const id = ids.find((wanted) => headerValues(message, 'Message-ID').includes(wanted));
    if (id !== undefined) found.set(id, message);
  }
  return ids.map((id) => found.get(id) ?? assert.fail(`message ${id} not delivered`));
}

/** Asserts a reply's code and enhanced status code. */
function assertReply(
  reply: SmtpReply | undefined,
  code: number,
  enhanced: string,
  what: string,
): void {
  assert.ok(reply !== undefined, `${what}: no reply`);
  assert.equal(reply.code, code, `${what}: ${formatReply(reply)}`);
  assert.equal(reply.enhanced, enhanced, `${what}: ${formatReply(reply)}`);
}

/** Asserts that a delivered message carries sent body bytes unchanged (modulo the documented normalisation). */
function assertBodyIntact(delivered: ParsedMessage, sentBody: Buffer): void {
  const expected = expectedDeliveredBody(sentBody);
  if (delivered.body.equals(expected)) return;
  const at = firstDifference(delivered.body, expected);
  assert.fail(
    `delivered body differs from the sent body at byte ${at} ` +
      `(delivered ${delivered.body.length} bytes, expected ${expected.length}): ` +
      `got ${JSON.stringify(delivered.body.subarray(at, at + 40).toString('latin1'))}, ` +
      `expected ${JSON.stringify(expected.subarray(at, at + 40).toString('latin1'))}`,
  );
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}

/** Asserts that `sent` header lines appear in `delivered`, in the same order. */
function assertHeadersKept(delivered: ParsedMessage, sent: string[]): void {
  let from = 0;
  for (const line of sent) {
    const index = delivered.headers.indexOf(line, from);
    assert.notEqual(index, -1, `sent header missing or reordered: ${line}`);
    from = index + 1;
  }
}

describe('Postfix end-to-end with Spamward as milter', { timeout: 120_000 }, () => {
  let version: string;
  let spamward: SpamwardProcess | undefined;
  let postfix: PostfixInstance | undefined;

  /** The running instances; only called by tests that passed the component check. */
  const running = (): { spamward: SpamwardProcess; postfix: PostfixInstance } => {
    assert.ok(
      spamward !== undefined && postfix !== undefined,
      'before hook did not start services',
    );
    return { spamward, postfix };
  };

  before(async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    version = pkg.version;
    if (missingComponent !== null) return;
    // The built-in engine scans (no scanner configured); the test client is on loopback, trusted
    // by default, so trust nothing, and reject spam so GTUBE shows the SMTP-level path.
    spamward = await startSpamward([], { env: SCANNING_ENV });
    postfix = await startPostfix({ milter: `inet:127.0.0.1:${spamward.port}` });
  });

  after(async () => {
    await postfix?.stop();
    await spamward?.stop();
  });

  it('delivers a normal message stamped by Spamward with a byte-identical body', async (t) => {
    if (!componentsPresent(t)) return;
    const { spamward, postfix } = running();
    await withDiagnostics(t, { postfix: [postfix], daemon: spamward }, async () => {
      const to = `bob@${postfix.domain}`;
      const sent = fidelityMessage(to);
      assert.ok(sent.message.length > 2_000_000, 'the test message should be over 2 MB');
      assert.notEqual(sent.body.at(-1), 0x0a, 'the test body must end without a newline');
      const result = await sendWithSwaks(postfix.smtpPort, {
        from: SENDER,
        to,
        message: sent.message,
      });
      assertReply(replyAt(result, 'DOT'), 250, '2.0.0', `end of data\n${result.transcript}`);

      const [delivered] = await waitForMessages(postfix, ['<fidelity@spamward.test>']);
      assert.ok(delivered !== undefined);
      // Over scan.maxScanBytes (512 KiB): passed unscanned, with the stamp that says so.
      assert.deepEqual(headerValues(delivered, 'X-Spam-Checker'), ['skipped (too big)']);
      assertHeadersKept(delivered, sent.headers);
      // Byte-identical except CRLF → LF and the final LF that terminates the last line, which
      // had none when sent (SMTP cannot transmit an unterminated line): see expectedDeliveredBody.
      assertBodyIntact(delivered, sent.body);
    });
  });

  it('rejects a GTUBE message at SMTP level with 550 5.7.1 and delivers nothing', async (t) => {
    if (!componentsPresent(t)) return;
    const { spamward, postfix } = running();
    await withDiagnostics(t, { postfix: [postfix], daemon: spamward }, async () => {
      const to = `carol@${postfix.domain}`;
      const { message } = buildMessage(
        basicHeaders(to, 'GTUBE test', 'gtube'),
        `This message carries the GTUBE test string:\r\n\r\n${GTUBE}\r\n`,
      );
      const result = await sendWithSwaks(postfix.smtpPort, { from: SENDER, to, message });
      assertReply(replyAt(result, 'DOT'), 550, '5.7.1', `end of data\n${result.transcript}`);
      assert.notEqual(result.exitCode, 0, 'swaks should report the rejection');
      // The reject happens before Postfix acknowledges the message, so no queue file survives it.
      assert.equal(await postfix.queueSize(), 0, 'rejected message left in the queue');
      assert.deepEqual(await postfix.takeDeliveries(), [], 'rejected message was delivered');
    });
  });

  it('scans and stamps both messages of one SMTP session', async (t) => {
    if (!componentsPresent(t)) return;
    const { spamward, postfix } = running();
    await withDiagnostics(t, { postfix: [postfix], daemon: spamward }, async () => {
      const to = `dave@${postfix.domain}`;
      const envelopes: (Envelope & { body: Buffer; id: string })[] = ['first', 'second'].map(
        (id) => {
          const built = buildMessage(
            basicHeaders(to, `message ${id} of one session`, id),
            `Body of the ${id} message.\r\nÄußerst wichtig.\r\n`,
          );
          return { from: SENDER, to, message: built.message, body: built.body, id };
        },
      );
      const session = await smtpSession(postfix.smtpPort, envelopes);
      for (const [index, transaction] of session.transactions.entries()) {
        assertReply(transaction.dot, 250, '2.0.0', `end of data of message ${index + 1}`);
      }

      const ids = envelopes.map((envelope) => `<${envelope.id}@spamward.test>`);
      const delivered = await waitForMessages(postfix, ids);
      for (const [index, envelope] of envelopes.entries()) {
        const id = ids[index];
        const message = delivered[index];
        assert.ok(message !== undefined);
        const [checker] = headerValues(message, 'X-Spam-Checker-Version');
        assert.ok(
          checker?.startsWith(`Spamward ${version} (builtin)`),
          `stamp on ${id}: ${checker}`,
        );
        assertBodyIntact(message, envelope.body);
      }
    });
  });

  describe('when Spamward is not running', () => {
    let tempfail: PostfixInstance | undefined;
    let accept: PostfixInstance | undefined;

    before(async () => {
      if (missingComponent !== null) return;
      // Nothing listens on this port: exactly what Postfix sees while Spamward is stopped.
      const milter = `inet:127.0.0.1:${await freeLoopbackPort()}`;
      const started = await Promise.allSettled([
        startPostfix({ milter, defaultAction: 'tempfail' }),
        startPostfix({ milter, defaultAction: 'accept' }),
      ]);
      [tempfail, accept] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      const failure = started.find((r) => r.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    });

    after(async () => {
      await Promise.all([tempfail?.stop(), accept?.stop()]);
    });

    it('answers 451 4.7.1 with milter_default_action = tempfail', async (t) => {
      if (!componentsPresent(t)) return;
      assert.ok(tempfail !== undefined);
      const postfix = tempfail;
      await withDiagnostics(t, { postfix: [postfix] }, async () => {
        const to = `erin@${postfix.domain}`;
        const { message } = buildMessage(
          basicHeaders(to, 'milter down', 'down-tempfail'),
          'Hello.\r\n',
        );
        const result = await sendWithSwaks(postfix.smtpPort, { from: SENDER, to, message });
        // smtpd defers the milter's connect-time failure to the MAIL command.
        assertReply(replyAt(result, 'MAIL'), 451, '4.7.1', `MAIL\n${result.transcript}`);
        assert.equal(replyAt(result, 'DOT'), undefined, 'message data must not be accepted');
        assert.notEqual(result.exitCode, 0);
        assert.equal(await postfix.queueSize(), 0);
        assert.deepEqual(await postfix.takeDeliveries(), []);
        assert.match(await postfix.log(), MILTER_REFUSED, 'Postfix did not try the milter');
      });
    });

    it('delivers unstamped with milter_default_action = accept', async (t) => {
      if (!componentsPresent(t)) return;
      assert.ok(accept !== undefined);
      const postfix = accept;
      await withDiagnostics(t, { postfix: [postfix] }, async () => {
        const to = `frank@${postfix.domain}`;
        const sent = buildMessage(basicHeaders(to, 'milter down', 'down-accept'), 'Grüße.\r\n');
        const result = await sendWithSwaks(postfix.smtpPort, {
          from: SENDER,
          to,
          message: sent.message,
        });
        assertReply(replyAt(result, 'DOT'), 250, '2.0.0', `end of data\n${result.transcript}`);
        const [raw] = await postfix.waitForDelivery(1);
        assert.ok(raw !== undefined);
        const delivered = parseMessage(raw);
        assert.deepEqual(headerValues(delivered, 'X-Spam-Checker-Version'), []);
        assert.deepEqual(headerValues(delivered, 'X-Spam-Checker'), []);
        assertBodyIntact(delivered, sent.body);
        assert.match(await postfix.log(), MILTER_REFUSED, 'Postfix did not try the milter');
      });
    });
  });
});
