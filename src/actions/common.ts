/**
 * What the header profiles share: the rendered header shape, scanner symbols cleaned for use in
 * header text, and the size cap for list-like headers.
 */
import type { ScanSymbol } from '../scanners/verdict.ts';
import { encodeHeaderText, sanitizeText } from './encode-word.ts';

/** One header to add: `value` is the text after `Name: `, LF-folded, 7-bit ASCII. */
export interface RenderedHeader {
  readonly name: string;
  readonly value: string;
}

/** A symbol whose name, description and options are safe to put in a header (not yet encoded). */
export interface CleanSymbol {
  readonly name: string;
  readonly score: number;
  readonly description: string | undefined;
  readonly options: readonly string[];
}

/** Rule lists (tests=, X-Spam-Report, X-Spamd-Result) stop growing at about this many characters. */
export const MAX_LIST_CHARS = 8000;

const MAX_NAME = 64;
const MAX_DESCRIPTION = 200;
const MAX_OPTION = 100;
const MAX_OPTIONS = 20;

/**
 * Symbol names reduced to `[A-Za-z0-9_.:+-]` (anything else becomes `_`, at most 64 characters,
 * so a name can neither break a list nor a line), descriptions and options sanitised; a name
 * seen twice is kept once (the first).
 */
export function cleanSymbols(symbols: readonly ScanSymbol[]): CleanSymbol[] {
  const seen = new Set<string>();
  const out: CleanSymbol[] = [];
  for (const symbol of symbols) {
    const name = symbolName(symbol.name);
    if (seen.has(name)) continue;
    seen.add(name);
    const description =
      symbol.description === undefined ? '' : sanitizeText(symbol.description, MAX_DESCRIPTION);
    const options = (symbol.options ?? [])
      .slice(0, MAX_OPTIONS)
      .map((option) => sanitizeText(option, MAX_OPTION))
      .filter((option) => option !== '');
    out.push({
      name,
      score: Number.isFinite(symbol.score) ? symbol.score : 0,
      description: description === '' ? undefined : description,
      options,
    });
  }
  return out;
}

/** A rule name as it may appear in a header. */
export function symbolName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.:+-]/g, '_').slice(0, MAX_NAME);
  return clean === '' ? '_' : clean;
}

/** Sanitised and, where needed, RFC 2047-encoded text from a scanner or the configuration. */
export function headerText(raw: string, maxLength = MAX_DESCRIPTION): string {
  return encodeHeaderText(sanitizeText(raw, maxLength));
}

/**
 * Takes entries while their total length (plus `separator` each) stays within
 * {@link MAX_LIST_CHARS}, and says how many were left out.
 */
export function capList(
  entries: readonly string[],
  separator: number,
  budget = MAX_LIST_CHARS,
): { readonly kept: string[]; readonly omitted: number } {
  const kept: string[] = [];
  let total = 0;
  for (const entry of entries) {
    total += entry.length + separator;
    if (total > budget) break;
    kept.push(entry);
  }
  return { kept, omitted: entries.length - kept.length };
}
