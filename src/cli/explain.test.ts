import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import { parseExplainArgs, redactSecrets } from './explain.ts';
import { CliUsageError } from './output.ts';

const BASE = ['--from', 'a@example.org', '--rcpt', 'b@example.net', '--ip', '192.0.2.1'];

describe('parseExplainArgs', () => {
  it('reads the envelope, the file and the switches', () => {
    const args = parseExplainArgs([
      ...BASE,
      '--rcpt',
      'c@example.net',
      '--helo',
      'mx.example.org',
      '--auth',
      'alice',
      '--scanner',
      'spamd://127.0.0.1:783',
      '--json',
      '--show-message',
      'msg.eml',
    ]);
    assert.notEqual(args, 'help');
    if (args === 'help') return;
    assert.deepEqual(args.envelope.recipients, ['b@example.net', 'c@example.net']);
    assert.equal(args.envelope.authUser, 'alice');
    assert.equal(args.envelope.helo, 'mx.example.org');
    assert.deepEqual(args.scanners, ['spamd://127.0.0.1:783']);
    assert.equal(args.input, 'msg.eml');
    assert.equal(args.json, true);
    assert.equal(args.showMessage, true);
    assert.equal(parseExplainArgs(['--help']), 'help');
  });

  it('accepts the null sender and standard input', () => {
    const args = parseExplainArgs(['--from', '', '--rcpt', 'b@x', '--ip', '::1', '-']);
    assert.ok(args !== 'help' && args.envelope.sender === '' && args.input === '-');
  });

  it('refuses missing or bad envelope parts and a wrong number of files', () => {
    const bad = [
      ['--rcpt', 'b@x', '--ip', '192.0.2.1', 'f'],
      ['--from', 'a@x', '--ip', '192.0.2.1', 'f'],
      ['--from', 'a@x', '--rcpt', 'b@x', 'f'],
      [...BASE.slice(0, 4), '--ip', 'mail.example.org', 'f'],
      [...BASE, '--rcpt', '', 'f'],
      [...BASE, '--helo', '', 'f'],
      ['--from', 'a b@x', ...BASE.slice(2), 'f'],
      BASE,
      [...BASE, 'f', 'g'],
    ];
    for (const args of bad)
      assert.throws(() => parseExplainArgs(args), CliUsageError, args.join(' '));
    assert.throws(() => parseExplainArgs([...BASE, '--nope', 'f']), {
      code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
    });
  });
});

describe('redactSecrets', () => {
  it('hides the rspamd password and passwords in scanner URLs', () => {
    const config = ConfigSchema.parse({
      scanner: {
        urls: ['rspamd://user:urlpass@127.0.0.1:11333'],
        rspamd: { password: 'hunter2' },
      },
    });
    assert.equal(redactSecrets('a hunter2 b urlpass c', config), 'a ******** b ******** c');
    assert.equal(redactSecrets('nothing', ConfigSchema.parse({})), 'nothing');
  });
});
