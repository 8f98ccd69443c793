import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../message/message.ts';
import { createGtubeFilter, GTUBE } from './gtube-filter.ts';

function message(body: Buffer): Message {
  return {
    id: 'Q1',
    client: { hostname: 'h', family: 'U', address: '', port: 0, helo: undefined },
    sender: undefined,
    recipients: [],
    headers: [],
    body,
    bodyBytes: body.length,
    bodyTruncated: false,
    macros: {},
  };
}

describe('createGtubeFilter', () => {
  const filter = createGtubeFilter('9.9.9');
  const signal = new AbortController().signal;

  it('stamps ham with X-Spamward: <version>', async () => {
    const decision = await filter.filter(message(Buffer.from('hello\r\n')), signal);
    assert.deepEqual(decision, {
      verdict: { kind: 'accept' },
      modifications: [{ kind: 'add-header', name: 'X-Spamward', value: '9.9.9' }],
    });
  });

  it('rejects GTUBE anywhere in the body with 550 5.7.1', async () => {
    const body = Buffer.concat([
      Buffer.from('line\r\n\xff\r\n', 'latin1'),
      GTUBE,
      Buffer.from('\r\n'),
    ]);
    const decision = await filter.filter(message(body), signal);
    assert.equal(decision.verdict.kind, 'reject');
    assert.ok(decision.verdict.kind === 'reject' && decision.verdict.reply?.code === 550);
    assert.equal(decision.verdict.kind === 'reject' && decision.verdict.reply?.enhanced, '5.7.1');
  });

  it('does not match a near miss', async () => {
    const body = Buffer.from(GTUBE.toString().replace('GTUBE', 'GTUBX'));
    assert.equal((await filter.filter(message(body), signal)).verdict.kind, 'accept');
  });
});
