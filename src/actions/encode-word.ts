/**
 * Making text safe for a header we write: `sanitizeText` cleans scanner-provided strings (no line
 * breaks, no control characters, bounded length) and `encodeHeaderText` turns whatever is not
 * printable ASCII into RFC 2047 encoded-words, so every value we emit is plain 7-bit text.
 */

/** The longest encoded-word RFC 2047 allows (`=?UTF-8?Q?…?=`). */
export const MAX_ENCODED_WORD = 75;

/** Characters a sanitised text keeps by default (code points, not bytes). */
export const DEFAULT_TEXT_LIMIT = 256;

const PREFIX = { Q: '=?UTF-8?Q?', B: '=?UTF-8?B?' } as const;
const SUFFIX = '?=';
/** Room for the payload of one encoded-word: 75 - `=?UTF-8?Q?`.length - `?=`.length = 63. */
const PAYLOAD = MAX_ENCODED_WORD - PREFIX.Q.length - SUFFIX.length;

/** RFC 2047 `Q` or `B`, or `auto` (chosen per run of words, see `shorter`). */
export type WordEncoding = 'Q' | 'B' | 'auto';

// Line breaks and other vertical space become a plain space; tabs too (we collapse runs anyway).
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** C0/C1 controls, DEL, bidi marks, overrides and isolates (they reorder what a reader sees), BOM. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const INVISIBLE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** Printable ASCII words separated by single spaces, nothing at the ends: what sanitizing yields. */
const ALREADY_CLEAN = /^(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?$/;

/**
 * Cleans scanner- or user-provided text for use inside a header: CR, LF, tabs and other breaks
 * become spaces, control and bidi-override characters are dropped, whitespace runs collapse,
 * the ends are trimmed, and the result is capped at `maxLength` code points (ending in `...`).
 */
export function sanitizeText(text: string, maxLength: number = DEFAULT_TEXT_LIMIT): string {
  // Most scanner text (rule names, descriptions) is already clean: skip the rebuilding.
  if (text.length <= maxLength && ALREADY_CLEAN.test(text)) return text;
  const clean = text
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(BREAKS, ' ')
    .replace(INVISIBLE, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(clean);
  if (chars.length <= maxLength) return clean;
  if (maxLength <= 3) return chars.slice(0, Math.max(0, maxLength)).join('');
  return `${chars
    .slice(0, maxLength - 3)
    .join('')
    .trimEnd()}...`;
}

/** True when text can go into a header as it is: printable ASCII that cannot be mistaken for an encoded-word. */
export function isPlainText(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text) && !text.includes('=?');
}

function isPlainWord(word: string): boolean {
  return isPlainText(word) && !word.includes(' ');
}

/**
 * Encodes the words of `text` that are not plain printable ASCII as RFC 2047 UTF-8
 * encoded-words (each at most 75 characters, never splitting a character), leaving plain words
 * and the whitespace between them untouched. Neighbouring non-ASCII words are encoded together,
 * with the space between them inside the encoding, because whitespace between two
 * encoded-words disappears when they are decoded. Text that is all plain is returned as is.
 */
export function encodeHeaderText(text: string, encoding: WordEncoding = 'auto'): string {
  const parts = text.split(/([ \t]+)/);
  if (parts.every((part, i) => i % 2 === 1 || isPlainWord(part))) return text;
  let out = '';
  let run: string[] = [];
  const flush = () => {
    if (run.length === 0) return;
    out += encodeWords(run.join(''), encoding);
    run = [];
  };
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i] ?? '';
    const space = parts[i + 1] ?? '';
    if (word !== '' && !isPlainWord(word)) {
      run.push(word);
      // Keep the space inside the run only if the next word is encoded as well.
      const next = parts[i + 2];
      if (next !== undefined && next !== '' && !isPlainWord(next)) {
        run.push(space);
        continue;
      }
      flush();
      out += space;
      continue;
    }
    out += word + space;
  }
  flush();
  return out;
}

/**
 * Encodes all of `text` (spaces included) as one or more UTF-8 encoded-words separated by a
 * space, each at most 75 characters; a character's bytes always stay in one word, and a word
 * that must end early ends after a space where it can, so a fold between two words falls
 * between two of the text's words.
 */
export function encodeWords(text: string, encoding: WordEncoding = 'auto'): string {
  const chars = Array.from(text.replace(LONE_SURROGATE, '\ufffd'));
  const kind = encoding === 'auto' ? shorter(chars) : encoding;
  const words: string[] = [];
  let current: string[] = [];
  for (const char of chars) {
    if (current.length > 0 && payloadLength([...current, char], kind) > PAYLOAD) {
      const space = current.lastIndexOf(' ');
      const cut = space >= 0 && space < current.length - 1 ? space + 1 : current.length;
      words.push(encodeChunk(current.slice(0, cut), kind));
      current = current.slice(cut);
      // Should the carried-over tail and this character still not fit, the tail is a word of its own.
      if (current.length > 0 && payloadLength([...current, char], kind) > PAYLOAD) {
        words.push(encodeChunk(current, kind));
        current = [];
      }
    }
    current.push(char);
  }
  if (current.length > 0) words.push(encodeChunk(current, kind));
  return words.join(' ');
}

function payloadLength(chars: readonly string[], kind: 'Q' | 'B'): number {
  if (kind === 'B') return base64Length(Buffer.byteLength(chars.join(''), 'utf8'));
  return chars.reduce((sum, char) => sum + qEncode(char).length, 0);
}

function encodeChunk(chars: readonly string[], kind: 'Q' | 'B'): string {
  const payload =
    kind === 'B'
      ? Buffer.from(chars.join(''), 'utf8').toString('base64')
      : chars.map(qEncode).join('');
  return PREFIX[kind] + payload + SUFFIX;
}

/**
 * `Q` (readable) when at most half of the characters need escaping, otherwise whichever is
 * shorter: mostly-Latin text stays legible, CJK or Cyrillic text gets the compact `B`.
 */
function shorter(chars: readonly string[]): 'Q' | 'B' {
  let q = 0;
  let bytes = 0;
  let escaped = 0;
  for (const char of chars) {
    const piece = qEncode(char);
    if (piece.length > 1) escaped++;
    q += piece.length;
    bytes += Buffer.byteLength(char, 'utf8');
  }
  if (escaped * 2 <= chars.length) return 'Q';
  return base64Length(bytes) < q ? 'B' : 'Q';
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** One character in `Q`: the RFC 2047 §5(3) safe set literally, space as `_`, the rest as `=XX` per byte. */
function qEncode(char: string): string {
  if (/^[A-Za-z0-9!*+\-/]$/.test(char)) return char;
  if (char === ' ') return '_';
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) {
    out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
