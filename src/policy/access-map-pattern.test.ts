import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  firstMatch,
  globToRegExp,
  type MapValue,
  matches,
  type PatternSubject,
  parseValue,
} from './access-map-pattern.ts';

function value(text: string, allowCidr = true): MapValue {
  const result = parseValue(text, allowCidr);
  if (!result.ok) assert.fail(`"${text}" did not parse: ${result.reason}`);
  return result.value;
}

function reason(text: string, allowCidr = true): string {
  const result = parseValue(text, allowCidr);
  if (result.ok) assert.fail(`"${text}" parsed but should not`);
  return result.reason;
}

/** The pattern list's items as `source → action[ text]`. */
function items(text: string): string[] {
  const parsed = value(text);
  assert.equal(parsed.kind, 'patterns');
  if (parsed.kind !== 'patterns') return [];
  return parsed.items.map(
    (i) => `${i.source} → ${i.action}${i.text === undefined ? '' : ` ${i.text}`}`,
  );
}

describe('parseValue: single actions', () => {
  it('reads every action word, case-insensitively, SKIP as OK', () => {
    assert.deepEqual(value('OK'), { kind: 'action', action: 'ok' });
    assert.deepEqual(value('skip'), { kind: 'action', action: 'ok' });
    assert.deepEqual(value('DISCARD'), { kind: 'action', action: 'discard' });
    assert.deepEqual(value('Scan'), { kind: 'action', action: 'scan' });
    assert.deepEqual(value('NEXT'), { kind: 'action', action: 'next' });
    assert.deepEqual(value('REJECT'), { kind: 'action', action: 'reject' });
  });

  it('keeps REJECT text and refuses text after other actions', () => {
    assert.deepEqual(value('REJECT Go  away now'), {
      kind: 'action',
      action: 'reject',
      text: 'Go  away now',
    });
    assert.match(reason('OK please'), /OK takes no text/);
    assert.match(reason('OKAY'), /unknown action "OKAY"/);
    assert.match(reason(''), /no value/);
  });
});

describe('parseValue: pattern lists', () => {
  it('gives each pattern its own =ACTION', () => {
    assert.deepEqual(items('[192.0.2.0/24]=OK !*.example.com!=discard /^mx\\d/=REJECT'), [
      '[192.0.2.0/24] → ok',
      '!*.example.com! → discard',
      '/^mx\\d/ → reject',
    ]);
  });

  it('applies a closing action (with REJECT text) to patterns without their own', () => {
    assert.deepEqual(items('[10.0.0.0/8]=SCAN !*.dyn.example! /^ppp/ REJECT No dynamic hosts'), [
      '[10.0.0.0/8] → scan',
      '!*.dyn.example! → reject No dynamic hosts',
      '/^ppp/ → reject No dynamic hosts',
    ]);
  });

  it('splits at the last delimiter, so a regex may contain / and =', () => {
    assert.deepEqual(items('/^a\\/b=c/=OK !a!b!=NEXT'), ['/^a\\/b=c/ → ok', '!a!b! → next']);
  });

  it('refuses patterns without an action, flags, bad regexes and bad blocks', () => {
    assert.match(reason('[192.0.2.0/24] !*.example.com!'), /"\[192\.0\.2\.0\/24\]" has no action/);
    assert.match(reason('/spam/i'), /unexpected "i" after pattern "\/spam\/"/);
    assert.match(reason('/a(b/=OK'), /bad regular expression/);
    assert.match(reason('[10.0.0.0/33]=OK'), /bad prefix length/);
    assert.match(reason('[mail.example.com]=OK'), /not an IP address/);
    assert.match(reason('[10.0.0.0/8=OK'), /no closing "]"/);
    assert.match(reason('!!=OK'), /empty pattern/);
    assert.match(reason('!x!=MAYBE'), /unknown action "MAYBE"/);
    assert.match(reason('!x!= OK'), /unknown action ""/);
    assert.match(reason('!x! OK please'), /OK takes no text/);
  });

  it('allows [CIDR] only where the client IP is looked up', () => {
    assert.match(reason('[192.0.2.0/24]=OK', false), /only apply to connect:/);
    assert.equal(value('!*@example.org!=OK', false).kind, 'patterns');
  });
});

describe('matching', () => {
  it('globs cover the whole value with * and ?, everything else literal', () => {
    const star = globToRegExp('*.example.com');
    assert.equal(star.test('a.b.example.com'), true);
    assert.equal(star.test('EXAMPLE.example.COM'), true);
    assert.equal(star.test('example.com'), false);
    assert.equal(star.test('a.example.com.evil'), false);
    assert.equal(globToRegExp('a?c').test('abc'), true);
    assert.equal(globToRegExp('a?c').test('abbc'), false);
    assert.equal(globToRegExp('a.c').test('abc'), false);
    assert.equal(globToRegExp('a+(b)').test('a+(b)'), true);
  });

  it('tests CIDR against the IP and globs/regexes against any text; first match wins', () => {
    const parsed = value('[192.0.2.0/24]=OK [2001:db8::/32]=SCAN !mx*!=DISCARD /^192\\./=REJECT');
    assert.ok(parsed.kind === 'patterns');
    const first = (subject: PatternSubject) => firstMatch(parsed.items, subject)?.source;
    const v4 = { text: '192.0.2.7', family: 'ipv4' } as const;
    const v6 = { text: '2001:db8:0:0:0:0:0:1', family: 'ipv6' } as const;
    assert.equal(first({ ip: v4, texts: ['mx1.example', '192.0.2.7'] }), '[192.0.2.0/24]');
    assert.equal(first({ ip: v6, texts: ['2001:db8:0:0:0:0:0:1'] }), '[2001:db8::/32]');
    assert.equal(first({ texts: ['MX2.example'] }), '!mx*!');
    assert.equal(first({ texts: ['x', '192.168.1.1'] }), '/^192\\./');
    assert.equal(first({ texts: ['nothing'] }), undefined);
    const cidr = parsed.items[0];
    assert.ok(cidr);
    assert.equal(matches(cidr.matcher, { texts: ['192.0.2.7'] }), false, 'CIDR needs the IP');
  });
});
