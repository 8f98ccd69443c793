import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultControllerUrl, parseRspamdUrl, RspamdUrlError } from './url.ts';

describe('parseRspamdUrl', () => {
  it('reads host and port', () => {
    const e = parseRspamdUrl('rspamd://127.0.0.1:11333');
    assert.equal(e.host, '127.0.0.1');
    assert.equal(e.port, 11333);
    assert.equal(e.https, false);
    assert.equal(e.display, 'rspamd://127.0.0.1:11333');
    assert.equal(e.credentials, undefined);
  });

  it('defaults the port, lower-cases the host, accepts a trailing slash', () => {
    assert.equal(
      parseRspamdUrl('rspamd://Scanner.Example.ORG/').display,
      'rspamd://scanner.example.org:11333',
    );
    assert.equal(parseRspamdUrl('rspamd://h', 11334).port, 11334);
  });

  it('keeps an explicit :80 (WHATWG URL would drop it for http)', () => {
    assert.equal(parseRspamdUrl('rspamd+http://h:80').port, 80);
    assert.equal(parseRspamdUrl('rspamd+http://h:80').display, 'rspamd://h:80');
  });

  it('https and IPv6', () => {
    const e = parseRspamdUrl('rspamd+https://[::1]:8443');
    assert.equal(e.https, true);
    assert.equal(e.host, '::1');
    assert.equal(e.display, 'rspamd+https://[::1]:8443');
  });

  it('takes basic-auth credentials from the URL and keeps them out of display', () => {
    const e = parseRspamdUrl('rspamd+https://user:p%40ss@proxy.example:443');
    assert.deepEqual(e.credentials, { username: 'user', password: 'p@ss' });
    assert.equal(e.display, 'rspamd+https://proxy.example:443');
  });

  it('derives the controller: same scheme and host, port 11334', () => {
    assert.equal(
      defaultControllerUrl(parseRspamdUrl('rspamd+https://[::1]:1')),
      'rspamd+https://[::1]:11334',
    );
  });

  const bad: [string, RegExp][] = [
    ['spamd://h:783', /unknown scheme "spamd:"/],
    ['rspamd://:11333', /no host/],
    ['rspamd://h:0', /port "0"/],
    ['rspamd://h:70000', /port "70000"/],
    ['rspamd://h:x', /port "x"/],
    ['rspamd://h/checkv2', /unexpected path/],
    ['rspamd://h?x=1', /unexpected path, query/],
    ['rspamd://[zz]:1', /not an IPv6 address/],
    ['rspamd://bad host:1', /not a host name/],
    ['127.0.0.1:11333', /not of the form/],
  ];
  for (const [url, reason] of bad) {
    it(`rejects ${url} naming it and why`, () => {
      assert.throws(
        () => parseRspamdUrl(url),
        (error: unknown) =>
          error instanceof RspamdUrlError &&
          error.code === 'BAD_SCANNER_URL' &&
          error.message.includes(`"${url}"`) &&
          reason.test(error.message),
      );
    });
  }

  it('masks the password in the error message', () => {
    assert.throws(
      () => parseRspamdUrl('rspamd://u:secret@h/x'),
      (error: unknown) =>
        error instanceof Error &&
        !error.message.includes('secret') &&
        error.message.includes('u:***@h'),
    );
  });
});
