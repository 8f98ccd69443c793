/**
 * The scanning filter: message → scanner → policy → decision. It owns the order of things (size
 * check, scan under the caller's deadline, failure policy) and nothing else: what a verdict means
 * is the policy's business, how to reach the scanner is the scanner's.
 */
import type { Message } from '../message/message.ts';
import { renderMessage } from '../message/message.ts';
import type { Envelope, Scanner } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import type { Decision } from './decision.ts';
import type { MessageFilter } from './filter.ts';

/** How a message is handled before any scan: scanned, scanned but never refused, or not scanned. */
export type ScanMode =
  | { readonly mode: 'scan' }
  | { readonly mode: 'tag'; readonly reason: string }
  | { readonly mode: 'skip'; readonly reason: string }
  /** Refused without a scan (access map REJECT / DISCARD); `text` is the map's reply text. */
  | {
      readonly mode: 'refuse';
      readonly kind: 'reject' | 'discard';
      readonly reason: string;
      readonly text?: string | undefined;
    };

/** Turns what happened to a message into a decision. */
export interface Policy {
  /** Whether and how to scan (trusted clients, authenticated senders, opted-out recipients). */
  scanMode(message: Message): ScanMode;
  /** What the scanner is told of the envelope (per-user preferences included). */
  envelope(message: Message): Envelope;
  /** Not scanned because of who sent it or to whom: passed unchanged. */
  trusted(message: Message, reason: string): Decision;
  /** Refused by rule before any scan. */
  refused(message: Message, mode: Extract<ScanMode, { mode: 'refuse' }>): Decision;
  /** The scanner answered; with mode `tag` the result is never stronger than tagging. */
  decide(message: Message, verdict: Verdict, mode?: ScanMode): Decision;
  /** The message was not scanned on purpose (e.g. too big). */
  skipped(message: Message, reason: string): Decision;
  /** Scanning failed. */
  failed(message: Message, error: unknown): Decision;
}

/** How the filter treats a message whose body was cut at the scan limit. */
export interface ScanFilterOptions {
  /** Scan the first part (true) or do not scan it at all (false, like spamc). */
  readonly scanTruncated: boolean;
}

/** A MessageFilter that scans every message with `scanner` and lets `policy` decide. */
export class ScanFilter implements MessageFilter {
  readonly #scanner: Scanner;
  readonly #policy: Policy;
  readonly #options: ScanFilterOptions;

  constructor(
    scanner: Scanner,
    policy: Policy,
    options: ScanFilterOptions = { scanTruncated: false },
  ) {
    this.#scanner = scanner;
    this.#policy = policy;
    this.#options = options;
  }

  async filter(message: Message, signal: AbortSignal): Promise<Decision> {
    const mode = this.#policy.scanMode(message);
    if (mode.mode === 'skip') return this.#policy.trusted(message, mode.reason);
    if (mode.mode === 'refuse') return this.#policy.refused(message, mode);
    // The session keeps at most maxScanBytes of body; by default a cut body is not judged (like
    // spamc). When configured, the first part is scanned; the MTA still delivers the whole body.
    if (message.bodyTruncated && !this.#options.scanTruncated)
      return this.#policy.skipped(
        message,
        `larger than the scan limit (${message.bodyBytes} body bytes)`,
      );
    let verdict: Verdict;
    try {
      verdict = await this.#scanner.scan(
        { message: renderMessage(message), envelope: this.#policy.envelope(message) },
        signal,
      );
    } catch (error) {
      return this.#policy.failed(message, error);
    }
    try {
      return this.#policy.decide(message, verdict, mode);
    } catch (error) {
      // A verdict the policy cannot apply (e.g. spamd's rewritten message does not parse) is a
      // bad scanner answer: the failure policy decides, nothing is half-applied.
      return this.#policy.failed(message, error);
    }
  }
}
