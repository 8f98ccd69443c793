/**
 * The human-readable report of a built-in verdict, laid out like SpamAssassin's so people who
 * read spamd reports feel at home: a header line with score and required, then one line per
 * symbol (points, name, description) with its options underneath.
 */
import type { ScanSymbol } from '../verdict.ts';

/** The report text for a verdict's score, required score and symbols. */
export function formatReport(
  score: number,
  required: number,
  symbols: readonly ScanSymbol[],
): string {
  const lines = [
    `Content analysis details:   (${score.toFixed(1)} points, ${required.toFixed(1)} required)`,
    '',
    ' pts rule name              description',
    '---- ---------------------- --------------------------------------------------',
  ];
  for (const symbol of symbols) {
    const points = symbol.score.toFixed(1).padStart(4);
    lines.push(`${points} ${symbol.name.padEnd(22)} ${symbol.description ?? ''}`.trimEnd());
    for (const option of symbol.options ?? []) lines.push(`${' '.repeat(28)}[${option}]`);
  }
  return `${lines.join('\n')}\n`;
}
