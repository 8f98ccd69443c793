/**
 * Watchers for `explain`: a Scanner and a Policy that pass every call through unchanged and
 * remember what they were asked and what came back, so the real ScanFilter can run while the
 * report records each stage.
 */
import type { Decision } from '../filter/decision.ts';
import type { Policy, ScanMode } from '../filter/scan-filter.ts';
import type { Message } from '../message/message.ts';
import type {
  Envelope,
  LearnKind,
  LearnResult,
  Scanner,
  ScanRequest,
} from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';

/** The policy step that produced the decision. */
export type PolicyCall =
  | { readonly step: 'trusted'; readonly reason: string }
  | { readonly step: 'refused'; readonly mode: Extract<ScanMode, { mode: 'refuse' }> }
  | { readonly step: 'skipped'; readonly reason: string }
  | { readonly step: 'decide'; readonly verdict: Verdict; readonly mode: ScanMode | undefined }
  | { readonly step: 'failed'; readonly error: unknown };

/** A Scanner that records the request and the verdict or error of its last scan. */
export class RecordingScanner implements Scanner {
  readonly url: string;
  readonly #inner: Scanner;
  /** The last request. */
  request: ScanRequest | undefined;
  /** The last verdict. */
  verdict: Verdict | undefined;
  /** The last failure. */
  error: unknown;

  /** Closes the scanner it watches. */
  close(): Promise<void> {
    return this.#inner.close?.() ?? Promise.resolve();
  }

  constructor(inner: Scanner) {
    this.#inner = inner;
    this.url = inner.url;
  }

  async scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    this.request = request;
    try {
      this.verdict = await this.#inner.scan(request, signal);
      return this.verdict;
    } catch (error) {
      this.error = error;
      throw error;
    }
  }

  ping(signal: AbortSignal): Promise<void> {
    return this.#inner.ping(signal);
  }

  learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    return this.#inner.learn(kind, request, signal);
  }
}

/** A Policy that records the scan mode it gave and the step that decided. */
export class RecordingPolicy implements Policy {
  readonly #inner: Policy;
  /** The scan mode returned to the filter. */
  mode: ScanMode | undefined;
  /** The last deciding step (a filter error after `decide` would show as `failed`). */
  call: PolicyCall | undefined;

  constructor(inner: Policy) {
    this.#inner = inner;
  }

  scanMode(message: Message): ScanMode {
    this.mode = this.#inner.scanMode(message);
    return this.mode;
  }

  envelope(message: Message): Envelope {
    return this.#inner.envelope(message);
  }

  trusted(message: Message, reason: string): Decision {
    this.call = { step: 'trusted', reason };
    return this.#inner.trusted(message, reason);
  }

  refused(message: Message, mode: Extract<ScanMode, { mode: 'refuse' }>): Decision {
    this.call = { step: 'refused', mode };
    return this.#inner.refused(message, mode);
  }

  decide(message: Message, verdict: Verdict, mode?: ScanMode): Decision {
    this.call = { step: 'decide', verdict, mode };
    return this.#inner.decide(message, verdict, mode);
  }

  skipped(message: Message, reason: string): Decision {
    this.call = { step: 'skipped', reason };
    return this.#inner.skipped(message, reason);
  }

  failed(message: Message, error: unknown): Decision {
    this.call = { step: 'failed', error };
    return this.#inner.failed(message, error);
  }
}
