import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuiltinUrlError, DEFAULT_DATA_DIR, parseBuiltinUrl } from './url.ts';

describe('parseBuiltinUrl', () => {
  it('reads plain builtin as SQLite in the default data directory', () => {
    assert.deepEqual(parseBuiltinUrl('builtin'), {
      display: 'builtin',
      target: { kind: 'sqlite', dataDir: DEFAULT_DATA_DIR },
    });
  });

  it('reads a data directory', () => {
    assert.deepEqual(parseBuiltinUrl('builtin:///var/spool/bayes%20db/'), {
      display: 'builtin:///var/spool/bayes%20db/',
      target: { kind: 'sqlite', dataDir: '/var/spool/bayes db' },
    });
  });

  it('reads Redis with defaults, and hides the password in the display URL', () => {
    assert.deepEqual(parseBuiltinUrl('builtin+redis://redis.example'), {
      display: 'builtin+redis://redis.example',
      target: { kind: 'redis', host: 'redis.example', port: 6379, db: 0 },
    });
    assert.deepEqual(parseBuiltinUrl('builtin+redis://:s%40cret@10.0.0.5:6380/2?prefix=mx1:'), {
      display: 'builtin+redis://10.0.0.5:6380/2',
      target: {
        kind: 'redis',
        host: '10.0.0.5',
        port: 6380,
        db: 2,
        password: 's@cret',
        prefix: 'mx1:',
      },
    });
    assert.equal(parseBuiltinUrl('builtin+redis://[::1]:7000').target.kind, 'redis');
  });

  it('rejects what it cannot use, with the URL and the reason', () => {
    for (const [url, reason] of [
      ['builtin://host/dir', /no host/],
      ['builtin:///', /missing/],
      ['builtin+redis://h/x', /database/],
      ['spamd://h', /scheme/],
      ['builtinx', /not a URL/],
    ] as const) {
      assert.throws(
        () => parseBuiltinUrl(url),
        (e: unknown) =>
          e instanceof BuiltinUrlError && e.code === 'BAD_SCANNER_URL' && reason.test(e.message),
        url,
      );
    }
  });
});
