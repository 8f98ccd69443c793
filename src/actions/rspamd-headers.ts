/**
 * The `rspamd` header profile, as rspamd's milter_headers module writes it (extended spam
 * headers): X-Spamd-Result, X-Spamd-Bar, X-Spam, X-Rspamd-Queue-Id, X-Rspamd-Action and
 * X-Rspamd-Server, from any Verdict.
 */
import type { Verdict } from '../scanners/verdict.ts';
import { type CleanSymbol, capList, headerText, type RenderedHeader } from './common.ts';
import { encodeWords, isPlainText } from './encode-word.ts';
import { foldHeader } from './fold.ts';
import { formatScore, spamdBar } from './score.ts';

/** What the rspamd profile needs besides the verdict. */
export interface RspamdOptions {
  /** The MTA queue id, for X-Rspamd-Queue-Id (left out when unknown). */
  readonly queueId?: string;
  /** This host, for X-Rspamd-Server (left out when unknown). */
  readonly hostname?: string;
}

const MAX_TOKEN = 100;

/** The rspamd profile's headers for `verdict`. */
export function rspamdHeaders(
  verdict: Verdict,
  symbols: readonly CleanSymbol[],
  options: RspamdOptions,
): RenderedHeader[] {
  const headers: RenderedHeader[] = [];
  const add = (name: string, value: string) => {
    headers.push({ name, value: foldHeader(name, value) });
  };
  add('X-Spamd-Result', resultValue(verdict, symbols));
  add('X-Spamd-Bar', spamdBar(verdict.score));
  if (verdict.isSpam) add('X-Spam', 'Yes');
  if (options.queueId !== undefined && options.queueId !== '') {
    add('X-Rspamd-Queue-Id', headerText(options.queueId, MAX_TOKEN));
  }
  add('X-Rspamd-Action', verdict.action);
  if (options.hostname !== undefined && options.hostname !== '') {
    add('X-Rspamd-Server', headerText(options.hostname, MAX_TOKEN));
  }
  return headers;
}

/**
 * `default: True [15.00 / 15.00];` then one `NAME(score)[options]` line per symbol, highest
 * score first (then by name), lines joined by `;\n\t`. `True` means the verdict is spam.
 */
function resultValue(verdict: Verdict, symbols: readonly CleanSymbol[]): string {
  const head =
    `default: ${verdict.isSpam ? 'True' : 'False'} ` +
    `[${formatScore(verdict.score, 2)} / ${formatScore(verdict.required, 2)}]`;
  const lines = [...symbols]
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => `${s.name}(${formatScore(s.score, 2)})[${optionsText(s.options)}]`);
  const { kept, omitted } = capList(lines, 3);
  if (omitted > 0) kept.push(`...(${omitted} more symbols not shown)`);
  return [head, ...kept].join(';\n\t');
}

/**
 * Options joined by commas, as rspamd writes them; options with non-ASCII text become
 * encoded-words set off by spaces (`[ =?UTF-8?B?...?= ]`), since an encoded-word must stand
 * alone, and the symbol name stays readable.
 */
function optionsText(options: readonly string[]): string {
  const text = options.join(',');
  return isPlainText(text) ? text : ` ${encodeWords(text)} `;
}
