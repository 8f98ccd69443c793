/**
 * What the daemon (built-in engine, reject at required + 100) must answer, checked on every reply
 * the load generator gets: CONTINUE to every step before end-of-message (SKIP allowed on a body
 * chunk), and at end-of-message, for corpus mail, header changes including exactly one
 * `X-Spam-Checker-Version: Spamward <version> (builtin) …` and a final CONTINUE (or, above the
 * scan limit, the `X-Spam-Checker: skipped` stamp); for GTUBE mail, REPLYCODE `550 5.7.1 …`.
 */
import type { Response } from '../src/milter/responses.ts';
import type { Expect } from './corpus.ts';

/** Replies as a short text, e.g. `addheader(X-Spamward: 0.1.0), continue`. */
export function describe(replies: readonly Response[]): string {
  return (
    replies
      .map((r) => {
        if (r.kind === 'addheader') return `addheader(${text(r.name)}:${text(r.value)})`;
        if (r.kind === 'replycode') return `replycode(${text(r.text)})`;
        return r.kind;
      })
      .join(', ') || '(nothing)'
  );
}

/** Null when a pre-EOB step's replies are acceptable, else why not. */
export function checkStep(replies: readonly Response[], body: boolean): string | null {
  const only = replies.length === 1 ? replies[0] : undefined;
  if (only?.kind === 'continue' || (body && only?.kind === 'skip')) return null;
  return `unexpected reply before end-of-message: ${describe(replies)}`;
}

/** Null when the end-of-message replies match `expect`, else why not. */
export function checkVerdict(
  replies: readonly Response[],
  expect: Expect,
  version: string,
): string | null {
  const [first] = replies;
  if (expect === 'reject') {
    if (
      replies.length === 1 &&
      first?.kind === 'replycode' &&
      text(first.text).startsWith('550 5.7.1 ')
    )
      return null;
    return `GTUBE not rejected with 550 5.7.1: ${describe(replies)}`;
  }
  const last = replies.at(-1);
  const stamps = replies.filter(
    (r) =>
      r.kind === 'addheader' &&
      ((text(r.name) === 'X-Spam-Checker-Version' &&
        text(r.value).trim().startsWith(`Spamward ${version} (builtin)`)) ||
        (text(r.name) === 'X-Spam-Checker' && text(r.value).trim().startsWith('skipped'))),
  );
  if (last?.kind === 'continue' && stamps.length === 1) return null;
  return `expected Spamward ${version} (builtin) stamped once, then continue: ${describe(replies)}`;
}

/** A reply field (header name or value, reply text) as a string; bytes are read as latin1. */
export function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
}
