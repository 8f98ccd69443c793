/**
 * The verdict headers every scanned message gets, in the configured profile, rendered the same
 * way whichever scanner scored. Pure: no I/O, no clock.
 */
import type { Modification } from '../filter/decision.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { assertNever } from '../shared/assert-never.ts';
import { cleanSymbols, type RenderedHeader } from './common.ts';
import { rspamdHeaders } from './rspamd-headers.ts';
import { spamAssassinHeaders } from './spamassassin-headers.ts';

export type { RenderedHeader } from './common.ts';

/** The header families Spamward can write. */
export const HeaderProfile = {
  SpamAssassin: 'spamassassin',
  Rspamd: 'rspamd',
  Both: 'both',
} as const;

/** One of the header profiles. */
export type HeaderProfile = (typeof HeaderProfile)[keyof typeof HeaderProfile];

/** How to render the verdict headers. */
export interface SpamHeaderOptions {
  readonly profile: HeaderProfile;
  /** X-Spam-Checker-Version text, e.g. `Spamward 0.1.0 (spamd 4.0.1)`. */
  readonly checkerVersion: string;
  /** The MTA queue id (X-Rspamd-Queue-Id). */
  readonly queueId?: string;
  /** This host's name (X-Spam-Checker-Version `on <host>`, X-Rspamd-Server). */
  readonly hostname?: string;
  /** Include X-Spam-Report (the spamassassin profile's per-rule lines). */
  readonly report: boolean;
  /** X-Spam-Level character; default `*`. */
  readonly levelChar?: string;
  /** Write `X-Spam-Flag: NO` on ham as well; default false (SpamAssassin flags spam only). */
  readonly flagOnHam?: boolean;
  /** A `version=` token for X-Spam-Status, e.g. `4.0.1`; left out by default. */
  readonly scannerVersion?: string;
}

/**
 * The headers for `verdict` in the chosen profile (spamassassin's first for `both`), values
 * folded with LF + TAB, 7-bit (RFC 2047 where the scanner's text is not ASCII), without the
 * leading space. Throws a RangeError for a `levelChar` that is not one printable ASCII character.
 */
export function renderSpamHeaders(verdict: Verdict, options: SpamHeaderOptions): RenderedHeader[] {
  const levelChar = options.levelChar ?? '*';
  if (!/^[\x21-\x7e]$/.test(levelChar)) {
    throw new RangeError(
      `levelChar must be one printable ASCII character, not ${JSON.stringify(levelChar)}`,
    );
  }
  const symbols = cleanSymbols(verdict.symbols);
  const spamassassin = () =>
    spamAssassinHeaders(verdict, symbols, {
      checkerVersion: options.checkerVersion,
      report: options.report,
      levelChar,
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
      ...(options.flagOnHam === undefined ? {} : { flagOnHam: options.flagOnHam }),
      ...(options.scannerVersion === undefined ? {} : { scannerVersion: options.scannerVersion }),
    });
  const rspamd = () =>
    rspamdHeaders(verdict, symbols, {
      ...(options.queueId === undefined ? {} : { queueId: options.queueId }),
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    });
  switch (options.profile) {
    case HeaderProfile.SpamAssassin:
      return spamassassin();
    case HeaderProfile.Rspamd:
      return rspamd();
    case HeaderProfile.Both:
      return [...spamassassin(), ...rspamd()];
    default:
      return assertNever(options.profile);
  }
}

/** The same headers as `add-header` modifications (appended at the end of the header block). */
export function spamHeaderModifications(
  verdict: Verdict,
  options: SpamHeaderOptions,
): Modification[] {
  return renderSpamHeaders(verdict, options).map(({ name, value }) => ({
    kind: 'add-header',
    name,
    value,
  }));
}
