/**
 * What `npm run bench:sessions` accepts as an answer at end-of-message, with any scanner: the
 * scanner's verdict stamp (`X-Spam-Checker-Version: Spamward <version> …`, exactly once) then
 * CONTINUE, or a 5xx refusal; the failure policy's `X-Spam-Checker: unavailable` stamp passes too
 * but is counted apart. Anything else is an error. Each kind is counted, so a round can report how
 * many messages were scanned, refused or left unscanned.
 */
import type { Response } from '../src/milter/responses.ts';
import type { EomCheck } from './load-mta.ts';
import { text } from './verdict.ts';

/** Answers counted by kind (errors are the driver's). */
export interface VerdictCounts {
  scanned: number;
  rejected: number;
  unavailable: number;
}

/** The end-of-message check for Spamward `version`, counting each accepted answer in `counts`. */
export function countingCheck(version: string, counts: VerdictCounts): EomCheck {
  // A verdict is the scanner's stamp then CONTINUE, or a 5xx; `unavailable` (the failure policy's
  // stamp) is counted apart; anything else is an error.
  return (replies: readonly Response[]) => {
    const last = replies.at(-1);
    if (replies.length === 1 && last?.kind === 'replycode' && text(last.text).startsWith('5')) {
      counts.rejected++;
      return 'reject';
    }
    const headers = replies.flatMap((r) =>
      r.kind === 'addheader' ? [[text(r.name), text(r.value).trim()] as const] : [],
    );
    if (last?.kind !== 'continue')
      return `no final continue: ${replies.map((r) => r.kind).join(', ')}`;
    if (headers.some(([n, v]) => n === 'X-Spam-Checker' && v.startsWith('unavailable'))) {
      counts.unavailable++;
      return null;
    }
    if (
      headers.filter(
        ([n, v]) => n === 'X-Spam-Checker-Version' && v.startsWith(`Spamward ${version} `),
      ).length === 1
    ) {
      counts.scanned++;
      return null;
    }
    return `no verdict stamp: ${headers.map(([n, v]) => `${n}: ${v.slice(0, 60)}`).join('; ')}`;
  };
}
