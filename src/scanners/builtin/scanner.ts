/**
 * The built-in engine: GTUBE, a Bayesian classifier and a few header/body rules, scored on
 * SpamAssassin's scale (required 5.0) and returned as the same normalised Verdict spamd and rspamd
 * give, with spamd's action mapping (spam → reject, ham → no action). Needs no external daemon:
 * tokens live in SQLite or Redis (see store/). Never logs; failures are ScannerErrors.
 */
import { GTUBE } from '../../filter/gtube-filter.ts';
import { abortable } from '../../shared/abortable.ts';
import { startDeadline } from '../../shared/deadline.ts';
import { ScanAbortedError, ScanTimeoutError } from '../errors.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from '../scanner.ts';
import { ScanAction, type ScanSymbol, type Verdict } from '../verdict.ts';
import { BAYES_DEFAULTS, type BayesOptions, classify } from './bayes.ts';
import { bayesSymbol } from './bayes-bands.ts';
import { messageKey } from './message-key.ts';
import { parseMail } from './parse-mail.ts';
import { formatReport } from './report.ts';
import { RULES, type Rule, runRules } from './rules.ts';
import type { TokenStore } from './store/token-store.ts';
import { hashTokens } from './token-hash.ts';
import { tokenize } from './tokenize.ts';

/** How a built-in scanner is set up. */
export interface BuiltinScannerOptions {
  /** The URL it is known by (default `builtin`). */
  readonly url?: string;
  readonly store: TokenStore;
  /** The spam threshold; default 5.0. */
  readonly required?: number;
  /** Spam messages to learn before Bayes votes; default 200. */
  readonly minSpam?: number;
  /** Ham messages to learn before Bayes votes; default 200. */
  readonly minHam?: number;
  readonly bayes?: Partial<BayesOptions>;
  /** The header/body rules; default RULES. */
  readonly rules?: readonly Rule[];
  /** A scan waiting longer than this for its token store fails as a timeout; default 60 s. */
  readonly scanTimeoutMs?: number;
}

/** Defaults of the built-in engine. */
export const BUILTIN_DEFAULTS = {
  required: 5,
  minSpam: 200,
  minHam: 200,
  scanTimeoutMs: 60_000,
} as const;

/** The symbol a GTUBE message gets: far above any threshold. */
export const GTUBE_SYMBOL: ScanSymbol = {
  name: 'GTUBE',
  score: 1000,
  description: 'Generic Test for Unsolicited Bulk Email',
};

/** A Scanner that scores messages itself. */
export class BuiltinScanner implements Scanner {
  readonly url: string;
  private readonly store: TokenStore;
  private readonly required: number;
  private readonly minSpam: number;
  private readonly minHam: number;
  private readonly bayes: BayesOptions;
  private readonly rules: readonly Rule[];
  private readonly scanTimeoutMs: number;

  constructor(options: BuiltinScannerOptions) {
    this.url = options.url ?? 'builtin';
    this.store = options.store;
    this.required = options.required ?? BUILTIN_DEFAULTS.required;
    this.minSpam = options.minSpam ?? BUILTIN_DEFAULTS.minSpam;
    this.minHam = options.minHam ?? BUILTIN_DEFAULTS.minHam;
    this.bayes = { ...BAYES_DEFAULTS, ...options.bayes };
    this.rules = options.rules ?? RULES;
    this.scanTimeoutMs = options.scanTimeoutMs ?? BUILTIN_DEFAULTS.scanTimeoutMs;
  }

  /** Scores one message. */
  async scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    this.checkAborted(signal);
    const mail = await parseMail(request.message);
    this.checkAborted(signal);
    const symbols = runRules(mail, this.rules);
    // GTUBE decides alone: no store access, so the test string works even with a broken store.
    if (request.message.includes(GTUBE)) return this.verdict([GTUBE_SYMBOL, ...symbols]);
    const tokens = hashTokens(tokenize(mail));
    const { totals, counts } = await this.lookup(tokens, signal);
    if (totals.spam < this.minSpam || totals.ham < this.minHam) {
      symbols.push({
        name: 'BAYES_NOT_READY',
        score: 0,
        description: `Bayes is not used until it has learned ${this.minSpam} spam and ${this.minHam} ham`,
        options: [`learned ${totals.spam} spam, ${totals.ham} ham`],
      });
    } else {
      const result = classify(counts, totals, this.bayes);
      const symbol = bayesSymbol(result.probability);
      const detail = `${result.used.length} tokens used, ${result.unknown} of ${tokens.length} new`;
      symbols.push({ ...symbol, options: [...(symbol.options ?? []), detail] });
    }
    return this.verdict(symbols);
  }

  /** Checks that the token store answers. */
  async ping(signal: AbortSignal): Promise<void> {
    this.checkAborted(signal);
    await this.store.ping();
  }

  /** Learns a message as spam or ham, or forgets it; idempotent per message. */
  async learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    this.checkAborted(signal);
    const mail = await parseMail(request.message);
    this.checkAborted(signal);
    const learned = await this.store.learn(
      messageKey(request.message),
      kind,
      hashTokens(tokenize(mail)),
    );
    return { learned };
  }

  /** Closes the token store. */
  close(): Promise<void> {
    return this.store.close();
  }

  private verdict(unsorted: readonly ScanSymbol[]): Verdict {
    const symbols = [...unsorted].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    // Rounded like spamd's one-decimal scores are not: 3 decimals keep sums of 0.1s exact enough.
    const score = Math.round(symbols.reduce((sum, s) => sum + s.score, 0) * 1000) / 1000;
    const isSpam = score >= this.required;
    return {
      scanner: this.url,
      score,
      required: this.required,
      isSpam,
      action: isSpam ? ScanAction.Reject : ScanAction.NoAction,
      symbols,
      report: formatReport(score, this.required, symbols),
      addHeaders: [],
      removeHeaders: [],
    };
  }

  /**
   * The store's counts, unless the caller aborts or `scanTimeoutMs` passes first: a hung store
   * (Redis that accepts and never answers) fails as a hung spamd or rspamd does.
   */
  private async lookup(tokens: readonly number[], signal: AbortSignal) {
    const deadline = startDeadline({
      ms: this.scanTimeoutMs,
      reason: () => new ScanTimeoutError(this.url, this.scanTimeoutMs),
      follow: [signal],
    });
    try {
      return await abortable(this.store.lookup(tokens), deadline.signal);
    } catch (error) {
      if (signal.aborted) throw new ScanAbortedError(this.url, { cause: signal.reason });
      throw error;
    } finally {
      deadline.dispose();
    }
  }

  private checkAborted(signal: AbortSignal): void {
    if (signal.aborted) throw new ScanAbortedError(this.url, { cause: signal.reason });
  }
}
