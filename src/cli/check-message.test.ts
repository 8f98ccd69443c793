import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyModifications } from '../actions/process-rewrite-apply.ts';
import { renderMessage } from '../message/message.ts';
import { splitRawMessage } from '../message/parse-raw.ts';
import { pipeMessage, rawLayout } from './check-message.ts';

/** The input through the parse, with `X-Spam-Flag: YES` added (and the body replaced if asked). */
function filtered(raw: Buffer, body?: string): Buffer {
  const parts = splitRawMessage(raw);
  const mods = [{ kind: 'add-header' as const, name: 'X-Spam-Flag', value: 'YES' }];
  const all =
    body === undefined
      ? mods
      : [...mods, { kind: 'replace-body' as const, body: Buffer.from(body) }];
  const rendered = renderMessage(applyModifications(parts, all));
  return Buffer.concat(pipeMessage(raw, rendered, body !== undefined));
}

describe('pipeMessage: headers as the policy left them, the body as it came', () => {
  it('keeps LF line ends, 8-bit bytes, long lines and a missing final newline', () => {
    const long = 'x'.repeat(5000);
    const body = Buffer.concat([Buffer.from(`caf\xe9 \xff\r\n${long}\n\nlast line`, 'latin1')]);
    const raw = Buffer.concat([Buffer.from('From: a@example.org\nSubject: hi\n\n'), body]);
    const out = filtered(raw);
    assert.equal(
      out.toString('latin1'),
      `From: a@example.org\nSubject: hi\nX-Spam-Flag: YES\n\n${body.toString('latin1')}`,
    );
    assert.ok(out.subarray(out.length - body.length).equals(body));
  });

  it('keeps CRLF input CRLF, and folded headers folded', () => {
    const raw = Buffer.from('Subject: a\r\n\tb\r\nTo: c@d.example\r\n\r\nbody\r\n');
    assert.equal(
      filtered(raw).toString('latin1'),
      'Subject: a\r\n\tb\r\nTo: c@d.example\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n',
    );
  });

  it('keeps a leading mbox From line', () => {
    const raw = Buffer.from('From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: a\n\nb\n');
    assert.equal(
      filtered(raw).toString('latin1'),
      'From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: a\nX-Spam-Flag: YES\n\nb\n',
    );
  });

  it('writes a replaced body in the input line ends', () => {
    const raw = Buffer.from('Subject: a\n\nold\n');
    assert.equal(
      filtered(raw, 'new\r\nbody\r\n').toString(),
      'Subject: a\nX-Spam-Flag: YES\n\nnew\nbody\n',
    );
  });

  it('handles headers without a body, and a body without headers', () => {
    assert.equal(
      filtered(Buffer.from('Subject: a\n')).toString(),
      'Subject: a\nX-Spam-Flag: YES\n',
    );
    assert.equal(
      filtered(Buffer.from('just text\n')).toString(),
      'X-Spam-Flag: YES\n\njust text\n',
    );
  });

  it('finds the body where the parse does (a non-header line ends the header block)', () => {
    assert.deepEqual(rawLayout(Buffer.from('A: 1\nnot a header\nmore\n')), {
      fromLine: 0,
      separator: -1,
      body: 5,
      eol: '\n',
    });
    assert.deepEqual(rawLayout(Buffer.from('A: 1\r\n \r\n\r\nb')), {
      fromLine: 0,
      separator: 9,
      body: 11,
      eol: '\r\n',
    });
  });
});
