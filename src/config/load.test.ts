import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from './errors.ts';
import { loadConfig } from './load.ts';
import { envName, leaves } from './paths.ts';
import { renderConfigReference } from './reference.ts';
import { ConfigSchema } from './schema.ts';

describe('loadConfig', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spamward-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  async function problems(promise: Promise<unknown>): Promise<string[]> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.map((p) => `${p.path}: ${p.reason}`);
    }
    assert.fail('expected a ConfigError');
  }

  it('gives the documented defaults with no sources, frozen', async () => {
    const { config, warnings } = await loadConfig();
    assert.equal(config.socket, 'inet:11332@127.0.0.1');
    assert.equal(config.scan.maxScanBytes, 512 * 1024);
    assert.equal(config.failure.unavailable, 'tempfail');
    assert.deepEqual(warnings, []);
    assert.ok(Object.isFrozen(config.scanner));
  });

  it('layers file < environment < flags', async () => {
    const path = await file(
      'layers.yaml',
      'logLevel: debug\nscanner:\n  urls: [spamd://127.0.0.1:783]\n  scanTimeoutMs: 1000\nactions:\n  reject: required + 5\n',
    );
    const { config } = await loadConfig({
      file: path,
      env: {
        SPAMWARD_SCANNER_SCAN_TIMEOUT_MS: '2000',
        SPAMWARD_SOCKET_MODE: '600',
        SPAMWARD_HEADERS_REPORT: 'true',
      },
      flags: { logLevel: 'warn' },
    });
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.scanner.scanTimeoutMs, 2000);
    assert.equal(config.socketMode, '600', 'string settings are not re-typed from the environment');
    assert.equal(config.headers.report, true);
    assert.deepEqual(config.scanner.urls, ['spamd://127.0.0.1:783']);
    assert.equal(config.actions.reject, 'required + 5');
  });

  it('reads comma-separated lists from the environment', async () => {
    const { config } = await loadConfig({
      env: { SPAMWARD_SCANNER_URLS: 'spamd://127.0.0.1:1, rspamd://127.0.0.1:2' },
    });
    assert.deepEqual(config.scanner.urls, ['spamd://127.0.0.1:1', 'rspamd://127.0.0.1:2']);
  });

  it('names the key and the reason for every mistake', async () => {
    const path = await file(
      'bad.yaml',
      'scanner:\n  maxQueue: -1\n  urls: [ftp://x]\n  colour: red\nactions:\n  reject: "+10"\nsocket: tcp:25\n',
    );
    const found = await problems(loadConfig({ file: path }));
    assert.ok(
      found.some((p) => p.startsWith('scanner.maxQueue:')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('scanner: unknown key(s): colour')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('actions.reject:') && p.includes('required + N')),
      found.join('\n'),
    );
  });

  it('checks meaning after shape: socket and scanner URLs must parse', async () => {
    const found = await problems(
      loadConfig({ flags: { socket: 'tcp:25', 'scanner.urls': ['spamd://ok:783', 'ftp://x'] } }),
    );
    assert.deepEqual(
      found.map((p) => p.split(':')[0]),
      ['socket', 'scanner.urls.1'],
    );
  });

  it('reports unreadable files and bad YAML with the file name', async () => {
    assert.match(
      (await problems(loadConfig({ file: join(dir, 'missing.yaml') })))[0] ?? '',
      /missing\.yaml: cannot read/,
    );
    const broken = await file('broken.yaml', 'scanner: [unclosed\n');
    assert.match((await problems(loadConfig({ file: broken })))[0] ?? '', /not valid YAML/);
    const list = await file('list.yaml', '- a\n- b\n');
    assert.match((await problems(loadConfig({ file: list })))[0] ?? '', /must be a mapping/);
  });

  it('warns about SPAMWARD_* variables that name no setting (but not the test harness ones)', async () => {
    const { warnings } = await loadConfig({
      env: { SPAMWARD_SCANER_URLS: 'x', SPAMWARD_TEST_SPAMD_TCP: 'y', HOME: '/root' },
    });
    assert.deepEqual(warnings, ['SPAMWARD_SCANER_URLS names no setting; ignored']);
  });
});

describe('the configuration reference', () => {
  it('docs/configuration.md is the schema, rendered (run `spamward config reference > docs/configuration.md`)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderConfigReference());
  });

  it('lists every key with an environment name and help text', () => {
    for (const leaf of leaves(ConfigSchema)) {
      assert.match(envName(leaf.path), /^SPAMWARD_[A-Z0-9_]+$/);
      assert.notEqual(leaf.description, '', `${leaf.path} has no help text`);
    }
  });
});
