import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import { messageFromRaw, type RawEnvelope } from '../message/parse-raw.ts';
import { parseAccessMap } from '../policy/access-map.ts';
import { rulesReport, traceText } from './explain-rules.ts';

const ENVELOPE: RawEnvelope = {
  clientAddress: '203.0.113.9',
  sender: 'a@example.org',
  recipients: ['bob@example.net', 'carol@example.net'],
};

function message(envelope: Partial<RawEnvelope> = {}, body = 'hello\n', max = 1000) {
  return messageFromRaw(Buffer.from(`Subject: hi\n\n${body}`), { ...ENVELOPE, ...envelope }, max)
    .message;
}

describe('traceText', () => {
  it('names the entry as file:line for every kind of step', () => {
    assert.equal(
      traceText({ kind: 'note', tag: 'auth', note: 'not authenticated' }, 'f'),
      'auth: not authenticated',
    );
    assert.equal(traceText({ kind: 'miss', tag: 'to', key: '' }, 'f'), 'to: → no entry (default)');
    assert.equal(
      traceText(
        { kind: 'hit', tag: 'from', key: 'x.org', line: 7, action: 'reject', text: 'No' },
        'map',
      ),
      'from:x.org → REJECT No (map:7)',
    );
    assert.equal(
      traceText(
        {
          kind: 'pattern',
          tag: 'connect',
          key: '',
          line: 2,
          pattern: '[10.0.0.0/8]',
          action: 'ok',
        },
        'map',
      ),
      'connect: → [10.0.0.0/8] matched → OK (map:2)',
    );
    assert.equal(
      traceText({ kind: 'no-match', tag: 'connect', key: '10', line: 3 }, 'map'),
      'connect:10 → no pattern matched, NEXT (map:3)',
    );
  });
});

describe('rulesReport', () => {
  it('an untrusted, unauthenticated client with nothing configured', () => {
    const r = rulesReport(ConfigSchema.parse({}), undefined, message());
    assert.equal(r.trust.trustedNetwork, false);
    assert.equal(r.trust.authUser, null);
    assert.deepEqual(r.trust.optOuts, []);
    assert.equal(r.accessMap, null);
    assert.deepEqual(r.bypass, { configured: false, present: false });
    assert.equal(r.size.truncated, false);
  });

  it('trusted network, authentication and opt-outs by config and by access map', () => {
    const config = ConfigSchema.parse({
      trust: { networks: ['203.0.113.0/24'], optOutRecipients: ['@example.net'] },
    });
    const trusted = rulesReport(config, undefined, message({ authUser: 'alice' }));
    assert.equal(trusted.trust.trustedNetwork, true);
    assert.equal(trusted.trust.authUser, 'alice');
    assert.equal(trusted.trust.optOuts.length, 2);
    const map = parseAccessMap('to:carol@example.net OK\n', 'access');
    const byMap = rulesReport(ConfigSchema.parse({}), map, message());
    assert.deepEqual(byMap.trust.optOuts, [{ recipient: '<carol@example.net>', by: 'access map' }]);
    assert.equal(byMap.accessMap?.recipients[1]?.at, 'access:1');
    assert.equal(byMap.accessMap?.message.action, 'none');
  });

  it('the bypass phrase is found but never shown', () => {
    const config = ConfigSchema.parse({ scan: { bypassPhrase: 'open sesame' } });
    const r = rulesReport(config, undefined, message({}, 'please OPEN SESAME\n'));
    assert.deepEqual(r.bypass, { configured: true, present: true });
    assert.doesNotMatch(JSON.stringify(r), /sesame/i);
  });

  it('the size check says whether a long body is skipped or cut', () => {
    const skip = rulesReport(
      ConfigSchema.parse({ scan: { maxScanBytes: 4 } }),
      undefined,
      message({}, 'long body\n', 4),
    );
    assert.equal(skip.size.truncated, true);
    assert.match(skip.size.outcome, /not scanned/);
    const cut = rulesReport(
      ConfigSchema.parse({ scan: { maxScanBytes: 4, oversize: 'truncate' } }),
      undefined,
      message({}, 'long body\n', 4),
    );
    assert.match(cut.size.outcome, /only the first 4/);
  });
});
