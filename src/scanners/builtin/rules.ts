/**
 * The header and body rules: a few cheap, well-known signs of bulk mail, each with a fixed
 * weight on the same scale as the Bayes bands (required 5.0). They are deliberately light: no
 * rule alone, nor all of them together without Bayes, makes a message spam; they tip messages
 * Bayes is unsure about. Weights, in the spirit of SpamAssassin's rules of the same names:
 *
 * | rule              | score | fires when                                                    |
 * |-------------------|-------|---------------------------------------------------------------|
 * | MISSING_DATE      |  1.0  | no Date header                                                |
 * | MISSING_MID       |  0.5  | no Message-ID header                                          |
 * | MIME_HTML_ONLY    |  0.7  | an HTML body and no plain-text alternative                    |
 * | SUBJ_ALL_CAPS     |  1.0  | subject of ≥ 10 letters, all capitals                         |
 * | SUBJ_MOSTLY_CAPS  |  0.5  | subject of ≥ 10 letters, over 70 % capitals (but not all)     |
 * | SUBJ_EXCLAIM      |  0.5  | subject with "!!" or three or more "!"                        |
 * | BODY_EXCLAIM      |  0.5  | body with three or more runs of "!!!"                         |
 * | EMPTY_BODY        |  1.0  | no visible text and no attachment                             |
 * | RCVD_FORGED_CHAIN |  1.0  | Received chain with impossible IPs or dates far out of order  |
 */
import type { ScanSymbol } from '../verdict.ts';
import { header, type ParsedMail } from './parse-mail.ts';
import { forgedReceived } from './received-chain.ts';

/** One rule: a name, a weight and a test (which may give a reason to show as the option). */
export interface Rule {
  readonly name: string;
  readonly score: number;
  readonly description: string;
  /** True (or a reason) when the rule fires. */
  readonly test: (mail: ParsedMail) => boolean | string;
}

/** The rules, in report order. */
export const RULES: readonly Rule[] = [
  {
    name: 'MISSING_DATE',
    score: 1.0,
    description: 'Missing Date: header',
    test: (mail) => header(mail, 'date') === undefined,
  },
  {
    name: 'MISSING_MID',
    score: 0.5,
    description: 'Missing Message-Id: header',
    test: (mail) => header(mail, 'message-id') === undefined,
  },
  {
    name: 'MIME_HTML_ONLY',
    score: 0.7,
    description: 'Message only has text/html MIME parts',
    test: (mail) => mail.html.trim() !== '' && mail.text.trim() === '',
  },
  {
    name: 'SUBJ_ALL_CAPS',
    score: 1.0,
    description: 'Subject is all capitals',
    test: (mail) => capitals(header(mail, 'subject')) === 1,
  },
  {
    name: 'SUBJ_MOSTLY_CAPS',
    score: 0.5,
    description: 'Subject is mostly capitals',
    test: (mail) => {
      const share = capitals(header(mail, 'subject'));
      return share > 0.7 && share < 1;
    },
  },
  {
    name: 'SUBJ_EXCLAIM',
    score: 0.5,
    description: 'Subject has excessive exclamation marks',
    test: (mail) => /!!|!.*!.*!/.test(header(mail, 'subject') ?? ''),
  },
  {
    name: 'BODY_EXCLAIM',
    score: 0.5,
    description: 'Body has many runs of exclamation marks',
    test: (mail) => (mail.visibleText.match(/!!!+/g)?.length ?? 0) >= 3,
  },
  {
    name: 'EMPTY_BODY',
    score: 1.0,
    description: 'Message has no visible text and no attachment',
    test: (mail) => mail.visibleText.trim() === '' && mail.attachments.length === 0,
  },
  {
    name: 'RCVD_FORGED_CHAIN',
    score: 1.0,
    description: 'Received headers look forged',
    test: (mail) => forgedReceived(mail) ?? false,
  },
];

/** The share of capitals among the letters of `text`, or 0 when it has fewer than 10 letters. */
export function capitals(text: string | undefined): number {
  const letters = (text ?? '').replace(/^\s*(?:(?:re|fw|fwd|aw|sv)\s*:\s*)+/i, '').match(/\p{L}/gu);
  if (letters === null || letters.length < 10) return 0;
  const upper = letters.filter((c) => c !== c.toLowerCase()).length;
  return upper / letters.length;
}

/** The symbols of the rules that fire for `mail`. */
export function runRules(mail: ParsedMail, rules: readonly Rule[] = RULES): ScanSymbol[] {
  const out: ScanSymbol[] = [];
  for (const rule of rules) {
    const hit = rule.test(mail);
    if (hit === false) continue;
    const symbol = { name: rule.name, score: rule.score, description: rule.description };
    out.push(typeof hit === 'string' ? { ...symbol, options: [hit] } : symbol);
  }
  return out;
}
