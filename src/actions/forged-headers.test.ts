import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Modification } from '../filter/decision.ts';
import { forgedHeaderDeletions, inHeaderFamily } from './forged-headers.ts';
import type { HeaderProfile } from './spam-headers.ts';

const names = [
  'Received',
  'X-Spam-Flag',
  'Subject',
  'x-spam-status',
  'X-Spam-Flag',
  'X-Spamd-Result',
  'X-SPAM-FLAG',
  'X-Rspamd-Queue-Id',
  'X-Spam',
  'X-Spammer',
  'X-Spamd-Bar',
  'X-Rspamd-Action',
  'X-Spam-Prev-Subject',
  'X-Virus-Scanned',
];
const headers = names.map((name) => ({ name, value: Buffer.from(' x') }));

/** Applies CHGHEADER-style deletions as Postfix does: n-th of that name (case-insensitive), then renumbered. */
function apply(list: readonly string[], mods: readonly Modification[]): string[] {
  const out = [...list];
  for (const mod of mods) {
    assert.equal(mod.kind, 'delete-header');
    if (mod.kind !== 'delete-header') continue;
    const positions = out.flatMap((name, i) =>
      name.toLowerCase() === mod.name.toLowerCase() ? [i] : [],
    );
    const at = positions[mod.occurrence - 1];
    assert.ok(at !== undefined, `${mod.name}[${mod.occurrence}] exists when deleted`);
    out.splice(at, 1);
  }
  return out;
}

describe('inHeaderFamily', () => {
  it('knows each profile family, case-insensitively', () => {
    const family = (profile: HeaderProfile) =>
      names.filter((name) => inHeaderFamily(name, profile));
    assert.deepEqual(family('spamassassin'), [
      'X-Spam-Flag',
      'x-spam-status',
      'X-Spam-Flag',
      'X-SPAM-FLAG',
      'X-Spam-Prev-Subject',
    ]);
    assert.deepEqual(family('rspamd'), [
      'X-Spamd-Result',
      'X-Rspamd-Queue-Id',
      'X-Spam',
      'X-Spamd-Bar',
      'X-Rspamd-Action',
    ]);
    assert.equal(family('both').length, 10);
    assert.equal(inHeaderFamily('X-Spammer', 'both'), false);
    assert.equal(inHeaderFamily('X-Spam-', 'spamassassin'), true);
  });
});

describe('forgedHeaderDeletions', () => {
  it('deletes each name from the highest occurrence down, counting spellings together', () => {
    assert.deepEqual(forgedHeaderDeletions(headers, 'spamassassin'), [
      { kind: 'delete-header', name: 'X-Spam-Flag', occurrence: 3 },
      { kind: 'delete-header', name: 'X-Spam-Flag', occurrence: 2 },
      { kind: 'delete-header', name: 'X-Spam-Flag', occurrence: 1 },
      { kind: 'delete-header', name: 'x-spam-status', occurrence: 1 },
      { kind: 'delete-header', name: 'X-Spam-Prev-Subject', occurrence: 1 },
    ]);
  });

  it('leaves exactly the other headers when applied the way the MTA renumbers', () => {
    for (const profile of ['spamassassin', 'rspamd', 'both'] as const) {
      const left = apply(names, forgedHeaderDeletions(headers, profile));
      assert.deepEqual(
        left,
        names.filter((name) => !inHeaderFamily(name, profile)),
        profile,
      );
    }
  });

  it('returns nothing for a clean message', () => {
    assert.deepEqual(forgedHeaderDeletions([{ name: 'Subject' }, { name: 'From' }], 'both'), []);
    assert.deepEqual(forgedHeaderDeletions([], 'both'), []);
  });
});
