/**
 * The one shape every scanner's answer is normalised to (spamd, rspamd, the built-in engine), so
 * policy, headers and logs do not depend on which scanner scored.
 */

/** rspamd's action scale; spamd verdicts are mapped onto it (spam → reject, ham → no action). */
export const ScanAction = {
  NoAction: 'no action',
  Greylist: 'greylist',
  AddHeader: 'add header',
  RewriteSubject: 'rewrite subject',
  SoftReject: 'soft reject',
  Reject: 'reject',
} as const;

/** One of the recommended actions. */
export type ScanAction = (typeof ScanAction)[keyof typeof ScanAction];

/** A rule that fired. */
export interface ScanSymbol {
  readonly name: string;
  readonly score: number;
  readonly description?: string;
  /** rspamd's symbol options (e.g. the matched URL). */
  readonly options?: readonly string[];
}

/** A header the scanner wants added; `value` is unfolded or LF-folded text after "Name: ". */
export interface HeaderAdd {
  readonly name: string;
  readonly value: string;
  /** rspamd's `order`: insert position among the headers (undefined = append). */
  readonly order?: number;
}

/** A header the scanner wants removed: all occurrences (`index` 0) or the n-th (1-based). */
export interface HeaderRemove {
  readonly name: string;
  readonly index: number;
}

/** A normalised scan result. */
export interface Verdict {
  /** The scanner that answered, as a URL without credentials (e.g. `spamd://127.0.0.1:783`). */
  readonly scanner: string;
  readonly score: number;
  /** The scanner's spam threshold (spamd's required score, rspamd's reject score). */
  readonly required: number;
  readonly isSpam: boolean;
  readonly action: ScanAction;
  readonly symbols: readonly ScanSymbol[];
  /** Human-readable report (spamd REPORT text), if any. */
  readonly report?: string;
  /** Header changes the scanner asks for (rspamd's milter block). */
  readonly addHeaders: readonly HeaderAdd[];
  readonly removeHeaders: readonly HeaderRemove[];
  /** The rewritten subject, when the scanner asks for one (rspamd rewrite subject). */
  readonly subject?: string;
  /** The text rspamd suggests for the SMTP reply. */
  readonly smtpMessage?: string;
  /** spamd PROCESS (whole message) or HEADERS (header block only) output, as bytes. */
  readonly rewritten?: { readonly kind: 'message' | 'headers'; readonly bytes: Buffer };
  /** The scanner's own message id, when it reports one (rspamd `message-id`). */
  readonly messageId?: string;
}
