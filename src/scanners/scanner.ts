/**
 * The scanner interface: one message in, one normalised Verdict out, cancellable by AbortSignal.
 * spamd, rspamd, the pool and the built-in engine all implement it.
 */
import type { Verdict } from './verdict.ts';

/** What the MTA told us about the message, for scanners that use it (rspamd headers, spamd Received). */
export interface Envelope {
  /** Client IP address (no brackets, no `IPv6:` tag). */
  readonly clientAddress?: string;
  /** Verified client host name, if any. */
  readonly clientName?: string;
  readonly helo?: string;
  /** Envelope sender without angle brackets; empty string for the null sender. */
  readonly sender?: string;
  /** Envelope recipients without angle brackets. */
  readonly recipients: readonly string[];
  /** SMTP AUTH user, if the client authenticated. */
  readonly authUser?: string;
  readonly queueId?: string;
  /** The MTA's host name (macro `j`), for the synthesised Received header and rspamd's MTA-Name. */
  readonly mtaName?: string;
  /** Whose preferences to use (spamd `User:`, rspamd `Deliver-To`). */
  readonly prefsUser?: string;
}

/** One message to scan. */
export interface ScanRequest {
  /** The whole message, CRLF line ends, as the MTA would deliver it. */
  readonly message: Buffer;
  readonly envelope: Envelope;
}

/** What to teach a scanner's classifier. */
export type LearnKind = 'spam' | 'ham' | 'forget';

/** The outcome of a learn call. */
export interface LearnResult {
  /** False when the scanner already knew this message as that class (not an error). */
  readonly learned: boolean;
}

/** A spam scanner. Implementations never log; failures are ScannerError subclasses. */
export interface Scanner {
  /** The scanner's address without credentials, e.g. `rspamd://127.0.0.1:11333`. */
  readonly url: string;
  /** Scans one message. Rejects with a ScannerError; aborting `signal` cancels the request. */
  scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict>;
  /** Checks that the scanner answers. */
  ping(signal: AbortSignal): Promise<void>;
  /** Teaches the scanner's classifier, where it has one. */
  learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult>;
  /** Releases what it holds open (store files, Redis connections); unusable afterwards. */
  close?(): Promise<void>;
}
