/**
 * The bypass phrase (the Courier recipe's "mapsetahi"): a sender who was refused can resend with
 * a phrase the postmaster published, and the message is then tagged instead of refused.
 */
import type { Message } from '../message/message.ts';

/**
 * True when the Subject or the body contains `phrase`, ASCII case-insensitive. The body is
 * searched as sent (not MIME-decoded), which is what a sender who pastes the phrase produces.
 */
export function containsBypassPhrase(
  message: Pick<Message, 'headers' | 'body'>,
  phrase: string,
): boolean {
  const needle = lowerAscii(Buffer.from(phrase, 'utf8'));
  for (const field of message.headers) {
    if (field.name.toLowerCase() === 'subject' && lowerAscii(field.value).includes(needle))
      return true;
  }
  return lowerAscii(message.body).includes(needle);
}

/** A copy with A–Z lowered and every other byte (8-bit included) unchanged. */
function lowerAscii(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const b = out[i] as number;
    if (b >= 0x41 && b <= 0x5a) out[i] = b + 0x20;
  }
  return out;
}
