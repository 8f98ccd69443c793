/**
 * Removing verdict headers that arrive with a message (forged or left by another filter) before
 * ours are added, so a reader or Sieve rule only ever sees our verdict.
 */
import type { Modification } from '../filter/decision.ts';
import type { HeaderField } from '../message/message.ts';
import { assertNever } from '../shared/assert-never.ts';
import { HeaderProfile } from './spam-headers.ts';

const SPAMASSASSIN = [/^X-Spam-/i];
const RSPAMD = [/^X-Spamd-/i, /^X-Rspamd-/i, /^X-Spam$/i];

/**
 * Is `name` in the header family of `profile`? spamassassin: `X-Spam-*`; rspamd: `X-Spamd-*`,
 * `X-Rspamd-*` and `X-Spam` (rspamd's spam flag); both: all of them. Case-insensitive.
 */
export function inHeaderFamily(name: string, profile: HeaderProfile): boolean {
  const matches = (patterns: readonly RegExp[]) => patterns.some((p) => p.test(name));
  switch (profile) {
    case HeaderProfile.SpamAssassin:
      return matches(SPAMASSASSIN);
    case HeaderProfile.Rspamd:
      return matches(RSPAMD);
    case HeaderProfile.Both:
      return matches(SPAMASSASSIN) || matches(RSPAMD);
    default:
      return assertNever(profile);
  }
}

/**
 * `delete-header` modifications for every header of the profile's family in `headers`. The MTA
 * counts occurrences per name (1-based, case-insensitive) and renumbers after each deletion, so
 * each name's occurrences are deleted from the highest index down; names come in the order of
 * their first appearance, spelled as there.
 */
export function forgedHeaderDeletions(
  headers: readonly Pick<HeaderField, 'name'>[],
  profile: HeaderProfile,
): Modification[] {
  const counts = new Map<string, { name: string; count: number }>();
  for (const { name } of headers) {
    if (!inHeaderFamily(name, profile)) continue;
    const key = name.toLowerCase();
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { name, count: 1 });
    else entry.count += 1;
  }
  const deletions: Modification[] = [];
  for (const { name, count } of counts.values()) {
    for (let occurrence = count; occurrence >= 1; occurrence--) {
      deletions.push({ kind: 'delete-header', name, occurrence });
    }
  }
  return deletions;
}
