import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { Message } from '../message/message.ts';
import { parseCidr, TrustRules } from './trust.ts';

const rules = (trust: Record<string, unknown> = {}) =>
  new TrustRules(ConfigSchema.parse({ trust }).trust);

function message(
  address: string,
  options: { family?: '4' | '6' | 'L'; auth?: string; rcpts?: string[] } = {},
): Message {
  return {
    id: 'Q',
    client: {
      hostname: 'h',
      family: options.family ?? (address.includes(':') ? '6' : '4'),
      address,
      port: 1,
      helo: 'h',
    },
    sender: undefined,
    recipients: (options.rcpts ?? ['<bob@example.net>']).map((a) => ({
      address: a,
      raw: Buffer.from(a),
      args: [],
    })),
    headers: [],
    body: Buffer.alloc(0),
    bodyBytes: 0,
    bodyTruncated: false,
    macros: options.auth === undefined ? {} : { auth_authen: options.auth },
  };
}

describe('parseCidr', () => {
  it('reads blocks and single addresses, and refuses nonsense', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), ['10.0.0.0', 8, 'ipv4']);
    assert.deepEqual(parseCidr('2001:db8::/32'), ['2001:db8::', 32, 'ipv6']);
    assert.deepEqual(parseCidr('192.0.2.7'), ['192.0.2.7', 32, 'ipv4']);
    for (const bad of ['10.0.0.0/33', 'mx.example.org', '10.0.0.0/x', '::1/129', ''])
      assert.throws(() => parseCidr(bad));
  });
});

describe('TrustRules', () => {
  it('trusts loopback by default, including IPv4-mapped IPv6', () => {
    const r = rules();
    assert.equal(r.trustedAddress('127.0.0.1'), true);
    assert.equal(r.trustedAddress('::1'), true);
    assert.equal(r.trustedAddress('::ffff:127.0.0.5'), true);
    assert.equal(r.trustedAddress('203.0.113.9'), false);
    assert.equal(r.trustedAddress('garbage'), false);
  });

  it('the list replaces the default', () => {
    const r = rules({ networks: ['192.0.2.0/24'] });
    assert.equal(r.trustedAddress('127.0.0.1'), false);
    assert.equal(r.trustedAddress('192.0.2.200'), true);
  });

  it('scanMode: trusted networks, then authenticated senders, then opted-out recipients', () => {
    assert.deepEqual(rules().scanMode(message('127.0.0.1')), {
      mode: 'skip',
      reason: 'client 127.0.0.1 in trusted networks',
    });
    assert.deepEqual(rules({ networksMode: 'tag' }).scanMode(message('::1')).mode, 'tag');
    assert.deepEqual(rules({ networksMode: 'scan' }).scanMode(message('127.0.0.1')), {
      mode: 'scan',
    });
    assert.deepEqual(rules().scanMode(message('203.0.113.9', { auth: 'alice' })), {
      mode: 'skip',
      reason: 'sender authenticated as alice',
    });
    assert.deepEqual(
      rules({ authenticatedMode: 'scan' }).scanMode(message('203.0.113.9', { auth: 'alice' })),
      { mode: 'scan' },
    );
    assert.deepEqual(rules().scanMode(message('203.0.113.9')), { mode: 'scan' });
    assert.equal(rules().scanMode(message('/run/x', { family: 'L' })).mode, 'skip');
  });

  it('skips a message only when every recipient opted out (by address or @domain); tags when some did', () => {
    const r = rules({ optOutRecipients: ['abuse@example.net', '@noscan.example'] });
    assert.equal(
      r.scanMode(message('203.0.113.9', { rcpts: ['<Abuse@Example.NET>', '<x@noscan.example>'] }))
        .mode,
      'skip',
    );
    assert.equal(
      r.scanMode(message('203.0.113.9', { rcpts: ['<abuse@example.net>', '<bob@example.net>'] }))
        .mode,
      'tag',
    );
    assert.equal(
      r.optedOut('<someone@sub.noscan.example>'),
      false,
      'a domain entry is exact, not a suffix',
    );
  });
});
