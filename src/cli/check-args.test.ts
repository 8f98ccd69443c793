import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitRawMessage } from '../message/parse-raw.ts';
import {
  DEFAULT_MAX_INPUT_BYTES,
  headerAddress,
  type PipeArgs,
  parseCheckArgs,
  pipeEnvelope,
  splitExec,
} from './check-args.ts';

function pipe(...args: string[]): PipeArgs {
  const parsed = parseCheckArgs(args);
  assert.equal(parsed.kind, 'pipe');
  return parsed as PipeArgs;
}

describe('parseCheckArgs', () => {
  it('defaults to the filter mode on standard input', () => {
    const args = pipe();
    assert.equal(args.mode, 'filter');
    assert.equal(args.input, '-');
    assert.equal(args.useEnv, true);
    assert.equal(args.maxInputBytes, DEFAULT_MAX_INPUT_BYTES);
    assert.deepEqual(args.exec, []);
  });

  it('knows -E/--exitcode, --reject-text and --exec', () => {
    assert.equal(pipe('-E', 'f.eml').mode, 'exitcode');
    assert.equal(pipe('--exitcode').mode, 'exitcode');
    assert.equal(pipe('--reject-text').mode, 'reject-text');
    const exec = pipe('--rcpt', 'bob@example.net', 'f.eml', '--exec', 'dovecot-lda', '-d', 'bob');
    assert.equal(exec.mode, 'exec');
    assert.equal(exec.input, 'f.eml');
    assert.deepEqual(exec.exec, ['dovecot-lda', '-d', 'bob']);
  });

  it('hands everything after --exec on verbatim, flags and shell characters included', () => {
    const args = pipe('--exec', 'lda', '--from', 'a b; $HOME `x`', '--exec', '-E');
    assert.deepEqual(args.exec, ['lda', '--from', 'a b; $HOME `x`', '--exec', '-E']);
    assert.equal(args.mode, 'exec');
    assert.deepEqual(args.envelope.from, undefined);
  });

  it('does not take a flag value for --exec', () => {
    assert.deepEqual(splitExec(['--helo', '--exec', 'x']), {
      own: ['--helo', '--exec', 'x'],
      exec: null,
    });
    assert.deepEqual(splitExec(['--', '--exec', 'x']).exec, null);
  });

  it('refuses mistakes with a usage error', () => {
    const usage = { code: 'CLI_USAGE' };
    assert.throws(() => parseCheckArgs(['--exec']), usage);
    assert.throws(() => parseCheckArgs(['-E', '--exec', 'lda']), usage);
    assert.throws(() => parseCheckArgs(['--reject-text', '--exec', 'lda']), usage);
    assert.throws(() => parseCheckArgs(['a.eml', 'b.eml']), usage);
    assert.throws(() => parseCheckArgs(['--ip', 'example.org']), usage);
    assert.throws(() => parseCheckArgs(['--rcpt', '<>']), usage);
    assert.throws(() => parseCheckArgs(['--from', 'a b@example.org']), usage);
    assert.throws(() => parseCheckArgs(['--max-input-bytes', '0']), usage);
    assert.throws(() => parseCheckArgs(['--json']), usage);
    assert.throws(() => parseCheckArgs(['--verdict', '-E']), usage);
    assert.throws(() => parseCheckArgs(['--verdict', '--exec', 'lda']), usage);
    assert.throws(() => parseCheckArgs(['--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  it('parses the verdict mode with its own flags', () => {
    const parsed = parseCheckArgs([
      '--verdict',
      '--json',
      '--scanner',
      'spamd://h:1',
      '--verb',
      'REPORT',
    ]);
    assert.equal(parsed.kind, 'verdict');
    if (parsed.kind !== 'verdict') return;
    assert.equal(parsed.json, true);
    assert.deepEqual(parsed.scanners, ['spamd://h:1']);
    assert.equal(parsed.timeoutMs, 30000);
  });
});

describe('pipeEnvelope: the envelope of a piped message', () => {
  const headers = splitRawMessage(
    Buffer.from(
      'Return-Path: <alice@example.org>\nDelivered-To: bob@example.net\nX-Original-To: info@example.net\nSubject: x\n\nbody\n',
    ),
  ).headers;
  const bare = splitRawMessage(Buffer.from('Subject: x\n\nbody\n')).headers;

  it('takes flags first', () => {
    const env = { SENDER: 'env@example.org', RECIPIENT: 'env@example.net' };
    const e = pipeEnvelope(
      { from: 'flag@example.org', rcpt: ['r1@x.net', 'r2@x.net'], ip: '192.0.2.1', auth: 'u' },
      headers,
      env,
    );
    assert.equal(e.sender, 'flag@example.org');
    assert.deepEqual(e.recipients, ['r1@x.net', 'r2@x.net']);
    assert.equal(e.clientAddress, '192.0.2.1');
    assert.equal(e.authUser, 'u');
  });

  it('then what Postfix local(8) exports', () => {
    const env = {
      SENDER: '',
      RECIPIENT: 'carol@example.net',
      CLIENT_ADDRESS: '203.0.113.5',
      CLIENT_HELO: 'mx.example.org',
      CLIENT_HOSTNAME: 'mx.example.org',
      SASL_USERNAME: 'carol',
      LOGNAME: 'carol',
    };
    const e = pipeEnvelope({}, headers, env);
    assert.equal(e.sender, '', 'an empty SENDER is the null sender');
    assert.deepEqual(e.recipients, ['carol@example.net']);
    assert.equal(e.clientAddress, '203.0.113.5');
    assert.equal(e.helo, 'mx.example.org');
    assert.equal(e.clientName, 'mx.example.org');
    assert.equal(e.authUser, 'carol');
  });

  it("then Courier's TCPREMOTEIP/TCPREMOTEHOST (softdnserr is no name)", () => {
    const e = pipeEnvelope({}, bare, { TCPREMOTEIP: '2001:db8::1', TCPREMOTEHOST: 'softdnserr' });
    assert.equal(e.clientAddress, '2001:db8::1');
    assert.equal(e.clientName, undefined);
    assert.equal(pipeEnvelope({}, bare, { CLIENT_ADDRESS: 'unknown' }).clientAddress, '');
  });

  it('then Return-Path, Delivered-To, X-Original-To, LOGNAME, USER', () => {
    const e = pipeEnvelope({}, headers, { LOGNAME: 'dave' });
    assert.equal(e.sender, 'alice@example.org');
    assert.deepEqual(e.recipients, ['bob@example.net']);
    const original = splitRawMessage(Buffer.from('X-Original-To: info@example.net\n\nx')).headers;
    assert.deepEqual(pipeEnvelope({}, original, {}).recipients, ['info@example.net']);
    assert.deepEqual(pipeEnvelope({}, bare, { LOGNAME: 'dave', USER: 'x' }).recipients, ['dave']);
    assert.deepEqual(pipeEnvelope({}, bare, { USER: 'erin' }).recipients, ['erin']);
    assert.equal(pipeEnvelope({}, bare, {}).sender, '');
    assert.equal(pipeEnvelope({}, bare, {}).recipients.length, 1);
  });

  it('ignores the environment with --no-env', () => {
    const env = {
      SENDER: 'env@example.org',
      RECIPIENT: 'env@example.net',
      CLIENT_ADDRESS: '10.0.0.1',
    };
    const e = pipeEnvelope({}, headers, env, false);
    assert.equal(e.sender, 'alice@example.org');
    assert.deepEqual(e.recipients, ['bob@example.net']);
    assert.equal(e.clientAddress, '');
  });

  it('reads addresses from trace header values', () => {
    assert.equal(headerAddress(Buffer.from(' <a@b.example>')), 'a@b.example');
    assert.equal(headerAddress(Buffer.from(' <>')), '');
    assert.equal(headerAddress(Buffer.from(' a@b.example ')), 'a@b.example');
    assert.equal(headerAddress(Buffer.from(' not an address')), undefined);
    assert.equal(headerAddress(Buffer.from(' ')), undefined);
  });
});
