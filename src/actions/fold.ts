/**
 * Header folding for the values we add: lines stay under 78 columns where the text allows it and
 * never reach RFC 5322's hard limit of 998; continuation lines start with a TAB and lines are
 * joined with a bare LF (what the milter layer sends to the MTA).
 */

/** A line plus the separator it ends with stays below this many columns (SpamAssassin's rule). */
export const FOLD_WIDTH = 78;

/** RFC 5322's hard limit on a header line, without the line ending. */
export const MAX_LINE_LENGTH = 998;

/** How to fold. */
export interface FoldOptions {
  /** Also break after commas (SpamAssassin does so in the `tests=` list), not only at whitespace. */
  readonly breakAfterComma?: boolean;
  /** What starts a line made by folding; must begin with a TAB or space. Default `\t`. */
  readonly continuation?: string;
  /** Soft width in columns; default {@link FOLD_WIDTH}. */
  readonly width?: number;
  /**
   * Columns a TAB that starts a line counts for; default 8, as SpamAssassin counts when folding
   * X-Spam-Status (its X-Spam-Report wrapping counts it as 1).
   */
  readonly tabWidth?: number;
}

/**
 * True when the MTA would write a line over {@link MAX_LINE_LENGTH} for this header: the first
 * line is `Name: ` plus the value's first line, continuations are counted as they are.
 */
export function hasOverlongLine(name: string, value: string | Buffer): boolean {
  const lines = (typeof value === 'string' ? value : value.toString('latin1')).split('\n');
  return (
    name.length + 2 + (lines[0] ?? '').length > MAX_LINE_LENGTH ||
    lines.some((line) => line.length > MAX_LINE_LENGTH)
  );
}

interface Piece {
  readonly text: string;
  /** The whitespace after `text` ('' after a comma break or at the end of the line). */
  readonly space: string;
}

/**
 * Folds the value of header `name` (the text after `Name: `). Existing line breaks are kept as
 * line breaks (each continuation starting with a TAB); lines that are too long are broken at
 * whitespace, which the break replaces, or after a comma when asked. CR, NUL and other control
 * characters are removed and whitespace-only continuation lines dropped, so the result can never
 * start a new header field. A value that starts with a line break keeps its empty first line.
 * Lengths count characters, so encode non-ASCII text first (`encodeHeaderText`).
 */
export function foldHeader(name: string, value: string, options: FoldOptions = {}): string {
  const width = options.width ?? FOLD_WIDTH;
  const continuation = options.continuation ?? '\t';
  if (!/^[ \t]/.test(continuation) || /[^\x20-\x7e\t]/.test(continuation)) {
    throw new RangeError('a continuation must start with whitespace and be printable ASCII');
  }
  // Most values (flags, levels, short lists) fit on the first line as they are.
  if (name.length + 2 + value.length < width && FITS_AS_IS.test(value)) return value;
  const lines = value
    .replace(STRAY_CONTROL, '')
    .split(/\r\n?[ \t]*|\n[ \t]*/)
    .map((line) => line.trimEnd());
  const layout: Layout = {
    width,
    continuation,
    indent: columns(continuation, options.tabWidth ?? 8),
    room: MAX_LINE_LENGTH - Math.max(name.length + 2, continuation.length),
    breakAfterComma: options.breakAfterComma ?? false,
  };
  const first = lines[0] ?? '';
  const out: string[] = [];
  if (first === '' && lines.length > 1) out.push('');
  else out.push(...foldLine(first, name.length + 2, layout));
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const [head = '', ...rest] = foldLine(line, columns('\t', options.tabWidth ?? 8), layout);
    out.push(`\t${head}`, ...rest);
  }
  return out.join('\n');
}

interface Layout {
  readonly width: number;
  readonly continuation: string;
  /** Columns the continuation takes. */
  readonly indent: number;
  /** The longest piece any line can take without passing {@link MAX_LINE_LENGTH}. */
  readonly room: number;
  readonly breakAfterComma: boolean;
}

/** Display columns of a line prefix, TABs counting `tabWidth`. */
function columns(prefix: string, tabWidth: number): number {
  let column = 0;
  for (const char of prefix) column = char === '\t' ? column + tabWidth : column + 1;
  return column;
}

/** Control characters other than TAB, LF and CR (those are whitespace and line breaks here). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const STRAY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
/** Printable ASCII not ending in a space: folding would give it back unchanged when it fits. */
const FITS_AS_IS = /^(?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Greedy folding of one logical line that starts at column `start`: returns the first line's
 * text and the continuation lines (with their prefix).
 */
function foldLine(line: string, start: number, layout: Layout): string[] {
  const result: string[] = [];
  let current = '';
  let column = start;
  let pendingSpace = '';
  for (const piece of pieces(line, layout.breakAfterComma, layout.room)) {
    const fits =
      column + pendingSpace.length + piece.text.length + piece.space.length < layout.width;
    if (current !== '' && !fits) {
      result.push(current);
      current = layout.continuation + piece.text;
      column = layout.indent + piece.text.length;
    } else {
      current += pendingSpace + piece.text;
      column += pendingSpace.length + piece.text.length;
    }
    pendingSpace = piece.space;
  }
  result.push(current);
  return result;
}

/** Splits a line into breakable pieces; a piece too long for any line is cut further. */
function pieces(line: string, commas: boolean, room: number): Piece[] {
  const out: Piece[] = [];
  const parts = line.split(/([ \t]+)/);
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i] ?? '';
    const space = parts[i + 1] ?? '';
    const chunks = commas || word.length > room ? word.split(/(?<=,)/) : [word];
    const split = chunks.flatMap((chunk) => hardSplit(chunk, room));
    split.forEach((text, j) => {
      out.push({ text, space: j === split.length - 1 ? space : '' });
    });
  }
  return out.filter((piece) => piece.text !== '' || piece.space !== '');
}

/** Cuts a word longer than `room` characters into pieces of at most `room` (never inside a surrogate pair). */
function hardSplit(word: string, room: number): string[] {
  if (word.length <= room) return [word];
  const chunks: string[] = [];
  let chunk = '';
  for (const char of word) {
    if (chunk.length + char.length > room) {
      chunks.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  chunks.push(chunk);
  return chunks;
}
