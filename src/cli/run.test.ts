import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { parseRunArgs } from './run.ts';

describe('parseRunArgs', () => {
  it('no arguments: no file, no flags (the schema defaults apply)', async () => {
    assert.deepEqual(parseRunArgs([]), { file: undefined, flags: {} });
    const { config } = await loadConfig({ flags: {} });
    assert.equal(config.socket, 'inet:11332@127.0.0.1');
  });

  it('maps the socket and flags onto config keys', async () => {
    const args = parseRunArgs([
      'unix:/tmp/s.sock',
      '--config',
      '/etc/spamward.yaml',
      '--socket-mode',
      '0600',
      '--socket-group',
      'postfix',
      '--max-scan-bytes',
      '1000',
      '--log-level',
      'debug',
      '--scanner',
      'spamd://127.0.0.1:783',
      '--scanner',
      'spamd://127.0.0.2:783',
      '--dry-run',
    ]);
    assert.notEqual(args, 'help');
    if (args === 'help') return;
    assert.equal(args.file, '/etc/spamward.yaml');
    assert.deepEqual(args.flags, {
      socket: 'unix:/tmp/s.sock',
      socketMode: '0600',
      socketGroup: 'postfix',
      'scan.maxScanBytes': 1000,
      logLevel: 'debug',
      'scanner.urls': ['spamd://127.0.0.1:783', 'spamd://127.0.0.2:783'],
      dryRun: true,
    });
    const { config } = await loadConfig({ flags: args.flags });
    assert.equal(config.scan.maxScanBytes, 1000);
    assert.equal(config.scanner.urls.length, 2);
  });

  it('a bad flag value is reported by the schema with the key', async () => {
    const args = parseRunArgs(['--max-scan-bytes', 'lots']);
    assert.notEqual(args, 'help');
    if (args === 'help') return;
    await assert.rejects(loadConfig({ flags: args.flags }), /scan\.maxScanBytes/);
  });

  it('refuses unknown flags and two sockets', () => {
    assert.throws(() => parseRunArgs(['--no-such-flag']), /no-such-flag/);
    assert.throws(() => parseRunArgs(['inet:1@h', 'inet:2@h']), /one SOCKET/);
  });

  it('answers --help', () => {
    assert.equal(parseRunArgs(['--help']), 'help');
  });
});
