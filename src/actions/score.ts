/**
 * Scores as the scanners print them: SpamAssassin with one decimal (`score=5.2`, `-0.0` kept),
 * rspamd with two (`[15.00 / 15.00]`), and the star/plus bars.
 */

/** Bars never grow past this many characters (SpamAssassin's X-Spam-Level cap). */
export const MAX_BAR = 50;

// Beyond this, toFixed() would switch to exponent notation; no real score comes near it.
const LIMIT = 1e9;

/** A score with a fixed number of decimals, like C's `%.Nf`: -0 prints as `-0.0`, NaN as `0.0`. */
export function formatScore(score: number, decimals: 1 | 2): string {
  if (Number.isNaN(score)) return (0).toFixed(decimals);
  const clamped = Math.max(-LIMIT, Math.min(LIMIT, score));
  const text = clamped.toFixed(decimals);
  return Object.is(clamped, -0) ? `-${text}` : text;
}

/**
 * A score in at most four columns, right-aligned, as in SpamAssassin's rule lists: `%4.1f`
 * (` 2.8`, `-0.0`) and the integer part when that does not fit (`1000`, `-12`).
 */
export function formatPoints(score: number): string {
  const text = formatScore(score, 1);
  if (text.length <= 4) return text.padStart(4);
  return formatScore(Math.trunc(score), 1).slice(0, -2).padStart(4);
}

/** SpamAssassin's X-Spam-Level: `char` once per whole point, nothing below 1, at most 50. */
export function levelBar(score: number, char: string): string {
  if (!(score >= 1)) return '';
  return char.repeat(Math.min(MAX_BAR, Math.floor(score)));
}

/** rspamd's X-Spamd-Bar: `+` per whole point, `-` per whole negative point, `/` in between; at most 50. */
export function spamdBar(score: number): string {
  if (score >= 1) return '+'.repeat(Math.min(MAX_BAR, Math.floor(score)));
  if (score <= -1) return '-'.repeat(Math.min(MAX_BAR, Math.floor(-score)));
  return '/';
}
