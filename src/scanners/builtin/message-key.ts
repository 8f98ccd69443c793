/**
 * A learned message's identity, so that learning is idempotent: a hash of its Message-ID and its
 * normalised body. The header block is left out on purpose: the same message learned from the
 * MTA and later from a mailbox carries different Received and X- headers, and must count once.
 */
import { createHash } from 'node:crypto';

/** The identity of a message: 32 hex digits (the first 128 bits of a SHA-256). */
export function messageKey(message: Buffer): string {
  const text = message.toString('latin1');
  const split = /\r?\n\r?\n/.exec(text);
  const head = split === null ? text : text.slice(0, split.index);
  const body = split === null ? '' : text.slice(split.index + split[0].length);
  const id = /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\s+/g, '') ?? '';
  // Line ends and trailing white space change in transit (CRLF vs LF, MTAs trimming lines).
  const normalised = body.replace(/[ \t]*\r?\n/g, '\n').replace(/\s+$/, '');
  return createHash('sha256')
    .update(id, 'latin1')
    .update('\0')
    .update(normalised, 'latin1')
    .digest('hex')
    .slice(0, 32);
}
