/**
 * The `Received:` header our MTA would write for the last hop, synthesised from the envelope and
 * prepended to the message for spamd, as spamass-milter does: milters do not see the MTA's own
 * Received line (Sendmail), and without it SpamAssassin has no relay to check (NO_RELAYS, no
 * HELO/rDNS rules, no DNSBL lookup of the client IP).
 */
import { isIP } from 'node:net';
import type { Envelope } from '../scanner.ts';

/** A prepared message: the bytes to send and the header that was put in front (if any). */
export interface WithReceived {
  readonly message: Buffer;
  /** The exact header bytes prepended (with line end), or null when none could be built. */
  readonly received: Buffer | null;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Characters never written into the header: whitespace, controls and the header's own syntax. */
const UNSAFE = /[\s\p{Cc}\p{Cf}()<>;"\\]/gu;
const UNSAFE_OR_BRACKET = /[\s\p{Cc}\p{Cf}()<>;"\\[\]]/gu;
const ADDRESS_LITERAL = /^\[(?:IPv6:)?[0-9A-Fa-f:.]+\]$/i;

/**
 * Builds the header, in the generic form SpamAssassin's Received parser understands:
 * ```
 * Received: from HELO (RDNS [IP])
 * 	by MTA with ESMTP id QUEUEID
 * 	(envelope-from <SENDER>)
 * 	for <RCPT>; Mon, 23 Nov 2026 08:51:40 +0000
 * ```
 * `ESMTPA` when the client authenticated (SpamAssassin then treats the hop as authenticated),
 * `unknown` for a missing rDNS name, `for` only with exactly one recipient. Returns null when the
 * envelope has no valid client IP address (a Received line without one only adds noise).
 */
export function buildReceived(envelope: Envelope, now = new Date(), eol = '\r\n'): string | null {
  const address = envelope.clientAddress ?? '';
  const family = isIP(address);
  if (family === 0) return null;
  const literal = family === 6 ? `IPv6:${address}` : address;
  const rdns = clean(envelope.clientName, UNSAFE_OR_BRACKET) ?? 'unknown';
  // Brackets only in an address-literal HELO ("[192.0.2.1]"): elsewhere they could plant a second IP.
  const heloUnsafe = ADDRESS_LITERAL.test(envelope.helo ?? '') ? UNSAFE : UNSAFE_OR_BRACKET;
  const helo =
    clean(envelope.helo, heloUnsafe) ?? clean(envelope.clientName, UNSAFE_OR_BRACKET) ?? rdns;
  const mta = clean(envelope.mtaName, UNSAFE_OR_BRACKET) ?? 'localhost';
  const protocol = envelope.authUser === undefined || envelope.authUser === '' ? 'ESMTP' : 'ESMTPA';
  const queueId = clean(envelope.queueId, UNSAFE_OR_BRACKET);
  let by = `by ${mta} with ${protocol}`;
  if (queueId !== undefined) by += ` id ${queueId}`;
  const lines = [`Received: from ${helo} (${rdns} [${literal}])`, by];
  if (envelope.sender !== undefined) {
    lines.push(`(envelope-from <${clean(envelope.sender, UNSAFE_OR_BRACKET) ?? ''}>)`);
  }
  const [only, ...more] = envelope.recipients;
  const recipient = more.length === 0 ? clean(only, UNSAFE_OR_BRACKET) : undefined;
  const date = formatDate(now);
  if (recipient === undefined) lines.push(`${lines.pop()}; ${date}`);
  else lines.push(`for <${recipient}>; ${date}`);
  return `${lines.join(`${eol}\t`)}${eol}`;
}

/** Puts the synthesised Received header in front of the message, with the message's line ending. */
export function withReceived(message: Buffer, envelope: Envelope, now = new Date()): WithReceived {
  const header = buildReceived(envelope, now, lineEnding(message));
  if (header === null) return { message, received: null };
  const received = Buffer.from(header, 'utf8');
  return { message: Buffer.concat([received, message]), received };
}

/**
 * Removes the synthesised header from spamd's PROCESS/HEADERS output (its header block only), so
 * the rewritten message does not carry a Received line the MTA did not write.
 */
export function stripReceived(rewritten: Buffer, received: Buffer): Buffer {
  const end = headerBlockEnd(rewritten);
  const at = rewritten.indexOf(received);
  if (at < 0 || at + received.length > end) return rewritten;
  if (at > 0 && rewritten[at - 1] !== 0x0a) return rewritten;
  return Buffer.concat([rewritten.subarray(0, at), rewritten.subarray(at + received.length)]);
}

/** `\r\n` when the message's first line ends so (or the message is empty), else `\n`. */
export function lineEnding(message: Buffer): '\r\n' | '\n' {
  const lf = message.indexOf(0x0a);
  return lf > 0 && message[lf - 1] !== 0x0d ? '\n' : '\r\n';
}

/** RFC 5322 date in UTC, e.g. `Mon, 23 Nov 2026 08:51:40 +0000`. */
export function formatDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = DAYS[date.getUTCDay()] ?? 'Sun';
  const month = MONTHS[date.getUTCMonth()] ?? 'Jan';
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day}, ${pad(date.getUTCDate())} ${month} ${date.getUTCFullYear()} ${time} +0000`;
}

/** The value with unsafe characters replaced by `_`, or undefined when absent or empty. */
function clean(value: string | undefined, unsafe: RegExp): string | undefined {
  if (value === undefined || value === '') return undefined;
  return value.replace(unsafe, '_');
}

/** Offset just past the blank line that ends the header block (or the end of the buffer). */
function headerBlockEnd(message: Buffer): number {
  let end = message.length;
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const at = message.indexOf(separator);
    if (at >= 0) end = Math.min(end, at + separator.length);
  }
  return end;
}
