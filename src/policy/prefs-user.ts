/**
 * Whose per-user preferences the scanner applies (spamd `User:`, rspamd `Deliver-To`), as
 * spamass-milter's -u / spamassassin-milter's user options chose them.
 */
import type { Config } from '../config/schema.ts';
import type { Message } from '../message/message.ts';
import { bareAddress } from './envelope.ts';

/**
 * The preferences user for a message, or undefined to fall back to the scanner's fixed user.
 * Recipient-based choices need exactly one recipient: one scan cannot honour two users' settings.
 */
export function prefsUserOf(
  message: Pick<Message, 'recipients' | 'macros'>,
  choice: Config['scan']['prefsUser'],
): string | undefined {
  switch (choice) {
    case 'fixed':
      return undefined;
    case 'auth': {
      const user = message.macros['auth_authen'];
      return user === undefined || user === '' ? undefined : user;
    }
    case 'recipient':
    case 'recipient-local-part': {
      const [only, ...others] = message.recipients;
      if (only === undefined || others.length > 0) return undefined;
      const address = bareAddress(only.address);
      if (choice === 'recipient') return address === '' ? undefined : address;
      const at = address.lastIndexOf('@');
      const local = at === -1 ? address : address.slice(0, at);
      return local === '' ? undefined : local;
    }
  }
}
