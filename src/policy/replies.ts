/**
 * The texts the policy writes: SMTP replies (configured templates with placeholders, failure and
 * refusal replies), the unscanned stamp, and the reference id that ties a reply to its log line.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { Modification, SmtpReply } from '../filter/decision.ts';

/** The header that marks a message that passed without a full scan (skipped, failed, truncated). */
export const UNSCANNED_HEADER = 'X-Spam-Checker';

/** `X-Spam-Checker: <state>`, e.g. `unavailable (SCANNER_ALL_DOWN, ref 1a2b3c4d5e)`. */
export function unscanned(state: string): Modification {
  return { kind: 'add-header', name: UNSCANNED_HEADER, value: state };
}

/** A configured reply (`actions.rejectReply`…) with its placeholders filled. */
export function templateReply(
  template: Config['actions']['rejectReply'],
  fill: (text: string) => string,
): SmtpReply {
  return { code: template.code, enhanced: template.enhanced, lines: [fill(template.text)] };
}

/** The reply when scanning failed and the failure policy says tempfail (451) or reject (554). */
export function failureReply(action: 'tempfail' | 'reject', ref: string): SmtpReply {
  return action === 'tempfail'
    ? {
        code: 451,
        enhanced: '4.7.1',
        lines: [`Spam filter unavailable (ref ${ref}); try again later`],
      }
    : {
        code: 554,
        enhanced: '5.7.1',
        lines: [`Message could not be checked for spam (ref ${ref})`],
      };
}

/** A refusal by rule (access map REJECT): 550 5.7.1 with the map's text. */
export function refusedReply(text: string): SmtpReply {
  return { code: 550, enhanced: '5.7.1', lines: [text] };
}

/** Replaces `%{score}`, `%{required}`, `%{ref}` and `%{id}`; unknown placeholders stay as written. */
export function fillPlaceholders(
  text: string,
  values: { score: number; required: number; ref: string; id: string },
): string {
  return text.replace(/%\{(score|required|ref|id)\}/g, (_, key: keyof typeof values) =>
    String(values[key]),
  );
}

/** A short random reference id, shown to the sender and logged, to find a message again. */
export function randomRef(): string {
  return randomBytes(5).toString('hex');
}
