import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { Modification } from '../filter/decision.ts';
import type { Message } from '../message/message.ts';
import { AllServersDownError, BadResponseError, ScanTimeoutError } from '../scanners/errors.ts';
import type { Verdict } from '../scanners/verdict.ts';
import type { HeaderKit } from './header-kit.ts';
import { ConfiguredPolicy } from './policy.ts';
import { fillPlaceholders, UNSCANNED_HEADER } from './replies.ts';

const MESSAGE: Message = {
  id: 'Q1',
  client: { hostname: 'h', family: '4', address: '203.0.113.9', port: 1, helo: 'h' },
  sender: undefined,
  recipients: [],
  headers: [{ name: 'X-Spam-Flag', value: Buffer.from(' NO') }],
  body: Buffer.alloc(0),
  bodyBytes: 0,
  bodyTruncated: false,
  macros: {},
};

/** A recipient for the RCPT gate. */
const R = { address: '<bob@example.net>', raw: Buffer.from('<bob@example.net>'), args: [] };

const verdict = (score: number): Verdict => ({
  scanner: 'spamd://x',
  score,
  required: 5,
  isSpam: score >= 5,
  action: score >= 5 ? 'reject' : 'no action',
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
});

/** A kit that marks what it was asked for, so the policy's composition is visible. */
const KIT: HeaderKit = {
  spamHeaders: (v) => [{ kind: 'add-header', name: 'X-Spam-Flag', value: v.isSpam ? 'YES' : 'NO' }],
  scannerHeaders: () => [{ kind: 'add-header', name: 'X-Scanner-Own', value: '1' }],
  forgedDeletions: () => [{ kind: 'delete-header', name: 'X-Spam-Flag', occurrence: 1 }],
  subjectTag: () => ({ kind: 'change-header', name: 'Subject', occurrence: 1, value: '[SPAM] hi' }),
};

function policy(input: Record<string, unknown> = {}): ConfiguredPolicy {
  return new ConfiguredPolicy(
    ConfigSchema.parse(input),
    { version: '9.9.9', hostname: 'mx' },
    KIT,
    () => 'REF1',
  );
}

const kinds = (mods: readonly Modification[]) =>
  mods.map((m) => `${m.kind}:${'name' in m ? m.name : ''}`);

describe('ConfiguredPolicy', () => {
  it('ham: forged headers out, our headers and the scanner’s in, no subject tag', () => {
    const d = policy({ subjectTag: { enabled: true } }).decide(MESSAGE, verdict(1));
    assert.equal(d.verdict.kind, 'accept');
    assert.deepEqual(kinds(d.modifications), [
      'delete-header:X-Spam-Flag',
      'add-header:X-Spam-Flag',
      'add-header:X-Scanner-Own',
    ]);
    assert.equal(d.notes?.['ref'], 'REF1');
    assert.equal(d.notes?.['score'], 1);
  });

  it('spam is tagged (subject only when enabled), not rejected, by default', () => {
    const plain = policy().decide(MESSAGE, verdict(9));
    assert.equal(plain.verdict.kind, 'accept');
    assert.ok(!kinds(plain.modifications).includes('change-header:Subject'));
    const tagged = policy({ subjectTag: { enabled: true } }).decide(MESSAGE, verdict(9));
    assert.ok(kinds(tagged.modifications).includes('change-header:Subject'));
  });

  it('rejects with the configured reply, placeholders filled, nothing else sent', () => {
    const d = policy({ actions: { reject: 'required + 3' } }).decide(MESSAGE, verdict(9));
    assert.deepEqual(d.verdict, {
      kind: 'reject',
      reply: {
        code: 550,
        enhanced: '5.7.1',
        lines: ['Message rejected as spam (score 9, ref REF1)'],
      },
    });
    assert.deepEqual(d.modifications, []);
    assert.equal(d.notes?.['action'], 'reject');
  });

  it('tempfails, discards and quarantines at their thresholds', () => {
    assert.equal(
      policy({ actions: { tempfail: 6 } }).decide(MESSAGE, verdict(7)).verdict.kind,
      'tempfail',
    );
    assert.equal(
      policy({ actions: { discard: 6 } }).decide(MESSAGE, verdict(7)).verdict.kind,
      'discard',
    );
    const q = policy({ actions: { quarantine: 6 } }).decide(MESSAGE, verdict(7));
    assert.equal(q.verdict.kind, 'accept');
    assert.deepEqual(q.modifications.at(-1), {
      kind: 'quarantine',
      reason: 'spam score 7 (ref REF1)',
    });
  });

  it('dry run: decides and notes, but changes and rejects nothing', () => {
    const d = policy({ dryRun: true, actions: { reject: 5 } }).decide(MESSAGE, verdict(9));
    assert.deepEqual(
      [d.verdict.kind, d.modifications.length, d.notes?.['action'], d.notes?.['dryRun']],
      ['accept', 0, 'reject', true],
    );
  });

  it('skipped (too big): passes stamped as not scanned', () => {
    const d = policy().skipped(MESSAGE, 'too big');
    assert.equal(d.verdict.kind, 'accept');
    assert.deepEqual(d.modifications.at(-1), {
      kind: 'add-header',
      name: UNSCANNED_HEADER,
      value: 'skipped (too big)',
    });
    assert.equal(d.notes?.['skipped'], true);
  });

  it('failures follow the configured action per class, never silently', () => {
    const p = policy({ failure: { unavailable: 'accept', timeout: 'tempfail', error: 'reject' } });
    const down = p.failed(MESSAGE, new AllServersDownError('pool'));
    assert.equal(down.verdict.kind, 'accept');
    assert.match(
      String(
        down.modifications.at(-1) && 'value' in (down.modifications.at(-1) as object)
          ? (down.modifications.at(-1) as { value: string }).value
          : '',
      ),
      /unavailable \(SCANNER_ALL_DOWN, ref REF1\)/,
    );
    const slow = p.failed(MESSAGE, new ScanTimeoutError('s', 5));
    assert.deepEqual(slow.verdict, {
      kind: 'tempfail',
      reply: {
        code: 451,
        enhanced: '4.7.1',
        lines: ['Spam filter unavailable (ref REF1); try again later'],
      },
    });
    assert.equal(slow.notes?.['code'], 'SCANNER_SCAN_TIMEOUT');
    assert.equal(p.failed(MESSAGE, new BadResponseError('s', 'x')).verdict.kind, 'reject');
    assert.equal(
      policy().failed(MESSAGE, new AllServersDownError('pool')).verdict.kind,
      'tempfail',
      'default: tempfail',
    );
  });
});

describe('ConfiguredPolicy trust', () => {
  const client = {
    hostname: 'h',
    family: '4' as const,
    address: '203.0.113.9',
    port: 1,
    helo: 'h',
  };

  it('tag mode caps the action at tagging', () => {
    const d = policy({ actions: { reject: 6 } }).decide(MESSAGE, verdict(9), {
      mode: 'tag',
      reason: 'trusted',
    });
    assert.equal(d.verdict.kind, 'accept');
    assert.equal(d.notes?.['action'], 'tag');
    assert.match(String(d.notes?.['reason']), /tag only: trusted/);
  });

  it('trusted mail passes unchanged, with the reason noted', () => {
    const d = policy().trusted(MESSAGE, 'client 127.0.0.1 in trusted networks');
    assert.deepEqual(
      [d.verdict.kind, d.modifications.length, d.notes?.['skipped']],
      ['accept', 0, true],
    );
  });

  it('caps recipients of untrusted clients with 452 4.5.3; trusted and authenticated clients are not capped', () => {
    const p = policy({ trust: { maxRecipients: 2 } });
    assert.equal(
      p.rcptGate({ recipient: R, sender: undefined, client, accepted: 1, authUser: undefined }),
      undefined,
    );
    assert.deepEqual(
      p.rcptGate({ recipient: R, sender: undefined, client, accepted: 2, authUser: undefined }),
      {
        kind: 'tempfail',
        reply: { code: 452, enhanced: '4.5.3', lines: ['Too many recipients'] },
      },
    );
    assert.equal(
      p.rcptGate({ recipient: R, sender: undefined, client, accepted: 5, authUser: 'alice' }),
      undefined,
    );
    assert.equal(
      p.rcptGate({
        recipient: R,
        sender: undefined,
        client: { ...client, address: '127.0.0.1' },
        accepted: 5,
        authUser: undefined,
      }),
      undefined,
    );
    assert.equal(
      policy().rcptGate({
        recipient: R,
        sender: undefined,
        client,
        accepted: 1000,
        authUser: undefined,
      }),
      undefined,
      'no cap by default',
    );
  });
});

describe('ConfiguredPolicy: bypass, opt-out, routing, truncation, preferences user', () => {
  const rcpt = (address: string) => ({
    address: `<${address}>`,
    raw: Buffer.from(`<${address}>`),
    args: [],
  });
  const toTwo: Message = {
    ...MESSAGE,
    recipients: [rcpt('bob@example.net'), rcpt('carol@example.net')],
  };

  it('a bypass phrase turns a reject into a tag, with the reason', () => {
    const p = policy({ actions: { reject: 'required + 0' }, scan: { bypassPhrase: 'mapsetahi' } });
    const withPhrase: Message = { ...MESSAGE, body: Buffer.from('please: MAPSETAHI\r\n') };
    assert.equal(p.decide(MESSAGE, verdict(9), p.scanMode(MESSAGE)).verdict.kind, 'reject');
    const mode = p.scanMode(withPhrase);
    assert.deepEqual(mode, { mode: 'tag', reason: 'bypass phrase present' });
    const d = p.decide(withPhrase, verdict(9), mode);
    assert.equal(d.verdict.kind, 'accept');
    assert.equal(d.notes?.['action'], 'tag');
  });

  it('mail to opted-out and other recipients is scanned but tagged at most', () => {
    const p = policy({ trust: { networks: [], optOutRecipients: ['@example.net'] } });
    assert.deepEqual(
      p.scanMode({ ...toTwo, recipients: [rcpt('x@example.org'), ...toTwo.recipients] }),
      {
        mode: 'tag',
        reason: '2 recipient(s) opted out',
      },
    );
    assert.equal(p.scanMode(toTwo).mode, 'skip');
  });

  it('spam is redirected and copied; ham copied; tag-only spam is not redirected', () => {
    const p = policy({
      routing: { spamRedirectTo: 'trap@example.org', hamCopyTo: ['ham@example.org'] },
    });
    const spam = p.decide(toTwo, verdict(9));
    assert.deepEqual(kinds(spam.modifications).slice(-4), [
      'delete-recipient:',
      'delete-recipient:',
      'add-header:X-Spam-Orig-To',
      'add-recipient:',
    ]);
    const tagOnly = p.decide(toTwo, verdict(9), { mode: 'tag', reason: 'authenticated' });
    assert.ok(!kinds(tagOnly.modifications).includes('delete-recipient:'));
    const ham = p.decide(toTwo, verdict(1));
    assert.deepEqual(ham.modifications.at(-1), {
      kind: 'add-recipient',
      address: '<ham@example.org>',
    });
  });

  it('archives messages that are not scanned too', () => {
    const p = policy({
      routing: { archiveTo: ['archive@example.org'] },
      failure: { unavailable: 'accept' },
    });
    const archived = { kind: 'add-recipient', address: '<archive@example.org>' };
    assert.deepEqual(p.trusted(toTwo, 'trusted').modifications, [archived]);
    assert.deepEqual(p.skipped(toTwo, 'too big').modifications.at(-1), archived);
    assert.deepEqual(
      p.failed(toTwo, new AllServersDownError('pool')).modifications.at(-1),
      archived,
    );
  });

  it('stamps a message scanned in part', () => {
    const cut: Message = { ...MESSAGE, body: Buffer.alloc(10), bodyBytes: 50, bodyTruncated: true };
    const d = policy().decide(cut, verdict(1));
    assert.deepEqual(d.modifications.at(-1), {
      kind: 'add-header',
      name: UNSCANNED_HEADER,
      value: 'truncated (first 10 of 50 body bytes scanned)',
    });
  });

  it('tells the scanner whose preferences to use', () => {
    const one: Message = { ...MESSAGE, recipients: [rcpt('bob@example.net')] };
    assert.equal(policy().envelope(one).prefsUser, undefined);
    assert.equal(
      policy({ scan: { prefsUser: 'recipient-local-part' } }).envelope(one).prefsUser,
      'bob',
    );
    assert.deepEqual(policy().envelope(one).recipients, ['bob@example.net']);
  });
});

describe('ConfiguredPolicy: spamd PROCESS/HEADERS output', () => {
  const rewritten = (text: string) => ({
    ...verdict(9),
    rewritten: { kind: 'headers' as const, bytes: Buffer.from(text) },
  });

  it("applies SpamAssassin's header changes instead of our profile, forged deletions and subject tag", () => {
    const d = policy({ subjectTag: { enabled: true } }).decide(
      MESSAGE,
      rewritten('X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=9.0\r\n\r\n'),
    );
    assert.deepEqual(kinds(d.modifications), [
      'change-header:X-Spam-Flag',
      'insert-header:X-Spam-Status',
    ]);
  });

  it('a rewritten block that does not parse is a bad scanner answer (thrown, nothing applied)', () => {
    assert.throws(
      () => policy().decide(MESSAGE, rewritten('no header block end')),
      (error: Error & { code?: string }) => error.code === 'SCANNER_BAD_RESPONSE',
    );
  });
});

describe('ConfiguredPolicy: rspamd "rewrite subject"', () => {
  const rewrite: Verdict = {
    ...verdict(9),
    action: 'rewrite subject',
    subject: '*** SPAM *** hi',
  };
  it('with followScanner, the scanner’s subject replaces the first Subject (not our tag)', () => {
    const withSubject: Message = {
      ...MESSAGE,
      headers: [{ name: 'Subject', value: Buffer.from(' hi') }],
    };
    const d = policy({ actions: { followScanner: true }, subjectTag: { enabled: true } }).decide(
      withSubject,
      rewrite,
    );
    assert.deepEqual(d.modifications.at(-1), {
      kind: 'change-header',
      name: 'Subject',
      occurrence: 1,
      value: '*** SPAM *** hi',
    });
  });
  it('without followScanner, our own subject tag (if enabled) applies as usual', () => {
    const d = policy({ subjectTag: { enabled: true } }).decide(MESSAGE, rewrite);
    assert.deepEqual(d.modifications.at(-1), KIT.subjectTag([], rewrite));
  });
});

describe('fillPlaceholders', () => {
  it('fills the known placeholders and leaves others', () => {
    assert.equal(
      fillPlaceholders('%{score}/%{required} %{ref} %{id} %{other}', {
        score: 7.5,
        required: 5,
        ref: 'R',
        id: 'Q',
      }),
      '7.5/5 R Q %{other}',
    );
  });
});
