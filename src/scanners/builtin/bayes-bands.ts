/**
 * Bayes probability → score, in bands named like SpamAssassin's BAYES_00 … BAYES_99. The weights
 * are ours, not SpamAssassin's: there, Bayes is one voice among hundreds of rules and BAYES_99
 * weighs 3.5; here it is the main voice, so a near-certain Bayes verdict (≥ 0.99) alone reaches
 * the required 5.0 and the few header/body rules only tip the unsure middle.
 *
 * | symbol    | probability   | score |
 * |-----------|---------------|-------|
 * | BAYES_00  | 0    – 0.01   |  −2.0 |
 * | BAYES_05  | 0.01 – 0.05   |  −1.0 |
 * | BAYES_20  | 0.05 – 0.20   |  −0.5 |
 * | BAYES_40  | 0.20 – 0.40   |  −0.1 |
 * | BAYES_50  | 0.40 – 0.60   |   0.0 |
 * | BAYES_60  | 0.60 – 0.80   |   2.0 |
 * | BAYES_80  | 0.80 – 0.95   |   3.5 |
 * | BAYES_95  | 0.95 – 0.99   |   4.5 |
 * | BAYES_99  | 0.99 – 0.999  |   5.0 |
 * | BAYES_999 | 0.999 – 1     |   5.5 |
 *
 * So Bayes alone decides from 0.99 on; from 0.95 one light rule tips it, from 0.8 rules worth
 * 1.5, from 0.6 rules worth 3. Chosen on a cross-validation of the corpus's training part, where
 * almost no ham reached 0.6 while most of the spam Bayes was unsure about sat between 0.6 and 0.99.
 *
 * Each band includes its lower bound; 1.0 itself falls in BAYES_999.
 */
import type { ScanSymbol } from '../verdict.ts';

/** One band: probabilities from `from` (inclusive) up to the next band's `from`. */
export interface BayesBand {
  readonly name: string;
  readonly from: number;
  readonly score: number;
}

/** The bands, lowest first (see the table above). */
export const BAYES_BANDS: readonly BayesBand[] = [
  { name: 'BAYES_00', from: 0, score: -2.0 },
  { name: 'BAYES_05', from: 0.01, score: -1.0 },
  { name: 'BAYES_20', from: 0.05, score: -0.5 },
  { name: 'BAYES_40', from: 0.2, score: -0.1 },
  { name: 'BAYES_50', from: 0.4, score: 0 },
  { name: 'BAYES_60', from: 0.6, score: 2.0 },
  { name: 'BAYES_80', from: 0.8, score: 3.5 },
  { name: 'BAYES_95', from: 0.95, score: 4.5 },
  { name: 'BAYES_99', from: 0.99, score: 5.0 },
  { name: 'BAYES_999', from: 0.999, score: 5.5 },
];

/** The band a probability falls in. */
export function bayesBand(probability: number): BayesBand {
  let found = BAYES_BANDS[0] as BayesBand;
  for (const band of BAYES_BANDS) if (probability >= band.from) found = band;
  return found;
}

/** The symbol for a probability, e.g. BAYES_95 3.5 "Bayes spam probability is 95 to 99%". */
export function bayesSymbol(probability: number): ScanSymbol {
  const band = bayesBand(probability);
  const next = BAYES_BANDS[BAYES_BANDS.indexOf(band) + 1];
  const upper = next === undefined ? '100' : percent(next.from);
  return {
    name: band.name,
    score: band.score,
    description: `Bayes spam probability is ${percent(band.from)} to ${upper}%`,
    options: [probability.toFixed(4)],
  };
}

function percent(p: number): string {
  return String(Math.round(p * 1000) / 10);
}
