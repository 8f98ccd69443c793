import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../daemon/config.ts';
import { CliUsageError } from './output.ts';
import { DEFAULT_SOCKET, parseRunArgs } from './run.ts';

describe('parseRunArgs', () => {
  it('uses the defaults with no arguments', () => {
    const config = parseRunArgs([]);
    assert.notEqual(config, 'help');
    if (config === 'help') return;
    assert.deepEqual(config.socket, { kind: 'inet', host: '127.0.0.1', port: 11332 });
    assert.equal(DEFAULT_SOCKET, 'inet:11332@127.0.0.1');
    assert.equal(config.maxBodyBytes, DEFAULTS.maxBodyBytes);
    assert.equal(config.unixMode, 0o660);
  });

  it('reads the socket and flags', () => {
    const config = parseRunArgs([
      'unix:/tmp/s.sock',
      '--socket-mode',
      '0600',
      '--socket-group',
      'postfix',
      '--max-body-bytes',
      '1000',
      '--log-level',
      'debug',
    ]);
    assert.notEqual(config, 'help');
    if (config === 'help') return;
    assert.deepEqual(config.socket, { kind: 'unix', path: '/tmp/s.sock' });
    assert.equal(config.unixMode, 0o600);
    assert.equal(config.unixGroup, 'postfix');
    assert.equal(config.maxBodyBytes, 1000);
    assert.equal(config.logLevel, 'debug');
  });

  it('names the flag and the reason on a mistake', () => {
    assert.throws(
      () => parseRunArgs(['--max-body-bytes', 'lots']),
      (e: unknown) => e instanceof CliUsageError && e.message.includes('--max-body-bytes'),
    );
    assert.throws(
      () => parseRunArgs(['--socket-mode', '999']),
      (e: unknown) => e instanceof CliUsageError && e.message.includes('--socket-mode'),
    );
    assert.throws(
      () => parseRunArgs(['--log-level', 'loud']),
      (e: unknown) => e instanceof CliUsageError && e.message.includes('--log-level'),
    );
    assert.throws(() => parseRunArgs(['inet:1@h', 'inet:2@h']), CliUsageError);
    assert.throws(() => parseRunArgs(['tcp:25']), /invalid socket "tcp:25"/);
  });

  it('answers --help', () => {
    assert.equal(parseRunArgs(['--help']), 'help');
  });
});
