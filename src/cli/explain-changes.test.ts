import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, Modification } from '../filter/decision.ts';
import { decisionToReplies } from '../milter/actions.ts';
import { Action } from '../milter/constants.ts';
import {
  changeJson,
  decodeBytes,
  describeChange,
  envelopeAfter,
  replyLines,
  smtpReply,
} from './explain-changes.ts';

describe('describeChange', () => {
  it('writes one line per modification kind', () => {
    const cases: [Modification, string][] = [
      [{ kind: 'add-header', name: 'X-Spam-Flag', value: 'YES' }, '+ X-Spam-Flag: YES'],
      [
        { kind: 'insert-header', index: 1, name: 'X-A', value: 'b' },
        '+ X-A: b (inserted at header 1)',
      ],
      [
        { kind: 'change-header', name: 'Subject', occurrence: 1, value: '[SPAM] hello' },
        '~ Subject[1]: [SPAM] hello',
      ],
      [
        { kind: 'change-header', name: 'X-B', occurrence: 2, value: '' },
        '- X-B[2] (changed to empty)',
      ],
      [{ kind: 'delete-header', name: 'X-Spam-Status', occurrence: 1 }, '- X-Spam-Status[1]'],
      [{ kind: 'add-recipient', address: '<trap@example.org>' }, '+ RCPT <trap@example.org>'],
      [
        { kind: 'add-recipient', address: '<t@example.org>', args: ['NOTIFY=NEVER'] },
        '+ RCPT <t@example.org> NOTIFY=NEVER',
      ],
      [
        { kind: 'delete-recipient', address: Buffer.from('<bob@example.net>') },
        '- RCPT <bob@example.net>',
      ],
      [{ kind: 'change-sender', address: '<>' }, '~ MAIL FROM <>'],
      [{ kind: 'replace-body', body: Buffer.alloc(42) }, 'body replaced (42 bytes)'],
      [{ kind: 'quarantine', reason: 'spam score 9 (ref R)' }, 'quarantine: spam score 9 (ref R)'],
    ];
    for (const [m, line] of cases) assert.equal(describeChange(m), line);
  });

  it('unfolds values and shows control bytes, keeping UTF-8 text', () => {
    const folded = { kind: 'add-header', name: 'X-S', value: 'a,\n\tb\u0007' } as const;
    assert.equal(describeChange(folded), '+ X-S: a, b\\x07');
    const utf8 = { kind: 'add-header', name: 'X-U', value: Buffer.from('café') } as const;
    assert.equal(describeChange(utf8), '+ X-U: café');
  });

  it('gives JSON fields with the exact value and the line', () => {
    const m: Modification = { kind: 'change-header', name: 'S', occurrence: 1, value: 'a\n b' };
    assert.deepEqual(changeJson(m), {
      kind: 'change-header',
      name: 'S',
      occurrence: 1,
      value: 'a\n b',
      line: '~ S[1]: a b',
    });
    assert.deepEqual(changeJson({ kind: 'replace-body', body: Buffer.alloc(3) }), {
      kind: 'replace-body',
      bytes: 3,
      line: 'body replaced (3 bytes)',
    });
  });
});

describe('decodeBytes and replyLines', () => {
  it('reads valid UTF-8 as UTF-8 and anything else byte for byte', () => {
    assert.deepEqual(decodeBytes(Buffer.from('é')), { text: 'é', encoding: 'utf8' });
    assert.deepEqual(decodeBytes(Buffer.from([0xe9])), { text: 'é', encoding: 'latin1' });
  });

  it('splits a multi-line reply and undoes the %% escape', () => {
    assert.deepEqual(replyLines('550-5.7.1 a 100%%\r\n550 5.7.1 b'), [
      '550-5.7.1 a 100%',
      '550 5.7.1 b',
    ]);
  });
});

describe('envelopeAfter', () => {
  it('applies recipient deletions and additions in order, and a new sender', () => {
    const after = envelopeAfter(
      '<a@example.org>',
      ['<Bob@Example.net>', '<carol@example.net>'],
      [
        { kind: 'delete-recipient', address: '<bob@example.net>' },
        { kind: 'add-recipient', address: '<trap@example.org>' },
        { kind: 'change-sender', address: '<>' },
        { kind: 'add-header', name: 'X', value: 'y' },
      ],
    );
    assert.deepEqual(after, {
      sender: '<>',
      recipients: ['<carol@example.net>', '<trap@example.org>'],
    });
  });
});

describe('smtpReply', () => {
  const ALL = {
    version: 6,
    actions: Action.AddHdrs | Action.Quarantine,
    protocol: 0,
    canSkip: true,
    leadingSpace: true,
    macros: {},
  };
  const reply = (decision: Decision) =>
    smtpReply(decision, decisionToReplies(decision, ALL).responses);

  it('accept, held, discarded', () => {
    assert.deepEqual(reply({ verdict: { kind: 'accept' }, modifications: [] }).lines, [
      '250 accepted',
    ]);
    const held = reply({
      verdict: { kind: 'accept' },
      modifications: [{ kind: 'quarantine', reason: 'r' }],
    });
    assert.match(held.note, /quarantine/);
    const dropped = reply({ verdict: { kind: 'discard' }, modifications: [] });
    assert.equal(dropped.code, 250);
    assert.match(dropped.note, /discarded/);
  });

  it('the filter’s text when its class matches, the MTA’s own otherwise', () => {
    const own = reply({
      verdict: { kind: 'reject', reply: { code: 550, enhanced: '5.7.1', lines: ['No (ref R)'] } },
      modifications: [],
    });
    assert.deepEqual(own.lines, ['550 5.7.1 No (ref R)']);
    const mismatch = reply({
      verdict: { kind: 'tempfail', reply: { code: 550, lines: ['wrong class'] } },
      modifications: [],
    });
    assert.deepEqual(mismatch.lines, ['451 4.7.1 Service unavailable - try again later']);
    assert.equal(mismatch.code, 451);
  });
});
