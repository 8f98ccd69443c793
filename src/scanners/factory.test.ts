import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScanner, createScanners, ScannerUrlError, scannerKind } from './factory.ts';
import { ScannerPool } from './pool.ts';
import { RspamdScanner } from './rspamd/client.ts';
import { SpamdScanner } from './spamd/client.ts';

describe('scanner factory', () => {
  it('knows each scheme', () => {
    assert.equal(scannerKind('spamd://127.0.0.1:783'), 'spamd');
    assert.equal(scannerKind('spamd:///run/spamd.sock'), 'spamd');
    assert.equal(scannerKind('SPAMD+TLS://h:783'), 'spamd');
    assert.equal(scannerKind('rspamd://127.0.0.1:11333'), 'rspamd');
    assert.equal(scannerKind('rspamd+https://h:11333'), 'rspamd');
    assert.equal(scannerKind('builtin'), 'builtin');
    assert.equal(scannerKind('noop'), 'noop');
  });

  it('names the URL and the reason for an unknown scheme', () => {
    assert.throws(
      () => scannerKind('http://h'),
      (e: unknown) => e instanceof ScannerUrlError && /"http:\/\/h".*scheme/.test(e.message),
    );
    assert.throws(() => scannerKind('127.0.0.1:783'), ScannerUrlError);
    assert.throws(() => createScanner('builtin://host/x'), /no host/);
  });

  it('builds the right client, with settings passed through', () => {
    const spamd = createScanner('spamd://127.0.0.1:7830', { spamdVerb: 'REPORT' });
    assert.ok(spamd instanceof SpamdScanner);
    assert.equal((spamd as SpamdScanner).verb, 'REPORT');
    assert.ok(createScanner('rspamd://127.0.0.1:11333') instanceof RspamdScanner);
  });

  it('makes a pool of several URLs, in the given order of preference', () => {
    const one = createScanners(['spamd://127.0.0.1:1']);
    assert.ok(one instanceof SpamdScanner);
    const pool = createScanners(['spamd://127.0.0.1:1', 'spamd://127.0.0.1:2']);
    assert.ok(pool instanceof ScannerPool);
    assert.deepEqual(
      (pool as ScannerPool).state().map((s) => s.url),
      ['spamd://127.0.0.1:1', 'spamd://127.0.0.1:2'],
    );
    assert.throws(() => createScanners([]), RangeError);
  });
});
