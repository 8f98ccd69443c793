/**
 * Header tokens: every kept header field yields tokens prefixed with its name. Some fields get a
 * dedicated treatment (addresses, Received hops, Message-ID shape, mailer); the rest are split
 * into words. Fields that say more about the mailbox that collected a message than about the
 * message itself (Delivered-To, earlier filters' verdicts, mail-client state) are ignored, so
 * neither a corpus nor a mailbox setup can teach the classifier the wrong lesson.
 */
import type { ParsedMail } from './parse-mail.ts';
import { wordTokens } from './tokenize-words.ts';

/** Header fields never tokenized (exact names, then prefixes). */
const IGNORED = new Set([
  'delivered-to',
  'x-original-to',
  'status',
  'x-status',
  'x-uid',
  'x-uidl',
  'x-keywords',
  'x-flags',
  'lines',
  'content-length',
  'x-imap',
  'x-imapbase',
  'date',
  'x-spamward',
]);
const IGNORED_PREFIXES = [
  'x-spam',
  'x-mozilla-status',
  'x-virus',
  'x-bogosity',
  'x-dspam',
  'x-crm114',
  'x-spambayes',
  'x-evolution',
  'x-razor',
  // Mailing-list management headers: a list relays its spam too, and a dozen of these, all
  // saying "came through list X", would outvote the content (as learned from the corpus).
  'list-',
  'x-list',
  'x-beenthere',
  'x-mailman',
  'mailing-list',
  'x-loop',
  'errors-to',
  'precedence',
  'sender',
  'x-sender',
];

/** How many of the earliest Received hops are tokenized. */
const ORIGIN_HOPS = 2;

/** Only this much of one header value is tokenized. */
const MAX_VALUE = 1_000;

/** Whether a header field (lower-case name) is left out of the tokens. */
export function ignoredHeader(name: string): boolean {
  return IGNORED.has(name) || IGNORED_PREFIXES.some((p) => name.startsWith(p));
}

/** Adds the header tokens of `mail` to `out`. */
export function headerTokens(mail: ParsedMail, out: Set<string>): void {
  const hops = mail.headers.filter((h) => h.name === 'received');
  // Only the first hops of the path (the bottom headers) say where a message came from; the
  // later ones are the recipient's own relays and mailing lists, the same for spam and ham.
  for (const hop of hops.slice(-ORIGIN_HOPS)) receivedTokens(hop.value, out);
  out.add(`rcvd:count:${Math.min(hops.length, 10)}`);
  for (const { name, value: full } of mail.headers) {
    if (ignoredHeader(name)) continue;
    const value = full.slice(0, MAX_VALUE);
    out.add(`hdr:${name}`);
    switch (name) {
      case 'from':
      case 'reply-to':
      case 'sender':
      case 'return-path':
      case 'to':
      case 'cc':
        addressTokens(name, value, out);
        break;
      case 'received':
        break;
      case 'message-id':
        messageIdTokens(value, out);
        break;
      case 'subject':
        wordTokens(value, 'subject:', out);
        break;
      case 'x-mailer':
      case 'user-agent':
        out.add(`mailer:${value.toLowerCase().replace(/\d+/g, '9').slice(0, 60)}`);
        wordTokens(value, 'mailer:', out);
        break;
      case 'content-type':
        contentTypeTokens(value, out);
        break;
      case 'list-id':
      case 'organization':
      case 'x-mailing-list':
        wordTokens(value, `${name}:`, out);
        break;
      default:
        // Other fields count once, as a whole short value: list headers and the like repeat one
        // fact in many words, and chi-square combining must not hear it a dozen times.
        if (value.length <= 40) out.add(`${name}:=${value.toLowerCase().replace(/\d+/g, '9')}`);
    }
  }
}

/** Addresses: each full address, its domain, display-name words; the count in To/Cc. */
function addressTokens(name: string, value: string, out: Set<string>): void {
  const addresses = [...value.matchAll(/[\w.+=&'-]+@([\w-]+(?:\.[\w-]+)+)/g)];
  for (const match of addresses) {
    out.add(`${name}:addr:${match[0].toLowerCase()}`);
    const labels = (match[1] ?? '').toLowerCase().split('.');
    out.add(`${name}:dom:${labels.slice(-2).join('.')}`);
  }
  if (addresses.length === 0) out.add(`${name}:noaddr`);
  if (name === 'to' || name === 'cc') {
    out.add(`${name}:count:${Math.min(addresses.length, 10)}`);
    return;
  }
  const display = value.replace(/<[^>]*>|[\w.+=&'-]+@[\w.-]+/g, ' ');
  wordTokens(display, `${name}:name:`, out);
}

/** Received hops: host names, IPv4 /24 networks, the software words. */
function receivedTokens(value: string, out: Set<string>): void {
  const lower = value.toLowerCase();
  for (const match of lower.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}\b/g)) {
    out.add(`rcvd:ip:${match[1]}.${match[2]}.${match[3]}`);
  }
  for (const match of lower.matchAll(/\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b/g)) {
    if (/^[\d.]+$/.test(match[0])) continue;
    out.add(`rcvd:host:${match[0]}`);
  }
  for (const word of lower.matchAll(/\b(?:with|via) ([a-z][\w/.-]*)/g))
    out.add(`rcvd:with:${word[1]}`);
}

/** Message-ID: its domain, and its shape (digits → 9, letters → a, runs collapsed). */
function messageIdTokens(value: string, out: Set<string>): void {
  const id = value.trim().replace(/^<|>$/g, '');
  const at = id.lastIndexOf('@');
  if (at === -1) out.add('mid:noat');
  else out.add(`mid:dom:${id.slice(at + 1).toLowerCase()}`);
  const local = at === -1 ? id : id.slice(0, at);
  out.add(
    `mid:shape:${local
      .replace(/\d+/g, '9')
      .replace(/[a-z]+/gi, 'a')
      .slice(0, 30)}`,
  );
}

/** Content-Type: the type and the charset. */
function contentTypeTokens(value: string, out: Set<string>): void {
  const lower = value.toLowerCase();
  out.add(`ct:${lower.split(';')[0]?.trim() ?? ''}`);
  const charset = /charset\s*=\s*"?([\w.:-]+)/.exec(lower)?.[1];
  if (charset !== undefined) out.add(`ct:charset:${charset}`);
}
