import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { EnvelopeAddress } from '../message/message.ts';
import { routingFor } from './routing.ts';

const rcpt = (address: string): EnvelopeAddress => ({
  address: `<${address}>`,
  raw: Buffer.from(`<${address}>`),
  args: [],
});
const routing = (input: Record<string, unknown>) => ConfigSchema.parse({ routing: input }).routing;
const message = { recipients: [rcpt('bob@example.net'), rcpt('carol@example.net')] };

describe('routingFor', () => {
  it('adds nothing when nothing is configured', () => {
    assert.deepEqual(routingFor(message, 'spam', routing({}), true), []);
  });

  it('copies spam, ham and everything to their own addresses', () => {
    const r = routing({
      spamCopyTo: ['spam@example.org'],
      hamCopyTo: ['ham@example.org'],
      archiveTo: ['archive@example.org'],
    });
    const added = (kind: 'spam' | 'ham' | 'unscanned') =>
      routingFor(message, kind, r, true).map((m) =>
        m.kind === 'add-recipient' ? String(m.address) : m.kind,
      );
    assert.deepEqual(added('spam'), ['<spam@example.org>', '<archive@example.org>']);
    assert.deepEqual(added('ham'), ['<ham@example.org>', '<archive@example.org>']);
    assert.deepEqual(added('unscanned'), ['<archive@example.org>']);
  });

  it('redirects spam: originals deleted by their exact bytes and recorded, target added', () => {
    const mods = routingFor(message, 'spam', routing({ spamRedirectTo: 'trap@example.org' }), true);
    assert.deepEqual(mods, [
      { kind: 'delete-recipient', address: Buffer.from('<bob@example.net>') },
      { kind: 'delete-recipient', address: Buffer.from('<carol@example.net>') },
      { kind: 'add-header', name: 'X-Spam-Orig-To', value: 'bob@example.net, carol@example.net' },
      { kind: 'add-recipient', address: '<trap@example.org>' },
    ]);
  });

  it('does not redirect ham, nor spam that may only be tagged', () => {
    const r = routing({ spamRedirectTo: 'trap@example.org' });
    assert.deepEqual(routingFor(message, 'ham', r, true), []);
    assert.deepEqual(routingFor(message, 'spam', r, false), []);
  });

  it('never adds a recipient the message already has (no double delivery)', () => {
    const r = routing({ spamCopyTo: ['BOB@example.net', 'x@example.org', 'x@example.org'] });
    assert.deepEqual(routingFor(message, 'spam', r, true), [
      { kind: 'add-recipient', address: '<x@example.org>' },
    ]);
  });

  it('keeps a recipient that is the redirect target itself', () => {
    const mods = routingFor(message, 'spam', routing({ spamRedirectTo: 'bob@example.net' }), true);
    assert.deepEqual(
      mods.map((m) => m.kind),
      ['delete-recipient', 'add-header'],
    );
  });

  it('folds a long list of original recipients', () => {
    const many = { recipients: Array.from({ length: 20 }, (_, i) => rcpt(`user${i}@example.net`)) };
    const mods = routingFor(many, 'spam', routing({ spamRedirectTo: 't@example.org' }), true);
    const header = mods.find((m) => m.kind === 'add-header');
    assert.ok(header !== undefined && header.kind === 'add-header');
    const lines = String(header.value).split('\n');
    assert.ok(lines.length > 1);
    for (const line of lines) assert.ok(line.length <= 78, line);
    assert.equal(String(header.value).replace(/\n\t/g, ' ').split(', ').length, 20);
  });

  it('refuses addresses that are not plain mailboxes in the config', () => {
    assert.equal(ConfigSchema.safeParse({ routing: { spamCopyTo: ['<a@b>'] } }).success, false);
    assert.equal(ConfigSchema.safeParse({ routing: { spamRedirectTo: 'nobody' } }).success, false);
  });
});
