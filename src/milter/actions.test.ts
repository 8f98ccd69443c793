import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, Modification } from '../filter/decision.ts';
import { decisionToReplies, finalReply } from './actions.ts';
import { Action } from './constants.ts';
import type { Negotiated } from './negotiate.ts';
import type { Response } from './responses.ts';

const ALL: Negotiated = {
  version: 6,
  actions: 0x1ff,
  protocol: 0,
  canSkip: true,
  leadingSpace: true,
  macros: {},
};
const accept = (...modifications: Modification[]): Decision => ({
  verdict: { kind: 'accept' },
  modifications,
});
const text = (r: Response | undefined, field: 'value' | 'text' | 'name'): string => {
  const value = r === undefined ? undefined : (r as unknown as Record<string, unknown>)[field];
  return Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
};

describe('decisionToReplies', () => {
  it('sends modifications in order, then exactly one final reply', () => {
    const { responses, refused } = decisionToReplies(
      accept(
        { kind: 'add-header', name: 'X-Spam-Flag', value: 'NO' },
        { kind: 'change-header', name: 'Subject', occurrence: 1, value: '[SPAM] hi' },
        { kind: 'delete-header', name: 'X-Spam-Status', occurrence: 2 },
        { kind: 'insert-header', index: 0, name: 'X-Top', value: 'top' },
        { kind: 'add-recipient', address: '<copy@example.org>' },
        { kind: 'add-recipient', address: '<par@example.org>', args: ['NOTIFY=NEVER'] },
        { kind: 'delete-recipient', address: '<b@example.org>' },
        { kind: 'change-sender', address: '<>' },
        { kind: 'quarantine', reason: 'score 20' },
      ),
      ALL,
    );
    assert.deepEqual(refused, []);
    assert.deepEqual(
      responses.map((r) => r.kind),
      [
        'addheader',
        'chgheader',
        'chgheader',
        'insheader',
        'addrcpt',
        'addrcpt_par',
        'delrcpt',
        'chgfrom',
        'quarantine',
        'continue',
      ],
    );
    assert.equal(text(responses[2], 'value'), '', 'delete is a change to the empty value');
  });

  it('prepends the space after the colon only when HDR_LEADSPC was agreed', () => {
    const add: Modification = { kind: 'add-header', name: 'X-A', value: 'v' };
    assert.equal(text(decisionToReplies(accept(add), ALL).responses[0], 'value'), ' v');
    assert.equal(
      text(decisionToReplies(accept(add), { ...ALL, leadingSpace: false }).responses[0], 'value'),
      'v',
    );
  });

  it('keeps REPLBODY packets together and after other modifications; the last body wins', () => {
    const big = Buffer.alloc(140_000, 0x61);
    const { responses } = decisionToReplies(
      accept(
        { kind: 'replace-body', body: Buffer.from('first') },
        { kind: 'add-header', name: 'X-A', value: '1' },
        { kind: 'replace-body', body: big },
        { kind: 'add-header', name: 'X-B', value: '2' },
      ),
      ALL,
    );
    assert.deepEqual(
      responses.map((r) => r.kind),
      ['addheader', 'addheader', 'replbody', 'replbody', 'replbody', 'continue'],
    );
  });

  it('refuses modifications the MTA did not agree to, naming the flag', () => {
    const { responses, refused } = decisionToReplies(
      accept({ kind: 'add-header', name: 'X-A', value: '1' }, { kind: 'quarantine', reason: 'x' }),
      { ...ALL, actions: Action.AddHdrs },
    );
    assert.deepEqual(
      responses.map((r) => r.kind),
      ['addheader', 'continue'],
    );
    assert.equal(refused.length, 1);
    assert.match(refused[0]?.reason ?? '', /SMFIF_QUARANTINE/);
  });

  it('refuses header values that would inject a header or break the packet', () => {
    const bad: Modification[] = [
      { kind: 'add-header', name: 'X-A', value: 'one\nX-Forged: yes' },
      { kind: 'add-header', name: 'X-A', value: 'nul\0' },
      { kind: 'add-header', name: 'X-A', value: 'bare\rcr' },
      { kind: 'add-header', name: 'Bad Name', value: 'x' },
      { kind: 'add-header', name: 'Colon:', value: 'x' },
      { kind: 'change-header', name: 'Subject', occurrence: 0, value: 'x' },
      { kind: 'quarantine', reason: 'two\nlines' },
    ];
    const { responses, refused } = decisionToReplies(accept(...bad), ALL);
    assert.deepEqual(
      responses.map((r) => r.kind),
      ['continue'],
    );
    assert.equal(refused.length, bad.length);
  });

  it('folds with bare LF (Postfix doubles CRs otherwise)', () => {
    const { responses } = decisionToReplies(
      accept({ kind: 'add-header', name: 'X-Report', value: 'line one\r\n\tline two' }),
      ALL,
    );
    assert.equal(text(responses[0], 'value'), ' line one\n\tline two');
  });

  it('sends no modifications with a reject, tempfail or discard', () => {
    const mods: Modification[] = [{ kind: 'add-header', name: 'X-A', value: '1' }];
    for (const kind of ['reject', 'tempfail', 'discard'] as const) {
      const { responses } = decisionToReplies({ verdict: { kind }, modifications: mods }, ALL);
      assert.deepEqual(
        responses.map((r) => r.kind),
        [kind],
      );
    }
  });
});

describe('finalReply', () => {
  it('uses REPLYCODE when the reply class matches the verdict', () => {
    const r = finalReply({
      kind: 'reject',
      reply: { code: 550, enhanced: '5.7.1', lines: ['spam'] },
    });
    assert.deepEqual([r.kind, text(r, 'text')], ['replycode', '550 5.7.1 spam']);
    const t = finalReply({
      kind: 'tempfail',
      reply: { code: 451, enhanced: '4.7.1', lines: ['later'] },
    });
    assert.deepEqual([t.kind, text(t, 'text')], ['replycode', '451 4.7.1 later']);
  });

  it('sends the plain verdict, and says why, when the reply text is malformed', () => {
    const { responses, refused } = decisionToReplies(
      {
        verdict: { kind: 'reject', reply: { code: 550, enhanced: '4.7.1', lines: ['x'] } },
        modifications: [],
      },
      ALL,
    );
    assert.deepEqual(
      responses.map((r) => r.kind),
      ['reject'],
    );
    assert.equal(refused[0]?.what, 'reply');
  });

  it('falls back to the plain reply when the class does not match (as libmilter does)', () => {
    assert.equal(finalReply({ kind: 'reject', reply: { code: 451, lines: ['x'] } }).kind, 'reject');
    assert.equal(
      finalReply({ kind: 'tempfail', reply: { code: 550, lines: ['x'] } }).kind,
      'tempfail',
    );
  });

  it('accept is CONTINUE at end-of-message', () => {
    assert.equal(finalReply({ kind: 'accept' }).kind, 'continue');
    assert.equal(finalReply({ kind: 'discard' }).kind, 'discard');
  });
});
