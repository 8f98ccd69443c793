/**
 * The Bayesian classifier's arithmetic, in the SpamAssassin/SpamBayes tradition. Pure functions:
 * token counts in, a spam probability out. Gary Robinson's f(w) smooths each token's spam ratio
 * toward `x` by the strength `s` of that prior; the most decisive tokens are then combined with
 * Fisher's chi-square method, which says "unsure" (≈ 0.5) when the evidence disagrees instead
 * of being pushed to an extreme by many weak clues.
 */

/** How often a token was seen in learned spam and ham messages. */
export interface TokenCounts {
  readonly spam: number;
  readonly ham: number;
}

/** The number of spam and ham messages learned. */
export interface Totals {
  readonly spam: number;
  readonly ham: number;
}

/** Tuning of the classifier. */
export interface BayesOptions {
  /** Strength of the prior (Robinson's s). */
  readonly s: number;
  /** The prior for a token never seen before (Robinson's x). */
  readonly x: number;
  /** Tokens with |f(w) − 0.5| below this say too little and are skipped. */
  readonly minDeviation: number;
  /** At most this many of the most decisive tokens are combined. */
  readonly maxTokens: number;
}

/**
 * Defaults: SpamAssassin's tuned s = 0.16 and x = 0.538 (cross-validated on the training part of
 * the corpus, they separated spam from ham better than Robinson's plain s = 1, x = 0.5: fewer
 * messages in the unsure middle), and its 150 tokens and 0.1 cut-off.
 */
export const BAYES_DEFAULTS: BayesOptions = {
  s: 0.16,
  x: 0.538,
  minDeviation: 0.1,
  maxTokens: 150,
};

/** Robinson's f(w): the smoothed probability that a message containing the token is spam. */
export function tokenProbability(
  counts: TokenCounts,
  totals: Totals,
  options: BayesOptions,
): number {
  const n = counts.spam + counts.ham;
  if (n === 0 || totals.spam === 0 || totals.ham === 0) return options.x;
  // Ratios of messages, not raw counts, so an unbalanced training set does not bias p(w).
  const spamRatio = Math.min(counts.spam / totals.spam, 1);
  const hamRatio = Math.min(counts.ham / totals.ham, 1);
  const p = spamRatio / (spamRatio + hamRatio);
  return (options.s * options.x + n * p) / (options.s + n);
}

/**
 * The upper tail of the chi-square distribution with `dof` (even) degrees of freedom: the chance
 * that a chi-square variable is at least `chi2`. The series for even dof needs no gamma function.
 */
export function chi2Q(chi2: number, dof: number): number {
  const m = chi2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < dof / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/** Fisher/Robinson chi-square combining of token probabilities into one spam probability. */
export function combine(probabilities: readonly number[]): number {
  const n = probabilities.length;
  if (n === 0) return 0.5;
  let lnSpam = 0;
  let lnHam = 0;
  for (const p of probabilities) {
    lnSpam += Math.log(p);
    lnHam += Math.log1p(-p);
  }
  // S near 1: the tokens are jointly unlikely under "these are ham clues"; H likewise for ham.
  const spamminess = 1 - chi2Q(-2 * lnHam, 2 * n);
  const hamminess = 1 - chi2Q(-2 * lnSpam, 2 * n);
  return (1 + spamminess - hamminess) / 2;
}

/** The outcome of classifying one message. */
export interface BayesResult {
  /** Combined spam probability, 0..1 (0.5 when no token was decisive). */
  readonly probability: number;
  /** Indexes (into the input) of the tokens used, most decisive first, with their f(w). */
  readonly used: readonly { readonly index: number; readonly f: number }[];
  /** How many of the input tokens the store had never seen. */
  readonly unknown: number;
}

/** Classifies a message from its tokens' counts (undefined = token not in the store). */
export function classify(
  counts: readonly (TokenCounts | undefined)[],
  totals: Totals,
  options: BayesOptions = BAYES_DEFAULTS,
): BayesResult {
  const candidates: { index: number; f: number; deviation: number }[] = [];
  let unknown = 0;
  counts.forEach((c, index) => {
    if (c === undefined || c.spam + c.ham === 0) {
      unknown++;
      return;
    }
    const f = tokenProbability(c, totals, options);
    const deviation = Math.abs(f - 0.5);
    if (deviation >= options.minDeviation) candidates.push({ index, f, deviation });
  });
  // Ties broken by index so the result never depends on the sort's stability or input order quirks.
  candidates.sort((a, b) => b.deviation - a.deviation || a.index - b.index);
  const used = candidates.slice(0, options.maxTokens).map(({ index, f }) => ({ index, f }));
  return { probability: combine(used.map((u) => u.f)), used, unknown };
}
