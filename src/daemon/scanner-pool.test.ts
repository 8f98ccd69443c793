import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import { buildScannerPool, scannerSettings, scannerUrls } from './scanner-pool.ts';

const scanner = (input: Record<string, unknown>) => ConfigSchema.parse({ scanner: input }).scanner;

describe('the configured scanner pool', () => {
  it('passes every scanner setting on, rspamd tags and the built-in engine’s included', () => {
    const settings = scannerSettings(
      scanner({
        rspamd: { mtaTag: 'inbound', settingsId: 'in' },
        builtin: { dataDir: '/srv/sw', minLearned: 50, required: 6 },
      }),
    );
    assert.equal(settings.rspamdMtaTag, 'inbound');
    assert.equal(settings.rspamdSettingsId, 'in');
    assert.deepEqual(
      [settings.builtinDataDir, settings.builtinMinLearned, settings.builtinRequired],
      ['/srv/sw', 50, 6],
    );
  });

  it('scans with the built-in engine when no URL is configured', () => {
    assert.deepEqual(scannerUrls(scanner({})), ['builtin']);
    assert.deepEqual(
      buildScannerPool(scanner({ builtin: { dataDir: '/nonexistent' } })).memberUrls,
      ['builtin'],
    );
    assert.deepEqual(scannerUrls(scanner({ urls: ['spamd://h:783'] })), ['spamd://h:783']);
  });
});
