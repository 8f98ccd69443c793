/**
 * The envelope as rspamd request headers (`POST /checkv2`, and the controller's learn calls),
 * following what rspamd's own milter proxy sends (`rspamd_milter_to_http`). Pure: no I/O.
 */
import { domainToASCII } from 'node:url';
import type { Envelope } from '../scanner.ts';

/** Request headers for node:http; a repeated header (`Rcpt`) is an array. */
export type RspamdHeaders = Record<string, string | string[]>;

/** Per-scanner settings that go into every scan request. */
export interface CheckHeaderOptions {
  /** A configured rspamd settings id (`Settings-ID`); an unknown id is ignored by rspamd. */
  readonly settingsId?: string;
  /** Free tag for rspamd settings rules (`MTA-Tag`), e.g. `inbound`. */
  readonly mtaTag?: string;
  /** Run every rule even after a pre-result decided the action (`Pass: all`). */
  readonly passAll?: boolean;
}

/**
 * Makes a value safe for an HTTP header line. Node's http module throws `ERR_INVALID_CHAR`
 * synchronously for CR, LF, NUL and the other control characters, and a CR/LF that got through
 * would let a hostile HELO or address inject headers. Controls (TAB included) become spaces and
 * runs of spaces collapse, as header unfolding would. Node sends each UTF-16 unit of a header
 * value as one Latin-1 byte and rejects anything above U+00FF, so non-ASCII text (SMTPUTF8
 * addresses, IDN HELO names) is re-encoded as its UTF-8 bytes, one Latin-1 char each: rspamd then
 * receives the exact UTF-8 octets. Lone surrogates become U+FFFD on the way.
 */
export function sanitizeHeaderValue(value: string): string {
  let flat = '';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    flat += code < 0x20 || code === 0x7f ? ' ' : ch;
  }
  flat = flat.replace(/ {2,}/g, ' ').trim();
  return /^[\u0020-\u007e]*$/.test(flat) ? flat : Buffer.from(flat, 'utf8').toString('latin1');
}

/**
 * An internationalised domain name in its A-label (punycode) form. rspamd 3.4 does not take UTF-8
 * in these headers: a UTF-8 HELO scores HFILTER_HELO_NOT_FQDN and a UTF-8 domain in `From` makes
 * it flag the sender as broken (BROKEN_HEADERS) and fall back to Return-Path (both verified),
 * while the A-label is what DNS, SPF and DMARC use anyway. Names that are not valid IDNs stay as
 * they are (and then go as UTF-8 bytes, see sanitizeHeaderValue).
 */
export function asciiDomain(name: string): string {
  if (!/[\u0080-\uffff]/.test(name)) return name;
  const ascii = domainToASCII(name);
  return ascii === '' ? name : ascii;
}

/** An address with its domain in A-label form; a UTF-8 local part cannot be helped. */
function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : `${address.slice(0, at + 1)}${asciiDomain(address.slice(at + 1))}`;
}

/** Drops brackets and the `IPv6:` tag some MTAs put around the client address. */
function bareAddress(address: string): string {
  const inner = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return inner.toLowerCase().startsWith('ipv6:') ? inner.slice(5) : inner;
}

/** A client name rspamd can use: not `unknown`, not a bracketed address (no verified rDNS). */
function verifiedName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'unknown' || trimmed.startsWith('[')) {
    return undefined;
  }
  return trimmed;
}

/** The address without the angle brackets it may still carry, domain in A-label form. */
function bare(address: string): string {
  return asciiAddress(address.trim().replace(/^<(.*)>$/s, '$1'));
}

/** The address in exactly one pair of angle brackets, as in the SMTP command. */
function angle(address: string): string {
  return `<${bare(address)}>`;
}

/**
 * The envelope headers rspamd understands: IP, Hostname, Helo, From, Rcpt (one per recipient),
 * User, Queue-Id, Deliver-To (the preferences user, else the only recipient) and MTA-Name.
 * Absent or empty fields are left out (rspamd treats a missing IP as "no IP", which is right).
 */
export function buildEnvelopeHeaders(envelope: Envelope): RspamdHeaders {
  const headers: RspamdHeaders = {};
  const put = (name: string, value: string | undefined): void => {
    if (value === undefined) return;
    const safe = sanitizeHeaderValue(value);
    if (safe !== '') headers[name] = safe;
  };
  put('IP', envelope.clientAddress === undefined ? undefined : bareAddress(envelope.clientAddress));
  const hostname = verifiedName(envelope.clientName);
  put('Hostname', hostname === undefined ? undefined : asciiDomain(hostname));
  put('Helo', envelope.helo === undefined ? undefined : asciiDomain(envelope.helo.trim()));
  // The null sender goes as `<>`: rspamd reads it as a bounce.
  put('From', envelope.sender === undefined ? undefined : angle(envelope.sender));
  const rcpts = envelope.recipients
    .map((r) => sanitizeHeaderValue(angle(r)))
    .filter((r) => r !== '<>');
  if (rcpts.length > 0) headers['Rcpt'] = rcpts;
  put('User', envelope.authUser);
  put('Queue-Id', envelope.queueId);
  const only = envelope.recipients.length === 1 ? envelope.recipients[0] : undefined;
  put('Deliver-To', envelope.prefsUser ?? (only === undefined ? undefined : bare(only)));
  put('MTA-Name', envelope.mtaName);
  return headers;
}

/**
 * Headers for `POST /checkv2`: the envelope, the scanner's settings, and `Flags: milter` so that
 * header values in the reply's `milter` block come folded with `\n\t`, as libmilter expects.
 * `body_block` is deliberately not requested: the reply is then always pure JSON.
 */
export function buildCheckHeaders(
  envelope: Envelope,
  options: CheckHeaderOptions = {},
): RspamdHeaders {
  const headers = buildEnvelopeHeaders(envelope);
  if (options.settingsId !== undefined) {
    const id = sanitizeHeaderValue(options.settingsId);
    if (id !== '') headers['Settings-ID'] = id;
  }
  if (options.mtaTag !== undefined) {
    const tag = sanitizeHeaderValue(options.mtaTag);
    if (tag !== '') headers['MTA-Tag'] = tag;
  }
  if (options.passAll === true) headers['Pass'] = 'all';
  headers['Flags'] = 'milter';
  return headers;
}
