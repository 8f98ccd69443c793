import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AccessMapError, AccessMapErrorCode, loadAccessMap, parseAccessMap } from './access-map.ts';
import { type AccessFacts, type AccessVerdict, formatTraceStep } from './access-map-lookup.ts';

const SAMPLE = `# sample access map
connect:192.0.2.7        OK          # exact client IP
connect:192.0.2          SCAN        # IPv4 prefix by octets
connect:2001:DB8:1       REJECT      # IPv6 prefix by words
connect:2001:db8:2::9    DISCARD     # compressed full address
connect:mail.example.com OK
connect:example.com      NEXT
connect:10               [10.1.0.0/16]=NEXT [10.0.0.0/8]=SCAN
connect:                 [198.51.100.0/24]=OK !*.dyn.example! /^ppp[0-9]+\\./ REJECT No dynamic hosts

from:user@example.org    OK
from:example.org         DISCARD
from:user@               SCAN
from:                    /^$/=SCAN /^bounce-/=DISCARD

to:abuse@example.net     OK
to:example.net           REJECT Unknown here
to:                      NEXT

auth:Alice               OK
auth:bob                 NEXT
auth:                    SCAN
`;

const map = parseAccessMap(SAMPLE, 'sample.map');
const decide = (facts: Partial<AccessFacts>) => map.decide({ recipients: [], ...facts });

/** A verdict as `action tag:key@line [pattern] [text]`, for compact assertions. */
function show(v: AccessVerdict): string {
  if (v.action === 'none') return 'none';
  const pattern = v.by.pattern === undefined ? '' : ` ${v.by.pattern}`;
  const text = v.text === undefined ? '' : ` "${v.text}"`;
  return `${v.action} ${v.by.tag}:${v.by.key}@${v.by.line}${pattern}${text}`;
}

const client = (clientAddress: string, clientName?: string) =>
  show(decide({ clientAddress, ...(clientName === undefined ? {} : { clientName }) }));

/** The error a parse throws, checked to be an AccessMapError. */
function parseError(text: string): AccessMapError {
  try {
    parseAccessMap(text, 'bad.map');
  } catch (error) {
    assert.ok(error instanceof AccessMapError, String(error));
    return error;
  }
  return assert.fail('parsed without error');
}

describe('connect: lookups', () => {
  it('tries the exact IP, then shorter prefixes', () => {
    assert.equal(client('192.0.2.7'), 'skip connect:192.0.2.7@2');
    assert.equal(client('192.0.2.8'), 'scan connect:192.0.2@3');
    assert.equal(client('[192.0.2.8]'), 'scan connect:192.0.2@3');
    assert.equal(client('::ffff:192.0.2.7'), 'skip connect:192.0.2.7@2');
  });

  it('normalises IPv6 in the file and in lookups', () => {
    assert.equal(client('2001:db8:1::25'), 'reject connect:2001:db8:1@4');
    assert.equal(client('2001:0DB8:0001:0:0:0:0:1'), 'reject connect:2001:db8:1@4');
    assert.equal(client('2001:db8:2:0::9'), 'discard connect:2001:db8:2:0:0:0:0:9@5');
    assert.equal(client('2001:db8:2::8'), 'none');
  });

  it('then the host name and its parent domains, NEXT passing on', () => {
    assert.equal(client('203.0.113.1', 'mail.example.com'), 'skip connect:mail.example.com@6');
    assert.equal(client('203.0.113.1', 'A.Mail.Example.COM.'), 'skip connect:mail.example.com@6');
    assert.equal(client('203.0.113.1', 'www.example.com'), 'none');
    assert.equal(client('203.0.113.1', '[203.0.113.1]'), 'none');
  });

  it('an IP entry beats a host name entry', () => {
    assert.equal(client('192.0.2.8', 'mail.example.com'), 'scan connect:192.0.2@3');
  });

  it('evaluates pattern lists in order; NEXT and no match go on to less specific keys', () => {
    assert.equal(client('10.2.3.4'), 'scan connect:10@8 [10.0.0.0/8]');
    assert.equal(client('10.1.3.4'), 'none', '10.1/16 is carved out with NEXT');
    assert.equal(client('198.51.100.9'), 'skip connect:@9 [198.51.100.0/24]');
    assert.equal(
      client('203.0.113.5', 'h5.DYN.example'),
      'reject connect:@9 !*.dyn.example! "No dynamic hosts"',
    );
    assert.equal(
      client('203.0.113.5', 'ppp12.isp.example'),
      'reject connect:@9 /^ppp[0-9]+\\./ "No dynamic hosts"',
    );
    assert.equal(client('203.0.113.5', 'mx.isp.example'), 'none');
  });
});

describe('from:, auth: and the order of checks', () => {
  it('sender: whole address, domains, local part, default', () => {
    const from = (sender: string) => show(decide({ sender }));
    assert.equal(from('<User@Example.org.>'), 'skip from:user@example.org@11');
    assert.equal(from('other@sub.example.org'), 'discard from:example.org@12');
    assert.equal(from('user@elsewhere.net'), 'scan from:user@@13');
    assert.equal(from('<>'), 'scan from:@14 /^$/');
    assert.equal(from('bounce-7@lists.example'), 'discard from:@14 /^bounce-/');
    assert.equal(from('someone@lists.example'), 'none');
  });

  it('auth first, then connect, then from; NEXT falls through to the default', () => {
    const facts = { clientAddress: '2001:db8:1::1', sender: 'user@example.org' };
    assert.equal(show(decide({ ...facts, authUser: 'ALICE' })), 'skip auth:alice@20');
    assert.equal(show(decide({ ...facts, authUser: 'bob' })), 'scan auth:@22');
    assert.equal(show(decide(facts)), 'reject connect:2001:db8:1@4');
    assert.equal(
      show(decide({ ...facts, clientAddress: '203.0.113.1' })),
      'skip from:user@example.org@11',
    );
  });

  it('decides nothing for an empty map or no facts', () => {
    assert.equal(show(decide({})), 'none');
    const empty = parseAccessMap('# nothing\n\n', 'empty.map');
    assert.equal(empty.size, 0);
    assert.equal(show(empty.decide({ clientAddress: '192.0.2.7', recipients: ['a@b'] })), 'none');
  });
});

describe('to: per recipient', () => {
  it('gives each recipient its own verdict, apart from the message-level one', () => {
    const decision = decide({
      clientAddress: '192.0.2.8',
      recipients: ['<Abuse@example.net>', 'sales@example.net', 'x@other.example'],
    });
    assert.equal(show(decision), 'scan connect:192.0.2@3');
    assert.deepEqual(
      decision.recipients.map((r) => `${r.recipient}: ${show(r)}`),
      [
        '<Abuse@example.net>: skip to:abuse@example.net@16',
        'sales@example.net: reject to:example.net@17 "Unknown here"',
        'x@other.example: none',
      ],
    );
  });
});

describe('traces', () => {
  it('lists every key tried, in order, with what it gave', () => {
    const decision = decide({ clientAddress: '10.1.3.4', clientName: 'www.example.com' });
    assert.deepEqual(
      decision.trace.map((s) => formatTraceStep(s)),
      [
        'auth: not authenticated',
        'connect:10.1.3.4 → no entry',
        'connect:10.1.3 → no entry',
        'connect:10.1 → no entry',
        'connect:10 → [10.1.0.0/16] matched → NEXT (line 8)',
        'connect:www.example.com → no entry',
        'connect:example.com → NEXT (line 7)',
        'connect:com → no entry',
        'connect: → no pattern matched, NEXT (line 9)',
        'from: no sender',
      ],
    );
  });

  it('records recipients separately and stops at the decision', () => {
    const decision = decide({ authUser: 'alice', recipients: ['nobody@nowhere.example'] });
    assert.deepEqual(
      decision.trace.map((s) => formatTraceStep(s)),
      ['auth:alice → OK (line 20)'],
    );
    assert.deepEqual(
      decision.recipients[0]?.trace.map((s) => formatTraceStep(s)),
      [
        'to:nobody@nowhere.example → no entry',
        'to:nowhere.example → no entry',
        'to:example → no entry',
        'to:nobody@ → no entry',
        'to: → NEXT (line 18)',
      ],
    );
  });

  it('notes a client address that is not an IP', () => {
    const steps = decide({ clientAddress: '/var/run/sock' }).trace.map((s) => formatTraceStep(s));
    assert.ok(steps.includes('connect: "/var/run/sock" is not an IP address'), steps.join('\n'));
  });
});

describe('parsing', () => {
  it('handles comments, blank lines, CRLF, a BOM and case-insensitive tags', () => {
    const m = parseAccessMap(
      '\uFEFF# head\r\n\r\nCONNECT:192.0.2.1 REJECT go away # not text\r\n  from:   /x#y/=OK\r\n',
      'crlf.map',
    );
    assert.equal(m.size, 2);
    assert.deepEqual(m.entry('connect', '192.0.2.1')?.value, {
      kind: 'action',
      action: 'reject',
      text: 'go away',
    });
    assert.equal(show(m.decide({ sender: 'a@b.example', recipients: [] })), 'none');
    assert.equal(show(m.decide({ sender: 'x#y@b.example', recipients: [] })), 'skip from:@4 /x#y/');
  });

  it('names the file, line and reason of the first bad line', () => {
    const cases: [string, number, RegExp][] = [
      ['192.0.2.1 OK', 1, /has no tag/],
      ['\n\nhelo:example.com OK', 3, /unknown tag "helo:"/],
      ['connect:192.0.2.1', 1, /no value/],
      ['connect:192.0.2.1 OKAY', 1, /unknown action "OKAY"/],
      ['connect:a..b OK', 1, /not an IP address, IP prefix or host name/],
      ['from:@example.org OK', 1, /without "@"/],
      ['# x\nconnect: /a(b/=OK', 2, /bad regular expression/],
      ['to: [192.0.2.0/24]=OK', 1, /only apply to connect:/],
      ['connect: !*.example! /x/', 1, /has no action/],
    ];
    for (const [text, line, reason] of cases) {
      const error = parseError(text);
      assert.equal(error.code, AccessMapErrorCode.syntax, text);
      assert.equal(error.file, 'bad.map');
      assert.equal(error.line, line, text);
      assert.match(error.reason, reason, text);
      assert.equal(error.message, `bad.map:${line}: ${error.reason}`);
    }
  });

  it('refuses a key given twice, also when written differently', () => {
    const error = parseError('connect:2001:db8::1 OK\n# x\nconnect:2001:DB8:0:0:0:0:0:0001 SCAN');
    assert.equal(error.code, AccessMapErrorCode.duplicate);
    assert.equal(error.line, 3);
    assert.match(error.reason, /duplicate key connect:2001:db8:0:0:0:0:0:1 \(first on line 1\)/);
  });

  it('keeps an IPv4 octet and a one-word IPv6 prefix apart', () => {
    const m = parseAccessMap('connect:10 OK\nconnect:10: REJECT\n', 'x.map');
    assert.equal(
      show(m.decide({ clientAddress: '10.9.9.9', recipients: [] })),
      'skip connect:10@1',
    );
    assert.equal(
      show(m.decide({ clientAddress: '10::9', recipients: [] })),
      'reject connect:10:@2',
    );
  });
});

describe('loadAccessMap', () => {
  it('reads a file, and reports an unreadable one with line 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'access-map-'));
    try {
      const path = join(dir, 'access.map');
      await writeFile(path, 'auth:alice OK\n');
      const m = await loadAccessMap(path);
      assert.equal(m.file, path);
      assert.equal(show(m.decide({ authUser: 'alice', recipients: [] })), 'skip auth:alice@1');
      await assert.rejects(loadAccessMap(join(dir, 'missing.map')), (error: unknown) => {
        assert.ok(error instanceof AccessMapError);
        assert.equal(error.code, AccessMapErrorCode.unreadable);
        assert.equal(error.line, 0);
        assert.match(error.message, /missing\.map: cannot read: .*ENOENT/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('large maps', () => {
  it('loads 100k lines and looks keys up by hash', () => {
    const lines: string[] = ['connect: REJECT default'];
    for (let i = 0; i < 50_000; i++)
      lines.push(
        `connect:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} ${i % 2 ? 'OK' : 'SCAN'}`,
      );
    for (let i = 0; i < 49_999; i++) lines.push(`from:user${i}@example.org DISCARD # sender ${i}`);
    const m = parseAccessMap(lines.join('\n'), 'big.map');
    assert.equal(m.size, 100_000);
    assert.equal(
      show(m.decide({ clientAddress: '10.0.195.79', recipients: [] })),
      'skip connect:10.0.195.79@50001',
    );
    assert.equal(
      show(m.decide({ clientAddress: '10.0.195.80', recipients: [] })),
      'reject connect:@1 "default"',
    );
    assert.equal(
      show(m.decide({ sender: 'USER49998@example.org', recipients: [] })),
      'discard from:user49998@example.org@100000',
    );
  });
});
