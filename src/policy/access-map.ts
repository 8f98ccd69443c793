/**
 * The access map: a text file of `KEY VALUE` lines that decides, before scanning, whether a
 * message is skipped, rejected, discarded or scanned, by client, sender, recipient or SMTP
 * AUTH user (in the spirit of milter-spamc's access database). Pure: parsing and lookups
 * only; the policy applies the result.
 *
 * Lines. One entry per line; blank lines are ignored; `#` starts a comment at the start of a
 * line or after whitespace (so a REJECT text cannot contain ` #`). The key is the first word,
 * the value the rest of the line. A key may appear once (after normalisation).
 *
 * Keys. `TAG:TEXT`, the tag case-insensitive; TEXT empty is the tag's last-resort default.
 *   connect:192.0.2.7        client IPv4 address; `192.0.2`, `192.0.2.`, `192` are prefixes by octets
 *   connect:2001:db8::1      client IPv6 address (any notation; stored as eight words)
 *   connect:2001:db8:1       IPv6 prefix by whole 16-bit words; one word keeps a colon: `2001:`
 *   connect:mx.example.com   client host name; also matches its subdomains (`a.mx.example.com`)
 *   from:user@example.org    envelope sender (angle brackets and a trailing dot ignored)
 *   from:example.org         sender domain and its subdomains
 *   from:user@               local part at any domain
 *   to:abuse@example.net     recipient (same forms as from:)
 *   auth:alice               SMTP AUTH user (exact, case-insensitive)
 *
 * Values. Either one action or a pattern list.
 *   OK | SKIP     do not scan               DISCARD   accept and drop
 *   REJECT [text] refuse, optional reply text   SCAN   scan normally, even if trusted
 *   NEXT          undecided here: go on with the next less specific key
 * A pattern list is one or more patterns separated by whitespace, each optionally followed
 * by `=ACTION` (no spaces, no text), and optionally ending with an action (with text for
 * REJECT) that applies to every pattern without its own. A pattern without an action when the
 * list has no closing action is an error. Patterns (no whitespace inside; use `\s` in regexes):
 *   [192.0.2.0/24]      CIDR block or single address, tested against the client IP (connect: only)
 *   !*.example.com!     glob over the whole value: `*` any run, `?` one character
 *   /^mail[0-9]+\./     JavaScript regular expression, case-insensitive, unanchored
 * Globs and regexes see the lowercase value looked up: the client host name and the canonical
 * IP for connect: (either may match), the bare address for from:/to: (`''` for the null
 * sender), the user for auth:. The first matching pattern gives the action; a NEXT action or
 * no match at all continues with the next less specific key. Examples:
 *   connect:  [192.0.2.0/24]=OK [2001:db8::/32]=OK !*.dynamic.example! /^mail[0-9]+\./ REJECT No dynamic hosts
 *   from:     !*@*.invalid!=DISCARD /^bounce-/=SCAN
 *   connect:10 [10.1.0.0/16]=NEXT [10.0.0.0/8]=OK
 *
 * Lookup order for a message: auth → connect (IP keys, then host name keys, then `connect:`)
 * → from; the first decided action is the message's. Each recipient is looked up on its own
 * under to: (an OK recipient opted out of filtering); the message-level action, when decided,
 * takes precedence over the recipients' (the caller applies that).
 */
import { readFile } from 'node:fs/promises';
import { addressKey, authKey, connectKey, type KeyResult } from './access-map-keys.ts';
import {
  type AccessDecision,
  type AccessFacts,
  type AccessTables,
  decideAccess,
} from './access-map-lookup.ts';
import { type MapValue, parseValue } from './access-map-pattern.ts';

/** What a key matches: the client, the envelope sender, a recipient or the AUTH user. */
export const AccessTag = {
  connect: 'connect',
  from: 'from',
  to: 'to',
  auth: 'auth',
} as const;

/** One of the access map tags. */
export type AccessTag = (typeof AccessTag)[keyof typeof AccessTag];

/** One entry of the map: its tag, normalised key, line number and parsed value. */
export interface AccessEntry {
  readonly tag: AccessTag;
  readonly key: string;
  readonly line: number;
  readonly value: MapValue;
}

/** Stable codes of AccessMapError. */
export const AccessMapErrorCode = {
  syntax: 'ACCESS_MAP_SYNTAX',
  duplicate: 'ACCESS_MAP_DUPLICATE_KEY',
  unreadable: 'ACCESS_MAP_UNREADABLE',
} as const;

/** One of the AccessMapError codes. */
export type AccessMapErrorCode = (typeof AccessMapErrorCode)[keyof typeof AccessMapErrorCode];

/** An access map that cannot be used: the file, the line (0 for the whole file) and why. */
export class AccessMapError extends Error {
  /** Stable machine-readable code, e.g. `ACCESS_MAP_SYNTAX`. */
  readonly code: AccessMapErrorCode;
  /** The file name as given to the loader. */
  readonly file: string;
  /** 1-based line number; 0 when the problem is the file itself. */
  readonly line: number;
  /** The problem without the location, e.g. `unknown action "OKAY"`. */
  readonly reason: string;

  constructor(
    code: AccessMapErrorCode,
    file: string,
    line: number,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`${line === 0 ? file : `${file}:${line}`}: ${reason}`, options);
    this.name = 'AccessMapError';
    this.code = code;
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

const TAG_KEYS: Readonly<Record<AccessTag, (raw: string) => KeyResult>> = {
  connect: connectKey,
  from: addressKey,
  to: addressKey,
  auth: authKey,
};

/** Strips a comment: `#` at the start of the line or after whitespace. */
function stripComment(line: string): string {
  const hash = /(^|\s)#/.exec(line);
  return (hash === null ? line : line.slice(0, hash.index)).trim();
}

/** A loaded access map: one hash map per tag, pattern lists compiled. */
export class AccessMap {
  /** The file the map came from (for messages and traces). */
  readonly file: string;
  readonly #tables: AccessTables;

  constructor(file: string, tables: AccessTables) {
    this.file = file;
    this.#tables = tables;
  }

  /** The number of entries. */
  get size(): number {
    let n = 0;
    for (const table of Object.values(this.#tables)) n += table.size;
    return n;
  }

  /** The entry stored under a tag and key as written in a file (normalised first), if any. */
  entry(tag: AccessTag, key: string): AccessEntry | undefined {
    const normal = TAG_KEYS[tag](key);
    return normal.ok ? this.#tables[tag].get(normal.key) : undefined;
  }

  /** Looks a message up: message-level action, one result per recipient, and traces. */
  decide(facts: AccessFacts): AccessDecision {
    return decideAccess(this.#tables, facts);
  }
}

/** Parses access map text; throws AccessMapError naming `fileName` and the line. */
export function parseAccessMap(text: string, fileName: string): AccessMap {
  const tables: Record<AccessTag, Map<string, AccessEntry>> = {
    connect: new Map(),
    from: new Map(),
    to: new Map(),
    auth: new Map(),
  };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = stripComment(lines[i] ?? '');
    if (content === '') continue;
    const syntax = (reason: string) =>
      new AccessMapError(AccessMapErrorCode.syntax, fileName, line, reason);
    const space = content.search(/\s/);
    const rawKey = space === -1 ? content : content.slice(0, space);
    const colon = rawKey.indexOf(':');
    if (colon === -1) throw syntax(`key "${rawKey}" has no tag (connect:, from:, to: or auth:)`);
    const tagText = rawKey.slice(0, colon).toLowerCase();
    if (!Object.hasOwn(AccessTag, tagText))
      throw syntax(`unknown tag "${rawKey.slice(0, colon)}:" (use connect:, from:, to: or auth:)`);
    const tag = tagText as AccessTag;
    const key = TAG_KEYS[tag](rawKey.slice(colon + 1));
    if (!key.ok) throw syntax(key.reason);
    const value = parseValue(space === -1 ? '' : content.slice(space).trim(), tag === 'connect');
    if (!value.ok) throw syntax(value.reason);
    const table = tables[tag];
    const previous = table.get(key.key);
    if (previous !== undefined) {
      throw new AccessMapError(
        AccessMapErrorCode.duplicate,
        fileName,
        line,
        `duplicate key ${tag}:${key.key} (first on line ${previous.line})`,
      );
    }
    table.set(key.key, { tag, key: key.key, line, value: value.value });
  }
  return new AccessMap(fileName, tables);
}

/** Reads and parses an access map file; throws AccessMapError (unreadable file or bad line). */
export async function loadAccessMap(path: string): Promise<AccessMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AccessMapError(AccessMapErrorCode.unreadable, path, 0, `cannot read: ${reason}`, {
      cause: error,
    });
  }
  return parseAccessMap(text, path);
}
