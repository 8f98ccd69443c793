/**
 * Routing by verdict (milter-spamc's mail-spam / mail-ham / mail-archive, spamass-milter's -b/-B):
 * extra recipients for spam, ham or everything, and spam redirected away from its recipients.
 * Expressed as ADDRCPT / DELRCPT modifications, so the MTA does the delivering.
 */
import { foldHeader } from '../actions/fold.ts';
import type { Config } from '../config/schema.ts';
import type { Modification } from '../filter/decision.ts';
import type { Message } from '../message/message.ts';
import { bareAddress } from './envelope.ts';

/** What the message turned out to be, for routing. */
export type RoutingClass = 'spam' | 'ham' | 'unscanned';

/**
 * The recipient changes for one delivered message. Redirecting needs `redirect` (refused for mail
 * that may only be tagged); the originals are then deleted one by one and recorded in a header.
 */
export function routingFor(
  message: Pick<Message, 'recipients'>,
  kind: RoutingClass,
  routing: Config['routing'],
  redirect: boolean,
): Modification[] {
  const out: Modification[] = [];
  const present = new Set(message.recipients.map((r) => bareAddress(r.address).toLowerCase()));
  const add = (address: string): void => {
    // Adding a recipient the message already has would deliver it twice.
    if (present.has(address.toLowerCase())) return;
    present.add(address.toLowerCase());
    out.push({ kind: 'add-recipient', address: `<${address}>` });
  };
  if (kind === 'spam' && redirect && routing.spamRedirectTo !== null) {
    const target = routing.spamRedirectTo;
    const originals = message.recipients.map((r) => bareAddress(r.address));
    for (const recipient of message.recipients) {
      if (bareAddress(recipient.address).toLowerCase() === target.toLowerCase()) continue;
      out.push({ kind: 'delete-recipient', address: recipient.raw });
      present.delete(bareAddress(recipient.address).toLowerCase());
    }
    const value = foldHeader(routing.origToHeader, originals.join(', '), { breakAfterComma: true });
    out.push({ kind: 'add-header', name: routing.origToHeader, value });
    add(target);
  }
  if (kind === 'spam') for (const address of routing.spamCopyTo) add(address);
  if (kind === 'ham') for (const address of routing.hamCopyTo) add(address);
  for (const address of routing.archiveTo) add(address);
  return out;
}
