import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressKey,
  addressKeys,
  authKey,
  canonicalAddress,
  canonicalHostName,
  canonicalIp,
  connectKey,
  domainKeys,
  ipKeys,
} from './access-map-keys.ts';

const key = (r: { ok: true; key: string } | { ok: false; reason: string }) =>
  r.ok ? r.key : `ERROR ${r.reason}`;

describe('canonicalIp', () => {
  it('writes IPv4 plainly and IPv6 as eight lowercase words without leading zeros', () => {
    assert.equal(canonicalIp('192.0.2.7')?.text, '192.0.2.7');
    assert.equal(canonicalIp('[192.0.2.7]')?.text, '192.0.2.7');
    assert.equal(canonicalIp('2001:DB8::1')?.text, '2001:db8:0:0:0:0:0:1');
    assert.equal(
      canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0001')?.text,
      '2001:db8:0:0:0:0:0:1',
    );
    assert.equal(canonicalIp('IPv6:2001:db8::')?.text, '2001:db8:0:0:0:0:0:0');
    assert.equal(canonicalIp('::')?.text, '0:0:0:0:0:0:0:0');
    assert.equal(canonicalIp('fe80::1%eth0')?.text, 'fe80:0:0:0:0:0:0:1');
    assert.equal(canonicalIp('64:ff9b::192.0.2.1')?.text, '64:ff9b:0:0:0:0:c000:201');
  });

  it('treats IPv4-mapped IPv6 as IPv4 and refuses non-addresses', () => {
    assert.deepEqual(canonicalIp('::ffff:192.0.2.7'), {
      family: 'ipv4',
      text: '192.0.2.7',
      parts: ['192', '0', '2', '7'],
    });
    assert.equal(canonicalIp('::FFFF:c000:0207')?.text, '192.0.2.7');
    for (const bad of ['', 'mx.example.com', '192.0.2', '1:2:3', '[nonsense]'])
      assert.equal(canonicalIp(bad), undefined, bad);
  });
});

describe('canonical names and addresses', () => {
  it('lowercases host names, drops a trailing dot, and ignores [ip], unknown and numbers', () => {
    assert.equal(canonicalHostName('MX.Example.COM.'), 'mx.example.com');
    for (const none of ['', '  ', '[192.0.2.7]', 'unknown', 'UNKNOWN', '192.0.2.7'])
      assert.equal(canonicalHostName(none), undefined, none);
  });

  it('strips angle brackets, a trailing dot and case from addresses', () => {
    assert.equal(canonicalAddress(' <User@Example.ORG.> '), 'user@example.org');
    assert.equal(canonicalAddress('<>'), '');
  });
});

describe('file keys', () => {
  it('connect: IPv4 prefixes by octets', () => {
    assert.equal(key(connectKey('192.0.2.7')), '192.0.2.7');
    assert.equal(key(connectKey('192.0.2.')), '192.0.2');
    assert.equal(key(connectKey('010.1')), '10.1');
    assert.match(key(connectKey('192.0.256')), /ERROR .*octet above 255/);
    for (const bad of ['2001', '1.2.3.4.5', '1..2'])
      assert.match(key(connectKey(bad)), /ERROR .*IPv4/, bad);
  });

  it('connect: IPv6 addresses in any notation and prefixes by whole words', () => {
    assert.equal(key(connectKey('2001:DB8::7')), '2001:db8:0:0:0:0:0:7');
    assert.equal(key(connectKey('2001:0db8:0001')), '2001:db8:1');
    assert.equal(key(connectKey('2001:db8:1:')), '2001:db8:1');
    assert.equal(key(connectKey('2001:')), '2001:');
    assert.equal(key(connectKey('::ffff:192.0.2.7')), '192.0.2.7');
    for (const bad of ['2001:db8:12345', '1:2:3:4:5:6:7:8:9', '2001:::1', '2001:xyz'])
      assert.match(key(connectKey(bad)), /ERROR .*IPv6/, bad);
  });

  it('connect: host names and the empty default', () => {
    assert.equal(key(connectKey('Mail.Example.COM.')), 'mail.example.com');
    assert.equal(key(connectKey('')), '');
    for (const bad of ['a..b', '.example.com', 'exa mple', 'a/b', '[192.0.2.0/24]'])
      assert.match(key(connectKey(bad)), /ERROR/, bad);
  });

  it('from:/to: addresses, domains and local parts', () => {
    assert.equal(key(addressKey('<User@Example.ORG.>')), 'user@example.org');
    assert.equal(key(addressKey('Example.org')), 'example.org');
    assert.equal(key(addressKey('User@')), 'user@');
    assert.equal(key(addressKey('')), '');
    assert.match(key(addressKey('@example.org')), /ERROR .*without "@"/);
    assert.match(key(addressKey('bad!domain')), /ERROR/);
  });

  it('auth: the user, lowercased', () => {
    assert.equal(key(authKey('Alice@Example.org')), 'alice@example.org');
  });
});

describe('lookup keys', () => {
  it('IPv4 from four octets down to one', () => {
    const ip = canonicalIp('192.0.2.7');
    assert.ok(ip);
    assert.deepEqual(ipKeys(ip), ['192.0.2.7', '192.0.2', '192.0', '192']);
  });

  it('IPv6 from eight words down to one (which keeps its colon)', () => {
    const ip = canonicalIp('2001:db8:1::5');
    assert.ok(ip);
    assert.deepEqual(ipKeys(ip), [
      '2001:db8:1:0:0:0:0:5',
      '2001:db8:1:0:0:0:0',
      '2001:db8:1:0:0:0',
      '2001:db8:1:0:0',
      '2001:db8:1:0',
      '2001:db8:1',
      '2001:db8',
      '2001:',
    ]);
  });

  it('host names from most to least specific', () => {
    assert.deepEqual(domainKeys('mx.mail.example.com'), [
      'mx.mail.example.com',
      'mail.example.com',
      'example.com',
      'com',
    ]);
  });

  it('addresses: whole, domains, then the local part', () => {
    assert.deepEqual(addressKeys('user@sub.example.org'), [
      'user@sub.example.org',
      'sub.example.org',
      'example.org',
      'org',
      'user@',
    ]);
    assert.deepEqual(addressKeys('postmaster'), ['postmaster@']);
    assert.deepEqual(addressKeys('user@'), ['user@']);
    assert.deepEqual(addressKeys(''), []);
  });
});
