/** What the scanners see of the SMTP envelope, taken from the milter's Message. */
import type { Message } from '../message/message.ts';
import type { Envelope } from '../scanners/scanner.ts';

/** `<a@b>` → `a@b`; `<>` → empty (the null sender). */
export function bareAddress(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}

/** The scanner envelope for a message: client, HELO, sender, recipients, auth user, queue id, MTA name. */
export function envelopeOf(message: Message): Envelope {
  const { client, macros } = message;
  const ip = client.family === '4' || client.family === '6' ? client.address : undefined;
  // Postfix writes `[ip]` when the client has no verified name.
  const name =
    client.hostname !== '' && !client.hostname.startsWith('[') && client.hostname !== 'unknown'
      ? client.hostname
      : undefined;
  const auth = macros['auth_authen'];
  return {
    recipients: message.recipients.map((r) => bareAddress(r.address)),
    ...(ip === undefined || ip === '' ? {} : { clientAddress: ip }),
    ...(name === undefined ? {} : { clientName: name }),
    ...(client.helo === undefined ? {} : { helo: client.helo }),
    ...(message.sender === undefined ? {} : { sender: bareAddress(message.sender.address) }),
    ...(auth === undefined || auth === '' ? {} : { authUser: auth }),
    queueId: message.id,
    ...(macros['j'] === undefined ? {} : { mtaName: macros['j'] }),
  };
}
