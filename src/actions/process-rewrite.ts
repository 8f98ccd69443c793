/**
 * spamd's rewritten message (PROCESS) or header block (HEADERS) turned into milter modifications
 * of the original, the way spamass-milter applies SpamAssassin's changes, but by comparing the
 * two header lists instead of a fixed list of names. Header names fall in four classes:
 *
 * - `X-Spam-*` (SpamAssassin's own, `add_header` included): kept in step with spamd's output:
 *   added, changed and deleted (SpamAssassin strips incoming ones, so a forged one goes too).
 *   New ones are inserted at the top by default, because spamd 4.0.1 puts them on top of the
 *   header block (captured ham and `report_safe 0` replies), above the relay lines, which is
 *   where a reader can trust them; index 0 is also the one insert position that means the same
 *   in Postfix and Sendmail. An `X-Spam-Prev-<Name>` is only added or changed when changes to
 *   `<Name>` are applied (not with `preserveHeaders` for Subject), but always deleted.
 * - Subject, From, To (what `rewrite_header` can change): changed or added, never deleted;
 *   left alone with `preserveHeaders`.
 * - MIME-Version and Content-*: describe the body, so they follow it: kept in step (added,
 *   changed, deleted, e.g. a top-level Content-Transfer-Encoding) only when the body is
 *   replaced, never for HEADERS output or with `preserveBody`.
 * - Everything else is never touched: `report_safe` 1/2 rebuilds the message with only a few
 *   of the original headers plus its own `Received: from localhost … with SpamAssassin`, and
 *   the MTA's copy keeps its Received, DKIM, List-* headers.
 *
 * Occurrences of a name are paired in order; when spamd has more of an `X-Spam-*` name than the
 * message had, the extra ones are the first (they go on top) and the kept ones pair from the end,
 * so each name's occurrences end up in spamd's order.
 *
 * The modifications refer to the original header list (occurrences counted per name, 1-based,
 * case-insensitive) and must be applied in the order given, on their own: this module owns the
 * `X-Spam-*` family, so do not also send forged-header deletions or our own `X-Spam-*` stamps.
 */
import type { Modification } from '../filter/decision.ts';
import type { HeaderField, Message } from '../message/message.ts';
import { assertNever } from '../shared/assert-never.ts';
import { hasOverlongLine } from './fold.ts';
import { parseRewritten, type Rewritten } from './process-rewrite-parse.ts';

/** The parser's error class, limits and input type, for callers of processRewrite. */
export {
  ProcessRewriteError,
  REWRITE_LIMITS,
  type RewriteFault,
  type Rewritten,
} from './process-rewrite-parse.ts';

/** What to apply of spamd's changes. */
export interface ProcessRewriteOptions {
  /** Only SpamAssassin's `X-Spam-*` headers; Subject, From and To stay as they came. */
  readonly preserveHeaders: boolean;
  /**
   * Keep the message intact: no replace-body and no MIME-Version/Content-* changes (they must
   * keep describing the body that is delivered), even when `report_safe` encapsulated it.
   */
  readonly preserveBody: boolean;
  /** Where new `X-Spam-*` headers go: `top` (default, as spamd puts them) or `end` (appended). */
  readonly placement?: 'top' | 'end';
  /** The scanner URL, for the error message. */
  readonly scanner?: string;
}

/** The message as the MTA sent it; a truncated body is never replaced (spamd saw a prefix). */
export type OriginalMessage = Pick<Message, 'headers' | 'body'> &
  Partial<Pick<Message, 'bodyTruncated'>>;

/** The classes of header names, by what may be done to them. */
export const HeaderClass = {
  Verdict: 'verdict',
  Rewritable: 'rewritable',
  Mime: 'mime',
  Other: 'other',
} as const;

/** One of the classes. */
export type HeaderClass = (typeof HeaderClass)[keyof typeof HeaderClass];

/**
 * What is applied for a header name: every difference, all but deletions, or none but the
 * deletion of every occurrence the message came with.
 */
const Sync = { All: 'all', NoRemove: 'no-remove', Drop: 'drop' } as const;
type Sync = (typeof Sync)[keyof typeof Sync];

const PREV = /^X-Spam-Prev-(.+)$/i;

/** The class of a header name (case-insensitive). */
export function headerClass(name: string): HeaderClass {
  const lower = name.toLowerCase();
  if (lower.startsWith('x-spam-')) return HeaderClass.Verdict;
  if (lower === 'subject' || lower === 'from' || lower === 'to') return HeaderClass.Rewritable;
  if (lower === 'mime-version' || lower.startsWith('content-')) return HeaderClass.Mime;
  return HeaderClass.Other;
}

/**
 * The modifications that turn `original` into what spamd made of it, within `options`: deletions
 * (highest occurrence first), changes, top inserts, appended headers, then replace-body (CRLF)
 * when the body differs. Throws {@link ProcessRewriteError} (a `BadResponseError`) for output
 * that cannot be parsed; nothing is returned then, so nothing is half-applied.
 */
export function processRewrite(
  original: OriginalMessage,
  rewritten: Rewritten,
  options: ProcessRewriteOptions,
): Modification[] {
  const parsed = parseRewritten(rewritten, options.scanner);
  const bodyReplaced =
    parsed.body !== undefined &&
    !options.preserveBody &&
    original.bodyTruncated !== true &&
    !sameBody(original.body, parsed.body);
  const syncOf = (name: string): Sync | undefined => {
    const target = PREV.exec(name)?.[1];
    if (target !== undefined && headerClass(target) !== HeaderClass.Verdict) {
      return sync(headerClass(target), options, bodyReplaced) === undefined ? Sync.Drop : Sync.All;
    }
    return sync(headerClass(name), options, bodyReplaced);
  };
  const deletes: Modification[] = [];
  const changes: Modification[] = [];
  const inserts: Modification[] = [];
  const appends: Modification[] = [];
  const before = byName(original.headers);
  const after = byName(parsed.headers);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const rule = syncOf(key);
    if (rule === undefined) continue;
    const old = before.get(key) ?? [];
    const now = rule === Sync.Drop ? [] : (after.get(key) ?? []);
    for (let i = old.length; rule !== Sync.NoRemove && i > now.length; i--) {
      deletes.push({ kind: 'delete-header', name: (old[0] as HeaderField).name, occurrence: i });
    }
    // New occurrences put on top come before the kept ones: those are matched from the end.
    const top = headerClass(key) === HeaderClass.Verdict && options.placement !== 'end';
    const offset = top ? Math.max(0, now.length - old.length) : 0;
    for (let i = 0; i < now.length; i++) {
      const field = now[i] as HeaderField;
      const was = i < offset ? undefined : old[i - offset];
      // A line the MTA could not pass on intact (RFC 5322: 998 at most) is left out, not sent.
      if (hasOverlongLine(field.name, outgoing(field.value, false))) continue;
      if (was === undefined) {
        const value = outgoing(field.value, false);
        if (top) inserts.push({ kind: 'insert-header', index: 0, name: field.name, value });
        else appends.push({ kind: 'add-header', name: field.name, value });
      } else if (!sameValue(was.value, field.value)) {
        const value = outgoing(field.value, true);
        const occurrence = i - offset + 1;
        changes.push({ kind: 'change-header', name: field.name, occurrence, value });
      }
    }
  }
  // Each insert at 0 lands above the previous ones: reversed, they keep spamd's order.
  const out = [...deletes, ...changes, ...inserts.reverse(), ...appends];
  if (bodyReplaced && parsed.body !== undefined)
    out.push({ kind: 'replace-body', body: parsed.body });
  return out;
}

/** What is applied for a class, or undefined when the class is left alone. */
function sync(
  cls: HeaderClass,
  options: ProcessRewriteOptions,
  bodyReplaced: boolean,
): Sync | undefined {
  switch (cls) {
    case HeaderClass.Verdict:
      return Sync.All;
    case HeaderClass.Rewritable:
      return options.preserveHeaders ? undefined : Sync.NoRemove;
    case HeaderClass.Mime:
      return bodyReplaced ? Sync.All : undefined;
    case HeaderClass.Other:
      return undefined;
    default:
      return assertNever(cls);
  }
}

/** Fields grouped by lower-cased name, in message order, groups in order of first appearance. */
function byName(headers: readonly HeaderField[]): Map<string, HeaderField[]> {
  const groups = new Map<string, HeaderField[]>();
  for (const field of headers) {
    const key = field.name.toLowerCase();
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [field]);
    else group.push(field);
  }
  return groups;
}

/**
 * A value as a modification carries it: without the one space after the colon (the milter
 * layer or the MTA puts it back), CR and NUL made spaces (folds are bare LF already) (the milter refuses them, and a
 * sender must not be able to make marking fail with one), and never empty for a change (an
 * empty CHGHEADER value deletes the header).
 */
function outgoing(value: Buffer, forChange: boolean): Buffer {
  const start = value[0] === 0x20 ? 1 : 0;
  const out = Buffer.from(value.subarray(start));
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0x00 || out[i] === 0x0d) out[i] = 0x20;
  }
  return forChange && out.length === 0 ? Buffer.from(' ') : out;
}

/** Equal values, whitespace after the colon aside (the MTA writes exactly one space there). */
function sameValue(a: Buffer, b: Buffer): boolean {
  return a.subarray(leadingBlanks(a)).equals(b.subarray(leadingBlanks(b)));
}

function leadingBlanks(value: Buffer): number {
  let i = 0;
  while (value[i] === 0x20 || value[i] === 0x09) i++;
  return i;
}

/** Equal bodies, also when one lacks the final CRLF the MTA adds. */
function sameBody(a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return (
    long.length === short.length + 2 &&
    long[long.length - 2] === 0x0d &&
    long[long.length - 1] === 0x0a &&
    long.subarray(0, short.length).equals(short)
  );
}
