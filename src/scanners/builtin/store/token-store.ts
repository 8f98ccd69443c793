/**
 * Where the Bayes classifier keeps what it learned: per token, in how many spam and ham messages
 * it occurred; per learned message, its class; and the number of spam and ham messages learned.
 * Two implementations share this contract (and one test suite): SQLite for a single host, Redis
 * for sharing between instances. Failures are StoreError / StoreUnavailableError, never raw
 * driver errors.
 */
import type { TokenCounts, Totals } from '../bayes.ts';

/** What a message is learned as; `forget` removes it. */
export type LearnClass = 'spam' | 'ham' | 'forget';

/** Everything a scan needs from the store, read in one go. */
export interface Snapshot {
  readonly totals: Totals;
  /** Aligned with the tokens asked for; undefined for a token never learned. */
  readonly counts: readonly (TokenCounts | undefined)[];
}

/** A token store. Token ids are tokenHash values (integers below 2^52). */
export interface TokenStore {
  /** Counts for `tokens` and the totals. */
  lookup(tokens: readonly number[]): Promise<Snapshot>;
  /** The number of spam and ham messages learned. */
  totals(): Promise<Totals>;
  /**
   * Learns the message `key` (see messageKey) with its tokens as `kind`, atomically: a message
   * already known as that class changes nothing (false); one known as the other class is moved;
   * `forget` removes a known message (false when it was not known). Counts never go below zero,
   * even when the tokenizer changed since the message was learned.
   */
  learn(key: string, kind: LearnClass, tokens: readonly number[]): Promise<boolean>;
  /** The class a message is learned as, if any. */
  learnedAs(key: string): Promise<'spam' | 'ham' | undefined>;
  /** Checks that the store answers. */
  ping(): Promise<void>;
  /** Releases the connection or file; the store is unusable afterwards. */
  close(): Promise<void>;
}
