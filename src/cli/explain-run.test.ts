import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { Decision } from '../filter/decision.ts';
import { ScanFilter } from '../filter/scan-filter.ts';
import { messageFromRaw } from '../message/parse-raw.ts';
import { parseAccessMap } from '../policy/access-map.ts';
import { headerKit } from '../policy/header-kit.ts';
import { ConfiguredPolicy } from '../policy/policy.ts';
import { ConnectionError, ScanAbortedError } from '../scanners/errors.ts';
import type { Scanner, ScanRequest } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import type { Explanation } from './explain-model.ts';
import { explainMessage } from './explain-run.ts';
import { explanationText } from './explain-text.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const RAW = 'From: a@example.org\nSubject: hello\nX-Spam-Flag: NO\n\nHi Bob,\nsee you.\n';
const INFO = { version: '9.9.9', hostname: 'mx.test' };

function verdict(score: number): Verdict {
  return {
    scanner: 'spamd://fake:783',
    score,
    required: 5,
    isSpam: score >= 5,
    action: score >= 5 ? 'reject' : 'no action',
    symbols: [{ name: score >= 5 ? 'GTUBE' : 'BAYES_00', score, description: 'test rule' }],
    addHeaders: [],
    removeHeaders: [],
  };
}

/** A scanner that answers `result` (or throws it) and keeps what it was asked. */
function fake(result: Verdict | Error | 'hang'): Scanner & { requests: ScanRequest[] } {
  const requests: ScanRequest[] = [];
  return {
    url: 'spamd://fake:783',
    requests,
    scan(request, signal) {
      requests.push(request);
      if (result === 'hang')
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new ScanAbortedError('spamd://fake:783'))),
        );
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
    ping: () => Promise.resolve(),
    learn: () => Promise.reject(new Error('no')),
  };
}

interface Case {
  readonly config?: Record<string, unknown>;
  readonly raw?: string;
  readonly ip?: string;
  readonly rcpt?: readonly string[];
  readonly access?: string;
  readonly scanner?: Scanner;
}

async function explain(c: Case = {}): Promise<Explanation> {
  const urls = c.scanner === undefined ? [] : ['spamd://fake:783'];
  const given = (c.config?.['scanner'] ?? {}) as Record<string, unknown>;
  const config = ConfigSchema.parse({ ...c.config, scanner: { ...given, urls } });
  const { message, parts } = messageFromRaw(
    Buffer.from(c.raw ?? RAW),
    {
      clientAddress: c.ip ?? '203.0.113.9',
      helo: 'mail.example.org',
      sender: 'a@example.org',
      recipients: c.rcpt ?? ['bob@example.net'],
      queueId: 'Q1',
    },
    config.scan.maxScanBytes,
  );
  return explainMessage(config, message, parts.body, {
    accessMap: c.access === undefined ? undefined : parseAccessMap(c.access, 'access.map'),
    info: INFO,
    newRef: () => 'REF1',
    ...(c.scanner === undefined ? {} : { scanner: c.scanner }),
  });
}

const lines = (e: Explanation) => e.changes.map((c) => c.line);

describe('explainMessage: no scanner configured (the built-in engine)', () => {
  it('scores GTUBE as spam with the built-in engine and says so', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'spamward-explain-builtin-'));
    try {
      const e = await explain({
        raw: `Subject: x\n\n${GTUBE}\n`,
        config: { scanner: { builtin: { dataDir } }, actions: { reject: 'required + 0' } },
      });
      assert.equal(e.engine, 'builtin');
      assert.deepEqual(e.scanners, ['builtin']);
      assert.equal(e.decision?.verdict, 'reject');
      assert.match(e.reply.lines[0] ?? '', /^550 5\.7\.1 Message rejected as spam \(score 10\d\d/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('explainMessage: scanner and policy', () => {
  it('spam over the reject threshold: 550 with score and ref, no changes, nothing delivered', async () => {
    const scanner = fake(verdict(1000));
    const e = await explain({ scanner, config: { actions: { reject: 'required + 5' } } });
    assert.equal(e.scan.status, 'scanned');
    assert.equal(e.scanMode?.mode, 'scan');
    assert.deepEqual(e.reply.lines, ['550 5.7.1 Message rejected as spam (score 1000, ref REF1)']);
    assert.equal(e.decision?.action, 'reject');
    assert.equal(e.decision?.ref, 'REF1');
    assert.deepEqual(e.changes, []);
    assert.equal(e.delivery, null);
    assert.deepEqual(scanner.requests[0]?.envelope.recipients, ['bob@example.net']);
  });

  it('tagged spam: forged header out, ours in, subject tag, copy recipient, resulting message', async () => {
    const config = { subjectTag: { enabled: true }, routing: { spamCopyTo: ['trap@example.org'] } };
    const e = await explain({ scanner: fake(verdict(1000)), config });
    const changes = lines(e);
    assert.equal(changes[0], '- X-Spam-Flag[1]');
    assert.ok(changes.includes('+ X-Spam-Flag: YES'), changes.join('\n'));
    assert.ok(changes.includes('~ Subject[1]: [SPAM] hello'), changes.join('\n'));
    assert.equal(changes.at(-1), '+ RCPT <trap@example.org>');
    assert.deepEqual(e.delivery?.recipients, ['<bob@example.net>', '<trap@example.org>']);
    const text = e.resultingMessage?.text ?? '';
    assert.match(text, /^Subject: \[SPAM\] hello\r$/m);
    assert.doesNotMatch(text, /X-Spam-Flag: NO/);
    assert.match(text, /\r\n\r\nHi Bob,\r\nsee you\.\r\n$/);
  });

  it('redirected spam: the recipients are deleted and recorded', async () => {
    const config = { routing: { spamRedirectTo: 'quarantine@example.org' } };
    const e = await explain({ scanner: fake(verdict(9)), config });
    assert.ok(lines(e).includes('- RCPT <bob@example.net>'));
    assert.ok(lines(e).includes('+ RCPT <quarantine@example.org>'));
    assert.deepEqual(e.delivery?.recipients, ['<quarantine@example.org>']);
  });

  it('reports exactly the decision the daemon’s ScanFilter makes', async () => {
    const config = ConfigSchema.parse({
      scanner: { urls: ['spamd://fake:783'] },
      subjectTag: { enabled: true },
      actions: { quarantine: 8 },
    });
    const { message, parts } = messageFromRaw(
      Buffer.from(RAW),
      { clientAddress: '203.0.113.9', sender: 'a@b.example', recipients: ['c@d.example'] },
      config.scan.maxScanBytes,
    );
    const policy = new ConfiguredPolicy(config, INFO, headerKit(config, INFO), () => 'REF1');
    const direct: Decision = await new ScanFilter(fake(verdict(9)), policy).filter(
      message,
      AbortSignal.timeout(5_000),
    );
    const e = await explainMessage(config, message, parts.body, {
      accessMap: undefined,
      scanner: fake(verdict(9)),
      info: INFO,
      newRef: () => 'REF1',
    });
    assert.equal(e.decision?.verdict, direct.verdict.kind);
    assert.deepEqual(e.decision?.notes, direct.notes);
    assert.equal(e.changes.length, direct.modifications.length);
    assert.equal(e.changes.at(-1)?.line, 'quarantine: spam score 9 (ref REF1)');
    assert.equal(e.reply.note, 'accepted, then held in the MTA quarantine');
  });

  it('a scanner that is down: failure class, the failure policy, and its reply', async () => {
    const down = new ConnectionError('spamd://fake:783', 'connect ECONNREFUSED');
    const e = await explain({ scanner: fake(down) });
    assert.equal(e.scan.status, 'failed');
    if (e.scan.status !== 'failed') return;
    assert.equal(e.scan.code, 'SCANNER_CONNECTION_FAILED');
    assert.equal(e.scan.failureClass, 'unavailable');
    assert.equal(e.scan.action, 'tempfail');
    assert.deepEqual(e.reply.lines, [
      '451 4.7.1 Spam filter unavailable (ref REF1); try again later',
    ]);
    const accepting = await explain({
      scanner: fake(down),
      config: { failure: { unavailable: 'accept' } },
    });
    assert.equal(accepting.reply.code, 250);
    assert.ok(lines(accepting).some((l) => l.startsWith('+ X-Spam-Checker: unavailable')));
  });

  it('a scan past the filter deadline is a timeout failure', async () => {
    const e = await explain({ scanner: fake('hang'), config: { milter: { filterTimeoutMs: 50 } } });
    assert.equal(e.scan.status, 'failed');
    if (e.scan.status !== 'failed') return;
    assert.equal(e.scan.failureClass, 'timeout');
    assert.equal(e.reply.kind, 'tempfail');
  });

  it('an access map REJECT refuses without a scan and names file:line', async () => {
    const scanner = fake(verdict(0));
    const access = '# map\nconnect:198.51.100 REJECT No mail from here\n';
    const e = await explain({ scanner, access, ip: '198.51.100.7' });
    assert.equal(scanner.requests.length, 0);
    assert.equal(e.scan.status, 'not-scanned');
    assert.equal(e.scanMode?.mode, 'refuse');
    assert.equal(e.rules?.accessMap?.message.at, 'access.map:2');
    assert.ok(
      e.rules?.accessMap?.message.trace.some(
        (t) => t.text === 'connect:198.51.100 → REJECT No mail from here (access.map:2)',
      ),
    );
    assert.deepEqual(e.reply.lines, ['550 5.7.1 No mail from here']);
  });

  it('recipients refused at RCPT time are left out; with none left there is no message', async () => {
    const access = 'to:bob@example.net REJECT No such user\n';
    const scanner = fake(verdict(0));
    const one = await explain({ scanner, access, rcpt: ['bob@example.net', 'carol@example.net'] });
    assert.equal(one.rcpt[0]?.refused, '550 5.7.1 No such user');
    assert.equal(one.rcpt[1]?.refused, null);
    assert.deepEqual(scanner.requests[0]?.envelope.recipients, ['carol@example.net']);
    const none = await explain({ scanner: fake(verdict(0)), access });
    assert.equal(none.scan.status, 'not-reached');
    assert.equal(none.decision, null);
    assert.equal(none.reply.code, 554);
  });

  it('a trusted client is not scanned', async () => {
    const scanner = fake(verdict(1000));
    const e = await explain({ scanner, ip: '127.0.0.1' });
    assert.equal(scanner.requests.length, 0);
    assert.equal(e.rules?.trust.trustedNetwork, true);
    assert.equal(e.scanMode?.mode, 'skip');
    assert.equal(e.scan.status, 'not-scanned');
    assert.equal(e.reply.code, 250);
  });

  it('a body above the scan limit is not scanned, and delivered whole', async () => {
    const scanner = fake(verdict(1000));
    const e = await explain({ scanner, config: { scan: { maxScanBytes: 5 } } });
    assert.equal(scanner.requests.length, 0);
    assert.equal(e.rules?.size.truncated, true);
    assert.match(
      e.scan.status === 'not-scanned' ? e.scan.reason : '',
      /larger than the scan limit/,
    );
    assert.ok(lines(e).includes('+ X-Spam-Checker: skipped (too big)'));
    assert.match(e.resultingMessage?.text ?? '', /Hi Bob,\r\nsee you\.\r\n$/);
  });

  it('a dry run accepts unchanged and says what would have happened', async () => {
    const config = { dryRun: true, actions: { reject: 10 } };
    const e = await explain({ scanner: fake(verdict(1000)), config });
    assert.equal(e.decision?.verdict, 'accept');
    assert.equal(e.decision?.action, 'reject');
    assert.equal(e.decision?.dryRun, true);
    assert.deepEqual(e.changes, []);
  });
});

describe('explanationText', () => {
  it('prints every section, the verdict, the changes and the reply', async () => {
    const e = await explain({
      scanner: fake(verdict(1000)),
      access: 'from:example.org NEXT\n',
      config: { subjectTag: { enabled: true } },
    });
    const text = explanationText(e, true);
    for (const section of ['Envelope', 'Rules', 'Scan', 'Decision', 'Changes', 'SMTP reply'])
      assert.match(text, new RegExp(`^${section}`, 'm'));
    assert.match(text, /^ {2}MAIL FROM +<a@example\.org>$/m);
    assert.match(text, /^ {2}score +1000 \/ 5 \(spam\)$/m);
    assert.match(text, /^ {2}symbols +1000 {2}GTUBE {2}test rule$/m);
    assert.match(text, /from:example\.org → NEXT \(access\.map:1\)/);
    assert.match(text, /^ {2}~ Subject\[1\]: \[SPAM\] hello$/m);
    assert.match(text, /^ {2}250 accepted$/m);
    assert.match(text, /^Resulting message\nFrom: a@example\.org\n/m);
    assert.doesNotMatch(explanationText(e, false), /Resulting message/);
  });
});
