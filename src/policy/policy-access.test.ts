import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { EnvelopeAddress, Message } from '../message/message.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { parseAccessMap } from './access-map.ts';
import { headerKit } from './header-kit.ts';
import { ConfiguredPolicy } from './policy.ts';

const MAP = parseAccessMap(
  [
    'connect:198.51.100        REJECT No mail from this network',
    'connect:127.0.0.1         SCAN',
    'from:friend@example.org   OK',
    'from:junk.example         DISCARD',
    'to:abuse@example.net      OK',
    'to:gone@example.net       REJECT No such user here',
    'to:drop@example.net       DISCARD',
  ].join('\n'),
  'access.map',
);

const rcpt = (address: string): EnvelopeAddress => ({
  address: `<${address}>`,
  raw: Buffer.from(`<${address}>`),
  args: [],
});

function message(ip: string, from: string, to: string[]): Message {
  return {
    id: 'Q1',
    client: { hostname: `[${ip}]`, family: '4', address: ip, port: 1, helo: 'h' },
    sender: rcpt(from),
    recipients: to.map(rcpt),
    headers: [],
    body: Buffer.alloc(0),
    bodyBytes: 0,
    bodyTruncated: false,
    macros: {},
  };
}

function policy(input: Record<string, unknown> = {}): ConfiguredPolicy {
  const config = ConfigSchema.parse(input);
  const info = { version: '1', hostname: 'mx' };
  return new ConfiguredPolicy(config, info, headerKit(config, info), () => 'REF', MAP);
}

const spam: Verdict = {
  scanner: 'spamd://x',
  score: 20,
  required: 5,
  isSpam: true,
  action: 'reject',
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
};

describe('ConfiguredPolicy with an access map', () => {
  const p = policy({ actions: { reject: 'required + 0' } });

  it('REJECT for the client network refuses the message with the map’s text, unscanned', () => {
    const m = message('198.51.100.7', 'a@example.org', ['bob@example.net']);
    const mode = p.scanMode(m);
    assert.equal(mode.mode, 'refuse');
    assert.ok(mode.mode === 'refuse');
    const d = p.refused(m, mode);
    assert.deepEqual(d.verdict, {
      kind: 'reject',
      reply: { code: 550, enhanced: '5.7.1', lines: ['No mail from this network'] },
    });
    assert.match(String(d.notes?.['reason']), /access map connect:198\.51\.100 \(line 1\)/);
  });

  it('SCAN overrides the trusted loopback network; OK for a sender skips the scan', () => {
    assert.deepEqual(p.scanMode(message('127.0.0.1', 'a@example.org', ['bob@example.net'])), {
      mode: 'scan',
    });
    assert.equal(
      policy().scanMode(message('127.0.0.2', 'a@example.org', ['b@example.net'])).mode,
      'skip',
    );
    assert.equal(
      p.scanMode(message('203.0.113.1', 'friend@example.org', ['b@example.net'])).mode,
      'skip',
    );
  });

  it('DISCARD for a sender domain drops the message', () => {
    const m = message('203.0.113.1', 'x@mail.junk.example', ['bob@example.net']);
    const mode = p.scanMode(m);
    assert.ok(mode.mode === 'refuse' && mode.kind === 'discard');
    assert.equal(p.refused(m, mode).verdict.kind, 'discard');
  });

  it('a recipient with OK opts out: alone it is not scanned, with others the message is tagged at most', () => {
    assert.equal(p.scanMode(message('203.0.113.1', 'a@x.org', ['abuse@example.net'])).mode, 'skip');
    const mixed = message('203.0.113.1', 'a@x.org', ['abuse@example.net', 'bob@example.net']);
    const mode = p.scanMode(mixed);
    assert.equal(mode.mode, 'tag');
    assert.equal(p.decide(mixed, spam, mode).verdict.kind, 'accept');
    assert.equal(p.decide(mixed, spam, { mode: 'scan' }).verdict.kind, 'reject');
  });

  it('a recipient with DISCARD is deleted at end-of-message; all of them: the message is dropped', () => {
    const m = message('203.0.113.1', 'a@x.org', ['drop@example.net', 'bob@example.net']);
    const d = p.decide(m, { ...spam, score: 1, isSpam: false }, p.scanMode(m));
    assert.deepEqual(
      d.modifications.filter((x) => x.kind === 'delete-recipient'),
      [{ kind: 'delete-recipient', address: Buffer.from('<drop@example.net>') }],
    );
    const all = p.scanMode(message('203.0.113.1', 'a@x.org', ['drop@example.net']));
    assert.ok(all.mode === 'refuse' && all.kind === 'discard');
  });

  it('a recipient with REJECT is refused at RCPT time with the map’s text, except in a dry run', () => {
    const client = {
      hostname: 'h',
      family: '4' as const,
      address: '203.0.113.1',
      port: 1,
      helo: 'h',
    };
    const ask = (q: ConfiguredPolicy, to: string) =>
      q.rcptGate({
        client,
        recipient: rcpt(to),
        sender: undefined,
        accepted: 0,
        authUser: undefined,
      });
    assert.deepEqual(ask(p, 'gone@example.net'), {
      kind: 'reject',
      reply: { code: 550, enhanced: '5.7.1', lines: ['No such user here'] },
    });
    assert.equal(ask(p, 'bob@example.net'), undefined);
    assert.equal(ask(policy({ dryRun: true }), 'gone@example.net'), undefined);
  });

  it('a dry run refuses nothing and changes nothing, even for a map REJECT or DISCARD', () => {
    const dry = policy({ dryRun: true, routing: { archiveTo: ['archive@example.org'] } });
    const m = message('198.51.100.7', 'a@example.org', ['drop@example.net', 'bob@example.net']);
    const mode = dry.scanMode(m);
    assert.ok(mode.mode === 'refuse');
    const d = dry.refused(m, mode);
    assert.deepEqual(
      [d.verdict.kind, d.modifications, d.notes?.['action']],
      ['accept', [], 'reject'],
    );
  });

  it('every recipient DISCARD drops the message even when the sender has OK', () => {
    const m = message('203.0.113.1', 'friend@example.org', ['drop@example.net']);
    const mode = p.scanMode(m);
    assert.ok(mode.mode === 'refuse' && mode.kind === 'discard', JSON.stringify(mode));
  });
});
