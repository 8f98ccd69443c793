/**
 * What a filter decides about one message: a verdict plus modifications, independent of the
 * milter wire format (the session turns it into SMFIR_* replies).
 */

/** An SMTP reply the MTA should give the client, e.g. `550 5.7.1 Message rejected as spam`. */
export interface SmtpReply {
  /** 4xx for tempfail, 5xx for reject. */
  readonly code: number;
  /** Enhanced status code, e.g. `5.7.1`; its class must match `code`. */
  readonly enhanced?: string;
  /** One or more text lines (no CR/LF inside a line). */
  readonly lines: readonly string[];
}

/** The final word on a message. */
export type Verdict =
  | { readonly kind: 'accept' }
  | { readonly kind: 'reject'; readonly reply?: SmtpReply }
  | { readonly kind: 'tempfail'; readonly reply?: SmtpReply }
  | { readonly kind: 'discard' };

/** A change to the message, applied by the MTA before delivery. */
export type Modification =
  /** Appended after the last header. `value` is the text after "Name: " (folded with LF + whitespace). */
  | { readonly kind: 'add-header'; readonly name: string; readonly value: string | Buffer }
  /** Inserted at the MTA's header `index` (Postfix: 0 = above its own Received, 1 = top of what we saw). */
  | {
      readonly kind: 'insert-header';
      readonly index: number;
      readonly name: string;
      readonly value: string | Buffer;
    }
  /** Replaces the `occurrence`-th (1-based) header of that name; appended if there is no such one. */
  | {
      readonly kind: 'change-header';
      readonly name: string;
      readonly occurrence: number;
      readonly value: string | Buffer;
    }
  /** Deletes the `occurrence`-th (1-based) header of that name. */
  | { readonly kind: 'delete-header'; readonly name: string; readonly occurrence: number }
  | {
      readonly kind: 'add-recipient';
      readonly address: string | Buffer;
      readonly args?: readonly string[];
    }
  | { readonly kind: 'delete-recipient'; readonly address: string | Buffer }
  | {
      readonly kind: 'change-sender';
      readonly address: string | Buffer;
      readonly args?: readonly string[];
    }
  /** Replaces the whole body (CRLF line ends). */
  | { readonly kind: 'replace-body'; readonly body: Buffer }
  /** Holds the message (Postfix: hold queue); the reason is recorded by Sendmail only. */
  | { readonly kind: 'quarantine'; readonly reason: string };

/** A filter's answer for one message. */
export interface Decision {
  readonly verdict: Verdict;
  readonly modifications: readonly Modification[];
  /** Facts for the per-message log line (score, scanner, reason, reference id…); never secrets. */
  readonly notes?: Readonly<Record<string, string | number | boolean>>;
}
