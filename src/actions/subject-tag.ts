/**
 * The Subject tag for spam: a prefix (or an rspamd-style `%s` template) put around the original
 * subject, whose bytes (8-bit or RFC 2047 encoded-words) are kept exactly; a subject that already
 * carries the tag is left alone.
 */
import type { Modification } from '../filter/decision.ts';
import type { HeaderField } from '../message/message.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { decodeEncodedWords } from './decode-word.ts';
import { encodeHeaderText, encodeWords, sanitizeText } from './encode-word.ts';
import { FOLD_WIDTH } from './fold.ts';
import { formatScore } from './score.ts';

const MAX_TAG = 200;
/** Score placeholders: SpamAssassin's `_SCORE_`/`_REQD_` and Spamward's `%{score}`/`%{required}`. */
const PLACEHOLDER = /_SCORE_|_REQD_|%\{score\}|%\{required\}/g;
const SUBJECT = 'Subject';
const ENCODED_START = /^=\?[^?\s]+\?[QqBb]\?/;
const ENCODED_END = /\?=$/;

/** The tag text with its placeholders filled in (scores with one decimal) and sanitised. */
export function renderTag(tag: string, verdict: Pick<Verdict, 'score' | 'required'>): string {
  return sanitizeText(
    tag.replace(PLACEHOLDER, (p) =>
      formatScore(p === '_REQD_' || p === '%{required}' ? verdict.required : verdict.score, 1),
    ),
    MAX_TAG,
  );
}

/**
 * Does the subject already carry this tag (anywhere, case-insensitively, any score in place of
 * the placeholders)? The subject is checked both as it stands and with encoded-words decoded.
 */
export function isTagged(original: Buffer | undefined, tag: string): boolean {
  if (original === undefined) return false;
  const marker = markerPattern(tag);
  if (marker === undefined) return true;
  const raw = original.toString('latin1').replace(/\r?\n/g, '');
  return (
    marker.test(raw) ||
    marker.test(decodeEncodedWords(raw)) ||
    marker.test(original.toString('utf8'))
  );
}

/**
 * The tagged subject value (without the leading space): `tag original`, or the template with
 * `%s` replaced by the original. Returns the original bytes unchanged when already tagged, a
 * Buffer whenever there is a non-empty original (its bytes are never re-encoded), and a string
 * (the tag alone) when there was none. A non-ASCII tag is RFC 2047-encoded.
 */
export function tagSubject(
  original: Buffer | undefined,
  tag: string,
  verdict: Pick<Verdict, 'score' | 'required'>,
): string | Buffer {
  const subject = original === undefined ? undefined : trimStart(original);
  if (subject !== undefined && isTagged(subject, tag)) return subject;
  const rendered = renderTag(tag, verdict);
  const [before = '', ...rest] = rendered.includes('%s') ? rendered.split('%s') : [rendered, ''];
  const after = rest.join('');
  if (subject === undefined || subject.length === 0) {
    return encodeHeaderText(sanitizeText(`${before} ${after}`, MAX_TAG));
  }
  const text = subject.toString('latin1');
  const head = affix(before.trimEnd(), ENCODED_START.test(text), 'before');
  const tail = affix(after.trimStart(), ENCODED_END.test(text.trimEnd()), 'after');
  const firstLine = text.split('\n')[0] ?? '';
  // Fold between tag and subject (RFC 5322 folding: the line break goes before the space).
  const gap = SUBJECT.length + 2 + head.length + 1 + firstLine.length >= FOLD_WIDTH ? '\n ' : ' ';
  return Buffer.concat([
    Buffer.from(head === '' ? '' : head + gap, 'latin1'),
    subject,
    Buffer.from(tail === '' ? '' : ` ${tail}`, 'latin1'),
  ]);
}

/**
 * The Subject change for a spam verdict: `change-header` of the first Subject, `add-header`
 * when the message has none, undefined when the subject is already tagged or the tag is empty.
 */
export function subjectTagModification(
  headers: readonly HeaderField[],
  tag: string,
  verdict: Pick<Verdict, 'score' | 'required'>,
): Modification | undefined {
  if (markerPattern(tag) === undefined) return undefined;
  const field = headers.find((h) => h.name.toLowerCase() === 'subject');
  if (field === undefined) {
    return { kind: 'add-header', name: SUBJECT, value: tagSubject(undefined, tag, verdict) };
  }
  if (isTagged(trimStart(field.value), tag)) return undefined;
  return {
    kind: 'change-header',
    name: SUBJECT,
    occurrence: 1,
    value: tagSubject(field.value, tag, verdict),
  };
}

/**
 * The tag text next to the subject. An encoded tag that would touch an encoded-word of the
 * subject takes the separating space into its own encoding: whitespace between two
 * encoded-words vanishes when they are decoded.
 */
function affix(text: string, touchesEncoded: boolean, side: 'before' | 'after'): string {
  if (text === '') return '';
  const encoded = encodeHeaderText(text);
  if (encoded === text || !touchesEncoded) return encoded;
  const lastEncoded = side === 'before' ? ENCODED_END.test(encoded) : ENCODED_START.test(encoded);
  if (!lastEncoded) return encoded;
  return side === 'before' ? encodeWords(`${text} `) : encodeWords(` ${text}`);
}

/**
 * A pattern finding the tag in a subject: the tag without `%s`, placeholders matching any
 * number, whitespace matching any whitespace; undefined for a tag that is empty without `%s`.
 */
function markerPattern(tag: string): RegExp | undefined {
  const text = sanitizeText(tag.replace(/%s/g, ' '), MAX_TAG);
  if (text === '') return undefined;
  const source = text
    .split(PLACEHOLDER)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'))
    .join('-?\\d+(?:\\.\\d+)?');
  return new RegExp(source, 'i');
}

/** The value without the whitespace (and folding) that follows the colon. */
function trimStart(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length && [0x20, 0x09, 0x0a, 0x0d].includes(value[start] ?? 0)) start++;
  return value.subarray(start);
}

/** Longest subject a scanner may set (rspamd's rewritten subject), in characters. */
const MAX_SCANNER_SUBJECT = 900;

/**
 * The Subject a scanner proposes (rspamd "rewrite subject") put in place of the first Subject,
 * or added when there is none. Control characters are removed and non-ASCII text is RFC 2047
 * encoded, so the scanner's text cannot start a new header line.
 */
export function subjectReplacement(
  headers: readonly HeaderField[],
  subject: string,
): Modification | undefined {
  const clean = sanitizeText(subject, MAX_SCANNER_SUBJECT);
  if (clean === '') return undefined;
  const value = encodeHeaderText(clean);
  const present = headers.some((h) => h.name.toLowerCase() === 'subject');
  return present
    ? { kind: 'change-header', name: SUBJECT, occurrence: 1, value }
    : { kind: 'add-header', name: SUBJECT, value };
}
