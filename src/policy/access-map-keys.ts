/**
 * Access map keys: the canonical form of IP addresses, host names and mail addresses, the
 * normalisation of keys written in the file, and the list of keys a lookup tries, from the
 * most to the least specific. Everything is lowercase; IPv6 is written as eight words in
 * lowercase hex without leading zeros and without `::` (`2001:db8:0:0:0:0:0:1`); an IPv6
 * prefix of one word keeps a trailing colon (`2001:`) so it cannot collide with an IPv4 octet.
 */
import { isIP } from 'node:net';
import { bareAddress } from './envelope.ts';

/** A normalised key, or why the text cannot be one. */
export type KeyResult =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly reason: string };

/** A client IP in canonical form with its family; IPv4-mapped IPv6 counts as IPv4. */
export interface CanonicalIp {
  readonly family: 'ipv4' | 'ipv6';
  /** Dotted quad, or eight colon-separated words. */
  readonly text: string;
  /** The parts a prefix is made of: four octets or eight words. */
  readonly parts: readonly string[];
}

const IPV4_PREFIX = /^\d{1,3}(\.\d{1,3}){0,3}$/;
const IPV6_WORD = /^[0-9a-f]{1,4}$/;
const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const NUMERIC = /^[\d.]+$/;

/** Expands a valid IPv6 address into eight canonical words; undefined when it is not one. */
function ipv6Words(text: string): string[] | undefined {
  if (isIP(text) !== 6) return undefined;
  const zone = text.indexOf('%');
  const address = (zone === -1 ? text : text.slice(0, zone)).toLowerCase();
  const [headText = '', tailText] = address.split('::');
  const words = (part: string): string[] =>
    part === ''
      ? []
      : part.split(':').flatMap((word) => {
          if (!word.includes('.')) return [word];
          const [a = 0, b = 0, c = 0, d = 0] = word.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const head = words(headText);
  const tail = tailText === undefined ? [] : words(tailText);
  const fill = tailText === undefined ? 0 : 8 - head.length - tail.length;
  return [...head, ...Array<string>(fill).fill('0'), ...tail].map((w) =>
    Number.parseInt(w, 16).toString(16),
  );
}

/** Drops the words of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) down to the IPv4 address. */
function unmap(words: readonly string[]): string | undefined {
  if (words.length !== 8 || words.slice(0, 5).some((w) => w !== '0') || words[5] !== 'ffff')
    return undefined;
  const high = Number.parseInt(words[6] ?? '0', 16);
  const low = Number.parseInt(words[7] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** The canonical form of a client address (`[...]` and Sendmail's `IPv6:` tag allowed); undefined if not an IP. */
export function canonicalIp(address: string): CanonicalIp | undefined {
  let text = address.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (/^ipv6:/i.test(text)) text = text.slice(5);
  const version = isIP(text);
  if (version === 4) {
    const parts = text.split('.').map((o) => String(Number(o)));
    return { family: 'ipv4', text: parts.join('.'), parts };
  }
  const words = ipv6Words(text);
  if (words === undefined) return undefined;
  const mapped = unmap(words);
  if (mapped !== undefined) return canonicalIp(mapped);
  return { family: 'ipv6', text: words.join(':'), parts: words };
}

/** A host name in lookup form (lowercase, no trailing dot); undefined for none, `[ip]`, `unknown` or a bare number. */
export function canonicalHostName(name: string): string | undefined {
  const text = name.trim().toLowerCase().replace(/\.$/, '');
  if (text === '' || text === 'unknown' || text.startsWith('[') || NUMERIC.test(text))
    return undefined;
  return text;
}

/** A mail address in lookup form: angle brackets, a trailing dot and case removed; `<>` → ''. */
export function canonicalAddress(address: string): string {
  return bareAddress(address).toLowerCase().replace(/\.$/, '');
}

/** Normalises the text after `connect:`: an IPv4 or IPv6 address or prefix, or a host name. */
export function connectKey(raw: string): KeyResult {
  const text = raw.toLowerCase().replace(/\.$/, '');
  if (text === '') return { ok: true, key: '' };
  if (IPV4_PREFIX.test(text)) {
    const octets = text.split('.').map(Number);
    if (octets.some((o) => o > 255)) return { ok: false, reason: `"${raw}": octet above 255` };
    return { ok: true, key: octets.join('.') };
  }
  if (NUMERIC.test(text))
    return { ok: false, reason: `"${raw}" is not an IPv4 address or prefix of whole octets` };
  if (text.includes(':')) {
    const full = canonicalIp(text);
    if (full !== undefined) return { ok: true, key: full.text };
    const words = (text.endsWith(':') && !text.endsWith('::') ? text.slice(0, -1) : text).split(
      ':',
    );
    if (words.length > 7 || !words.every((w) => IPV6_WORD.test(w)))
      return { ok: false, reason: `"${raw}" is not an IPv6 address or prefix of whole words` };
    return { ok: true, key: ipv6Prefix(words.map((w) => Number.parseInt(w, 16).toString(16))) };
  }
  if (!HOST_NAME.test(text))
    return { ok: false, reason: `"${raw}" is not an IP address, IP prefix or host name` };
  return { ok: true, key: text };
}

/** Normalises the text after `from:` or `to:`: `user@domain`, `domain` or `user@`. */
export function addressKey(raw: string): KeyResult {
  const text = canonicalAddress(raw);
  if (text === '') return { ok: true, key: '' };
  const at = text.lastIndexOf('@');
  if (at === 0)
    return { ok: false, reason: `"${raw}": write a domain without "@" (e.g. example.org)` };
  if (at === -1 && !HOST_NAME.test(text))
    return { ok: false, reason: `"${raw}" is not a domain, user@domain or user@` };
  return { ok: true, key: text };
}

/** Normalises the text after `auth:`: the user name, compared case-insensitively. */
export function authKey(raw: string): KeyResult {
  return { ok: true, key: raw.toLowerCase() };
}

/** The host name and its parent domains: `a.b.c` → `a.b.c`, `b.c`, `c`. */
export function domainKeys(domain: string): string[] {
  const labels = domain.split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((k) => k !== '');
}

/** An IPv6 prefix key; one word keeps a colon (`2001:`) so it never reads as an IPv4 octet. */
function ipv6Prefix(words: readonly string[]): string {
  return words.length === 1 ? `${words[0]}:` : words.join(':');
}

/** Keys for an IP, longest prefix first: four octets down to one, or eight words down to one (`2001:`). */
export function ipKeys(ip: CanonicalIp): string[] {
  return ip.parts.map((_, i) => {
    const prefix = ip.parts.slice(0, ip.parts.length - i);
    return ip.family === 'ipv4' ? prefix.join('.') : ipv6Prefix(prefix);
  });
}

/** Keys for a mail address: `user@sub.example.org`, `sub.example.org`, `example.org`, `org`, `user@`. */
export function addressKeys(address: string): string[] {
  if (address === '') return [];
  const at = address.lastIndexOf('@');
  if (at === -1) return [`${address}@`];
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (domain === '') return [address];
  return [address, ...domainKeys(domain), ...(local === '' ? [] : [`${local}@`])];
}
