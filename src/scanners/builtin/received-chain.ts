/**
 * Signs that a Received chain was forged: spamware writes fake "earlier" hops to hide the real
 * origin, and tends to get them wrong in ways real MTAs do not.
 */
import type { ParsedMail } from './parse-mail.ts';

/** Hop dates may disagree by clock skew and time zone mistakes; beyond this they are suspect. */
const MAX_DISORDER_MS = 12 * 3600_000;

/** The reason a chain looks forged, or undefined when it does not. */
export function forgedReceived(mail: ParsedMail): string | undefined {
  const hops = mail.headers.filter((h) => h.name === 'received').map((h) => h.value);
  for (const hop of hops) {
    const from = /^\s*from\s+([^;]*?)\s+by\s/i.exec(hop)?.[1];
    if (from !== undefined && invalidAddress(from)) return 'a hop names an impossible IP address';
  }
  // Headers are newest first: each hop should be no earlier than the one below it.
  const dates = hops.map(hopDate);
  for (let upper = 0; upper < dates.length; upper++) {
    for (let lower = upper + 1; lower < dates.length; lower++) {
      const [a, b] = [dates[upper], dates[lower]];
      if (a !== undefined && b !== undefined && b - a > MAX_DISORDER_MS) {
        return 'an earlier hop is dated long after a later one';
      }
    }
  }
  return undefined;
}

/** Any dotted quad in `text` with an octet above 255 (never written by a real MTA). */
function invalidAddress(text: string): boolean {
  for (const match of text.matchAll(
    /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g,
  )) {
    if (match.slice(1).some((octet) => Number(octet) > 255)) return true;
  }
  return false;
}

/** The timestamp after the last `;` of a Received value, if it parses. */
export function hopDate(value: string): number | undefined {
  const semi = value.lastIndexOf(';');
  if (semi === -1) return undefined;
  const text = value
    .slice(semi + 1)
    .replace(/\([^)]*\)/g, ' ')
    .trim();
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
