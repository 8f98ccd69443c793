import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { describe, it } from 'node:test';
import type { Envelope } from '../scanner.ts';
import {
  asciiDomain,
  buildCheckHeaders,
  buildEnvelopeHeaders,
  sanitizeHeaderValue,
} from './request.ts';

const full: Envelope = {
  clientAddress: '198.18.0.10',
  clientName: 'mail.example.org',
  helo: 'mail.example.org',
  sender: 'sender@example.org',
  recipients: ['rcpt@example.com', 'other@example.com'],
  authUser: 'alice',
  queueId: '4ABCDEF123',
  mtaName: 'mx.example.net',
};

describe('buildCheckHeaders', () => {
  it('maps every envelope field the way rspamd’s proxy does', () => {
    assert.deepEqual(
      buildCheckHeaders(full, { settingsId: 'inbound', mtaTag: 'edge', passAll: true }),
      {
        IP: '198.18.0.10',
        Hostname: 'mail.example.org',
        Helo: 'mail.example.org',
        From: '<sender@example.org>',
        Rcpt: ['<rcpt@example.com>', '<other@example.com>'],
        User: 'alice',
        'Queue-Id': '4ABCDEF123',
        'MTA-Name': 'mx.example.net',
        'Settings-ID': 'inbound',
        'MTA-Tag': 'edge',
        Pass: 'all',
        Flags: 'milter',
      },
    );
  });

  it('sends only Flags for an empty envelope (no IP ⇒ rspamd skips IP checks)', () => {
    assert.deepEqual(buildCheckHeaders({ recipients: [] }), { Flags: 'milter' });
  });

  it('Deliver-To: the only recipient, or the preferences user', () => {
    assert.equal(
      buildEnvelopeHeaders({ recipients: ['<a@b.example>'] })['Deliver-To'],
      'a@b.example',
    );
    assert.equal(buildEnvelopeHeaders(full)['Deliver-To'], undefined);
    assert.equal(buildEnvelopeHeaders({ ...full, prefsUser: 'bob' })['Deliver-To'], 'bob');
  });

  it('the null sender is <>; brackets are never doubled', () => {
    assert.equal(buildEnvelopeHeaders({ sender: '', recipients: [] })['From'], '<>');
    assert.equal(buildEnvelopeHeaders({ sender: '<a@b>', recipients: ['<c@d>'] })['From'], '<a@b>');
    assert.deepEqual(buildEnvelopeHeaders({ recipients: ['<c@d>', ''] })['Rcpt'], ['<c@d>']);
  });

  it('omits a client name the MTA could not verify', () => {
    for (const clientName of ['unknown', 'UNKNOWN', '[198.18.0.10]', ' ']) {
      assert.equal(
        buildEnvelopeHeaders({ ...full, clientName })['Hostname'],
        undefined,
        clientName,
      );
    }
  });

  it('strips brackets and the IPv6: tag from the client address', () => {
    assert.equal(
      buildEnvelopeHeaders({ clientAddress: '[IPv6:2001:db8::1]', recipients: [] })['IP'],
      '2001:db8::1',
    );
    assert.equal(
      buildEnvelopeHeaders({ clientAddress: '[198.18.0.1]', recipients: [] })['IP'],
      '198.18.0.1',
    );
  });

  it('cannot be used to inject headers: CR/LF/NUL never reach the wire', () => {
    const headers = buildCheckHeaders({
      helo: 'evil\r\nX-Injected: 1',
      sender: 'a@b\u0000c',
      recipients: ['x@y\nRcpt: <z@w>'],
      queueId: '\r\n',
    });
    assert.equal(headers['Helo'], 'evil X-Injected: 1');
    assert.equal(headers['From'], '<a@b c>');
    assert.deepEqual(headers['Rcpt'], ['<x@y Rcpt: <z@w>>']);
    assert.equal(headers['Queue-Id'], undefined);
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
    }
  });

  it('IDN host names and address domains go as A-labels (rspamd 3.4 rejects UTF-8 there)', () => {
    const headers = buildEnvelopeHeaders({
      helo: 'mail.exämple.org',
      clientName: 'relay.bücher.example',
      sender: 'jürgen@exämple.org',
      recipients: ['ünï@bücher.example'],
    });
    assert.equal(headers['Helo'], 'mail.xn--exmple-cua.org');
    assert.equal(headers['Hostname'], 'relay.xn--bcher-kva.example');
    // The UTF-8 local part cannot be converted: it goes as its UTF-8 bytes (one latin1 char each).
    assert.equal(
      headers['From'],
      `<${Buffer.from('jürgen', 'utf8').toString('latin1')}@xn--exmple-cua.org>`,
    );
    assert.equal(
      headers['Deliver-To'],
      `${Buffer.from('ünï', 'utf8').toString('latin1')}@xn--bcher-kva.example`,
    );
  });
});

describe('sanitizeHeaderValue', () => {
  it('keeps printable ASCII, trims, collapses controls into one space', () => {
    assert.equal(sanitizeHeaderValue('  a\tb\r\n\tc  '), 'a b c');
    assert.equal(sanitizeHeaderValue('x\u007fy'), 'x y');
  });

  it('sends non-ASCII as UTF-8 bytes that node:http accepts', () => {
    const value = sanitizeHeaderValue('Grüße 😀');
    validateHeaderValue('X', value);
    assert.equal(Buffer.from(value, 'latin1').toString('utf8'), 'Grüße 😀');
  });

  it('asciiDomain leaves ASCII and invalid names alone', () => {
    assert.equal(asciiDomain('[198.18.0.1]'), '[198.18.0.1]');
    assert.equal(asciiDomain('bücher.example'), 'xn--bcher-kva.example');
  });
});
