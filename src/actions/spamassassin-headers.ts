/**
 * The `spamassassin` header profile: X-Spam-Checker-Version, X-Spam-Flag, X-Spam-Level,
 * X-Spam-Status and optionally X-Spam-Report, in SpamAssassin 4's formats, from any Verdict.
 */
import type { Verdict } from '../scanners/verdict.ts';
import { type CleanSymbol, capList, headerText, type RenderedHeader } from './common.ts';
import { encodeHeaderText } from './encode-word.ts';
import { foldHeader } from './fold.ts';
import { formatPoints, formatScore, levelBar } from './score.ts';

/** What the SpamAssassin profile needs besides the verdict. */
export interface SpamAssassinOptions {
  /** X-Spam-Checker-Version text, e.g. `Spamward 0.1.0 (spamd 4.0.1)`. */
  readonly checkerVersion: string;
  /** Appended to the checker version as ` on <hostname>`, like SpamAssassin does. */
  readonly hostname?: string;
  /** Add X-Spam-Report (one line per rule). */
  readonly report: boolean;
  /** One printable ASCII character for X-Spam-Level. */
  readonly levelChar: string;
  /** Write `X-Spam-Flag: NO` on ham too (SpamAssassin writes the flag on spam only). */
  readonly flagOnHam?: boolean;
  /** A `version=` token for X-Spam-Status (SpamAssassin writes its own version there). */
  readonly scannerVersion?: string;
}

/** Rules without a description get SpamAssassin's wording. */
const NO_DESCRIPTION = 'No description available.';
/** How SpamAssassin continues a wrapped X-Spam-Report line. */
const REPORT_CONTINUATION = '\t*      ';

/** The SpamAssassin profile's headers for `verdict`, in SpamAssassin's order. */
export function spamAssassinHeaders(
  verdict: Verdict,
  symbols: readonly CleanSymbol[],
  options: SpamAssassinOptions,
): RenderedHeader[] {
  const headers: RenderedHeader[] = [];
  const add = (name: string, value: string, breakAfterComma = false) => {
    headers.push({ name, value: foldHeader(name, value, { breakAfterComma }) });
  };
  const host = options.hostname === undefined ? '' : ` on ${options.hostname}`;
  add('X-Spam-Checker-Version', headerText(`${options.checkerVersion}${host}`));
  if (verdict.isSpam) add('X-Spam-Flag', 'YES');
  else if (options.flagOnHam === true) add('X-Spam-Flag', 'NO');
  add('X-Spam-Level', levelBar(verdict.score, options.levelChar));
  add('X-Spam-Status', statusValue(verdict, symbols, options.scannerVersion), true);
  if (options.report && symbols.length > 0) {
    const name = 'X-Spam-Report';
    headers.push({
      name,
      // SpamAssassin wraps report lines without counting the TAB's width.
      value: foldHeader(name, reportValue(symbols), {
        continuation: REPORT_CONTINUATION,
        tabWidth: 1,
      }),
    });
  }
  return headers;
}

/**
 * `Yes, score=15.2 required=5.0 tests=A,B,C autolearn=unavailable [version=V]`: tests sorted
 * by name (`none` when there are none). Autolearn is not known from a verdict, so it is
 * `unavailable`, a value SpamAssassin itself uses.
 */
function statusValue(
  verdict: Verdict,
  symbols: readonly CleanSymbol[],
  scannerVersion: string | undefined,
): string {
  const names = symbols.map((s) => s.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const { kept, omitted } = capList(names, 1);
  const tests = kept.length === 0 ? 'none' : kept.join(',') + (omitted > 0 ? ',...' : '');
  const version =
    scannerVersion === undefined ? '' : ` version=${scannerVersion.replace(/[^\x21-\x7e]/g, '')}`;
  return (
    `${verdict.isSpam ? 'Yes' : 'No'}, score=${formatScore(verdict.score, 1)}` +
    ` required=${formatScore(verdict.required, 1)} tests=${tests} autolearn=unavailable${version}`
  );
}

/**
 * An empty first line, then per rule `* <pts> <NAME> <description>` and, when the rule has
 * options, `*      [<options>]`, as SpamAssassin's `_REPORT_` reads.
 */
function reportValue(symbols: readonly CleanSymbol[]): string {
  const lines: string[] = [];
  for (const symbol of symbols) {
    const description = encodeHeaderText(symbol.description ?? NO_DESCRIPTION);
    let entry = `* ${formatPoints(symbol.score)} ${symbol.name} ${description}`;
    if (symbol.options.length > 0) {
      entry += `\n${REPORT_CONTINUATION}${encodeHeaderText(`[${symbol.options.join(', ')}]`)}`;
    }
    lines.push(entry);
  }
  const { kept, omitted } = capList(lines, 2);
  if (omitted > 0) kept.push(`* (${omitted} more rules not shown)`);
  return `\n\t${kept.join('\n\t')}`;
}
