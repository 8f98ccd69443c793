import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpamdScanner } from './client.ts';
import { formatSpamdUrl, parseSpamdUrl, SpamdUrlError } from './url.ts';

describe('parseSpamdUrl', () => {
  it('reads TCP, unix socket and TLS addresses', () => {
    assert.deepEqual(parseSpamdUrl('spamd://127.0.0.1:17830'), {
      kind: 'tcp',
      host: '127.0.0.1',
      port: 17830,
      tls: false,
    });
    assert.deepEqual(parseSpamdUrl('spamd://localhost'), {
      kind: 'tcp',
      host: 'localhost',
      port: 783,
      tls: false,
    });
    assert.deepEqual(parseSpamdUrl('spamd://[::1]:783/'), {
      kind: 'tcp',
      host: '::1',
      port: 783,
      tls: false,
    });
    assert.deepEqual(parseSpamdUrl('spamd+tls://scan.example.org:7830'), {
      kind: 'tcp',
      host: 'scan.example.org',
      port: 7830,
      tls: true,
    });
    assert.deepEqual(parseSpamdUrl('spamd:///run/spamd/spamd.sock'), {
      kind: 'unix',
      path: '/run/spamd/spamd.sock',
    });
    assert.deepEqual(parseSpamdUrl('spamd:///tmp/with%20space.sock'), {
      kind: 'unix',
      path: '/tmp/with space.sock',
    });
  });

  it('formats the canonical URL back', () => {
    for (const url of [
      'spamd://127.0.0.1:783',
      'spamd://[::1]:17830',
      'spamd+tls://h.example:783',
      'spamd:///run/s.sock',
    ]) {
      assert.equal(formatSpamdUrl(parseSpamdUrl(url)), url);
    }
    assert.equal(formatSpamdUrl(parseSpamdUrl('spamd://localhost')), 'spamd://localhost:783');
  });

  it('names the URL and the reason, without credentials', () => {
    const cases: [string, RegExp][] = [
      ['rspamd://127.0.0.1:11333', /scheme must be spamd/],
      ['spamd://127.0.0.1:99999', /not a valid URL/],
      ['spamd://127.0.0.1:0', /bad port/],
      ['spamd://user:secret@127.0.0.1:783', /no user or password/],
      ['spamd://127.0.0.1:783?x=1', /no query/],
      ['spamd://127.0.0.1:783/run/spamd.sock', /a TCP URL has no path/],
      ['spamd:///', /no unix socket path/],
      ['spamd:/run/spamd.sock', /expected spamd:\/\/host:port/],
      ['spamd+tls:///run/spamd.sock', /TLS needs a host/],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, reason] of cases) {
      assert.throws(
        () => parseSpamdUrl(url),
        (error: unknown) => {
          assert.ok(error instanceof SpamdUrlError, url);
          assert.match(error.message, reason, url);
          assert.ok(!error.message.includes('secret'), 'credentials are not echoed');
          assert.ok(error.message.includes('invalid spamd URL "'), url);
          return true;
        },
      );
    }
  });
});

describe('SpamdScanner options', () => {
  it('exposes the canonical URL and the default verb', () => {
    const scanner = new SpamdScanner({ url: 'spamd://localhost' });
    assert.equal(scanner.url, 'spamd://localhost:783');
    assert.equal(scanner.verb, 'SYMBOLS');
  });

  it('rejects bad limits, verbs and compression over TLS', () => {
    assert.throws(() => new SpamdScanner({ url: 'spamd://h', scanTimeoutMs: 0 }), RangeError);
    assert.throws(
      () => new SpamdScanner({ url: 'spamd://h', maxResponseBytes: Number.NaN }),
      RangeError,
    );
    assert.throws(() => new SpamdScanner({ url: 'spamd://h', verb: 'TELL' as never }), RangeError);
    assert.throws(() => new SpamdScanner({ url: 'spamd+tls://h', compress: true }), /compress/);
    assert.throws(
      () => new SpamdScanner({ url: 'spamd+tls://h', tls: { cert: 'nope', key: 'nope' } }),
      /^RangeError: spamd\+tls:\/\/h:783: bad TLS settings/,
    );
  });
});
