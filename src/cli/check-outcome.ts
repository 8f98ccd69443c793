/**
 * What `spamward check` does with the daemon's decision for a piped message, pure. A pipe comes
 * after the MTA accepted the mail: it can tag it, or tell its caller, but it cannot refuse it,
 * and it never bounces spam (a bounce after acceptance is backscatter). So:
 *
 * | decision (as the milter would take it)      | message written / given to the LDA | filter | --exitcode | --reject-text   | --exec        |
 * |---------------------------------------------|------------------------------------|--------|------------|-----------------|---------------|
 * | ham, or not scanned (trusted, skipped, big)  | with Spamward's headers            | 0      | 0          | 0, nothing      | LDA's code    |
 * | scanner failed, `failure.*: accept`          | with `X-Spam-Checker: unavailable` | 0      | 0          | 0, nothing      | LDA's code    |
 * | spam: tag, quarantine                        | tagged (quarantine is not held)    | 0      | 1          | 1, reject text  | LDA's code    |
 * | spam: reject (score or scanner's action)     | tagged as `tag` would              | 0      | 1          | 1, its reply    | LDA's code    |
 * | tempfail by score (greylist, soft reject)    | tagged as `tag` would              | 0      | 1 if spam  | as --exitcode   | LDA's code    |
 * | discard (score or access map)                | tagged (unchanged if not scanned)  | 0      | 1          | 1, reject text  | 0, LDA not run |
 * | reject by rule (access map), RCPT refused    | unchanged                          | 0      | 1          | 1, its reply    | LDA's code    |
 * | scanner failed, `failure.*: tempfail`        | nothing                            | 75     | 75         | 75, 451 reply   | 75, not run   |
 * | scanner failed, `failure.*: reject`          | nothing                            | 69     | 69         | 69, 554 reply   | 69, not run   |
 * | dry run                                      | unchanged                          | 0      | 0          | 0, nothing      | LDA's code    |
 *
 * A discard in filter modes still writes the message: maildrop's xfilter and procmail's `fw`
 * deliver whatever the filter wrote, so an empty output would deliver an empty message; the
 * caller drops it on exit code 1 instead. Recipient and sender changes (routing, access-map
 * DISCARD of some recipients) are not applied: a pipe delivers to the one mailbox it serves.
 */
import type { Config } from '../config/schema.ts';
import { fillPlaceholders, templateReply } from '../policy/replies.ts';
import { assertNever } from '../shared/assert-never.ts';
import type { OutputMode } from './check-args.ts';
import type { Explanation } from './explain-model.ts';

/** How the message came out of the policy. */
export type PipeClass =
  | 'ham'
  | 'spam'
  /** Refused by rule or at RCPT time: not scanned, counts as spam for the exit code. */
  | 'refused'
  | 'discard'
  /** Scanning failed and the failure policy says tempfail. */
  | 'tempfail'
  /** Scanning failed and the failure policy says reject. */
  | 'failed-reject';

/** Which bytes stand for the message. */
export type MessageSource =
  /** The resulting message of the decision (accept). */
  | 'result'
  /** The message stamped as the policy stamps it in tag-only mode (the decision refused it). */
  | 'tagged'
  /** The input, unchanged. */
  | 'original';

/** The decision, classified for a pipe. */
export interface PipeOutcome {
  readonly class: PipeClass;
  readonly message: MessageSource;
  /** The reply the milter would give, or give if it rejected spam (`550 5.7.1 …`); may be empty. */
  readonly reply: readonly string[];
}

/** What to do: write the message or the reply text or nothing, run the LDA, exit with code. */
export interface PipeAction {
  readonly write: 'message' | 'reply' | 'nothing';
  /** Give the message to the `--exec` command; its exit code becomes ours. */
  readonly runLda: boolean;
  /** The exit code (when runLda: used only if the LDA cannot be run to the end). */
  readonly exit: number;
}

/** sysexits.h codes used here. */
export const EX = { OK: 0, SPAM: 1, UNAVAILABLE: 69, TEMPFAIL: 75 } as const;

const SPAMMY = new Set(['tag', 'quarantine', 'reject', 'discard']);

/** The configured reject reply for spam that was not rejected, filled as the policy fills it. */
function spamReply(config: Config, explanation: Explanation): string[] {
  const notes = explanation.decision?.notes ?? {};
  const reply = templateReply(config.actions.rejectReply, (text) =>
    fillPlaceholders(text, {
      score: Number(notes['score'] ?? 0),
      required: Number(notes['required'] ?? 0),
      ref: String(notes['ref'] ?? ''),
      id: explanation.envelope.queueId,
    }),
  );
  return reply.lines.map(
    (line, i) =>
      `${reply.code}${i === reply.lines.length - 1 ? ' ' : '-'}${reply.enhanced} ${line}`,
  );
}

/** Sorts the daemon's decision (as `explain` reports it) into the table above. */
export function classifyDecision(explanation: Explanation, config: Config): PipeOutcome {
  const { decision, scan, reply } = explanation;
  if (decision === null) {
    const refused = explanation.rcpt.find((r) => r.refused !== null)?.refused;
    return { class: 'refused', message: 'original', reply: [refused ?? reply.lines.join(' ')] };
  }
  if (decision.dryRun) return { class: 'ham', message: 'result', reply: [] };
  const scanned = scan.status === 'scanned';
  const failed = scan.status === 'failed';
  const isSpam = scanned && scan.verdict.isSpam;
  switch (decision.verdict) {
    case 'accept':
      return SPAMMY.has(decision.action)
        ? { class: 'spam', message: 'result', reply: spamReply(config, explanation) }
        : { class: 'ham', message: 'result', reply: [] };
    case 'discard':
      return {
        class: 'discard',
        message: scanned ? 'tagged' : 'original',
        reply: spamReply(config, explanation),
      };
    case 'reject':
      if (failed) return { class: 'failed-reject', message: 'original', reply: reply.lines };
      return scanned
        ? { class: 'spam', message: 'tagged', reply: reply.lines }
        : { class: 'refused', message: 'original', reply: reply.lines };
    case 'tempfail':
      if (failed) return { class: 'tempfail', message: 'original', reply: reply.lines };
      return isSpam
        ? { class: 'spam', message: 'tagged', reply: spamReply(config, explanation) }
        : { class: 'ham', message: scanned ? 'tagged' : 'original', reply: [] };
    default:
      return assertNever(decision.verdict);
  }
}

/** The action for a class of outcome under an output mode: the table above. */
export function pipeAction(kind: PipeClass, mode: OutputMode): PipeAction {
  switch (kind) {
    case 'tempfail':
    case 'failed-reject': {
      const exit = kind === 'tempfail' ? EX.TEMPFAIL : EX.UNAVAILABLE;
      return { write: mode === 'reject-text' ? 'reply' : 'nothing', runLda: false, exit };
    }
    case 'ham':
    case 'spam':
    case 'refused':
    case 'discard': {
      const spammy = kind !== 'ham';
      switch (mode) {
        case 'filter':
          return { write: 'message', runLda: false, exit: EX.OK };
        case 'exitcode':
          return { write: 'message', runLda: false, exit: spammy ? EX.SPAM : EX.OK };
        case 'reject-text':
          return spammy
            ? { write: 'reply', runLda: false, exit: EX.SPAM }
            : { write: 'nothing', runLda: false, exit: EX.OK };
        case 'exec':
          return kind === 'discard'
            ? { write: 'nothing', runLda: false, exit: EX.OK }
            : { write: 'message', runLda: true, exit: EX.TEMPFAIL };
        default:
          return assertNever(mode);
      }
    }
    default:
      return assertNever(kind);
  }
}
