/**
 * The configured policy: verdict → action → decision (headers, subject, reply, quarantine), and
 * the same stamps and replies when a message is skipped or scanning fails. Pure apart from the
 * reference id; the ScanFilter calls it, the adapter logs its notes.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { Decision, Modification, SmtpReply } from '../filter/decision.ts';
import type { Policy, ScanMode } from '../filter/scan-filter.ts';
import type { HeaderField, Message } from '../message/message.ts';
import type { RcptGate } from '../milter/session.ts';
import type { Envelope } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { assertNever } from '../shared/assert-never.ts';
import { containsBypassPhrase } from './bypass.ts';
import { chooseAction } from './choose-action.ts';
import { envelopeOf } from './envelope.ts';
import { failureOutcome } from './failure.ts';
import { type HeaderKit, headerKit } from './header-kit.ts';
import { prefsUserOf } from './prefs-user.ts';
import { type RoutingClass, routingFor } from './routing.ts';
import { TrustRules } from './trust.ts';

/** The header that marks a message that passed without a scan (skipped or scanner failure). */
export const UNSCANNED_HEADER = 'X-Spam-Checker';

/** Facts about this installation the policy writes into headers. */
export interface PolicyInfo {
  readonly version: string;
  readonly hostname: string;
}

/** The Policy built from the configuration. */
export class ConfiguredPolicy implements Policy {
  readonly #config: Config;
  readonly #kit: HeaderKit;
  readonly #newRef: () => string;
  readonly #trust: TrustRules;

  constructor(
    config: Config,
    info: PolicyInfo,
    kit: HeaderKit = headerKit(config, info),
    newRef: () => string = randomRef,
  ) {
    this.#config = config;
    this.#kit = kit;
    this.#newRef = newRef;
    this.#trust = new TrustRules(config.trust);
  }

  /** The recipient cap for untrusted clients: 452 4.5.3 past `trust.maxRecipients`. */
  readonly rcptGate: RcptGate = ({ client, accepted, authUser }) => {
    const max = this.#config.trust.maxRecipients;
    if (max === null || accepted < max) return undefined;
    if (client.family === 'L' || this.#trust.trustedClient(client.address, authUser))
      return undefined;
    return {
      kind: 'tempfail',
      reply: { code: 452, enhanced: '4.5.3', lines: ['Too many recipients'] },
    };
  };

  scanMode(message: Message): ScanMode {
    const mode = this.#trust.scanMode(message);
    const phrase = this.#config.scan.bypassPhrase;
    if (mode.mode === 'scan' && phrase !== null && containsBypassPhrase(message, phrase))
      return { mode: 'tag', reason: 'bypass phrase present' };
    return mode;
  }

  envelope(message: Message): Envelope {
    const prefsUser = prefsUserOf(message, this.#config.scan.prefsUser);
    return { ...envelopeOf(message), ...(prefsUser === undefined ? {} : { prefsUser }) };
  }

  trusted(message: Message, reason: string): Decision {
    const notes = {
      ref: this.#newRef(),
      action: 'accept',
      reason: `not scanned: ${reason}`,
      skipped: true,
    };
    if (this.#config.dryRun) return { verdict: { kind: 'accept' }, modifications: [], notes };
    return { verdict: { kind: 'accept' }, modifications: this.#route(message, 'unscanned'), notes };
  }

  decide(message: Message, verdict: Verdict, mode: ScanMode = { mode: 'scan' }): Decision {
    const ref = this.#newRef();
    const strongest = chooseAction(verdict, this.#config.actions);
    // Trusted or authenticated mail in "tag" mode is stamped but never refused.
    const capped = mode.mode === 'tag' && strongest.kind !== 'accept' && strongest.kind !== 'tag';
    const chosen = capped
      ? {
          kind: verdict.isSpam ? ('tag' as const) : ('accept' as const),
          reason: `${strongest.reason}; tag only: ${mode.reason}`,
        }
      : strongest;
    const notes = {
      ref,
      scanner: verdict.scanner,
      score: verdict.score,
      required: verdict.required,
      action: chosen.kind,
      reason: chosen.reason,
      ...(this.#config.dryRun ? { dryRun: true } : {}),
    };
    if (this.#config.dryRun) return { verdict: { kind: 'accept' }, modifications: [], notes };
    const fill = (text: string): string =>
      fillPlaceholders(text, {
        score: verdict.score,
        required: verdict.required,
        ref,
        id: message.id,
      });
    switch (chosen.kind) {
      case 'reject':
        return {
          verdict: { kind: 'reject', reply: reply(this.#config.actions.rejectReply, fill) },
          modifications: [],
          notes,
        };
      case 'tempfail':
        return {
          verdict: { kind: 'tempfail', reply: reply(this.#config.actions.tempfailReply, fill) },
          modifications: [],
          notes,
        };
      case 'discard':
        return { verdict: { kind: 'discard' }, modifications: [], notes };
      case 'accept':
      case 'tag':
      case 'quarantine': {
        const spam = chosen.kind !== 'accept';
        const modifications = this.#stamp(message, verdict, spam);
        if (message.bodyTruncated)
          modifications.push(
            unscanned(
              `truncated (first ${message.body.length} of ${message.bodyBytes} body bytes scanned)`,
            ),
          );
        if (chosen.kind === 'quarantine')
          modifications.push({
            kind: 'quarantine',
            reason: `spam score ${verdict.score} (ref ${ref})`,
          });
        // Mail that may only be tagged still reaches its recipients: no redirect.
        modifications.push(...this.#route(message, spam ? 'spam' : 'ham', mode.mode === 'scan'));
        return { verdict: { kind: 'accept' }, modifications, notes };
      }
      default:
        return assertNever(chosen.kind);
    }
  }

  skipped(message: Message, reason: string): Decision {
    const ref = this.#newRef();
    const notes = { ref, action: 'accept', reason: `not scanned: ${reason}`, skipped: true };
    if (this.#config.dryRun) return { verdict: { kind: 'accept' }, modifications: [], notes };
    return {
      verdict: { kind: 'accept' },
      modifications: [
        ...this.#forged(message.headers),
        unscanned('skipped (too big)'),
        ...this.#route(message, 'unscanned'),
      ],
      notes,
    };
  }

  failed(message: Message, error: unknown): Decision {
    const ref = this.#newRef();
    const outcome = failureOutcome(error, this.#config.failure);
    const notes = {
      ref,
      action: outcome.action,
      failure: outcome.failure,
      code: outcome.code,
      reason: error instanceof Error ? error.message : String(error),
      ...(this.#config.dryRun ? { dryRun: true } : {}),
    };
    if (this.#config.dryRun) return { verdict: { kind: 'accept' }, modifications: [], notes };
    switch (outcome.action) {
      case 'accept':
        return {
          verdict: { kind: 'accept' },
          modifications: [
            ...this.#forged(message.headers),
            unscanned(`unavailable (${outcome.code}, ref ${ref})`),
            ...this.#route(message, 'unscanned'),
          ],
          notes,
        };
      case 'tempfail':
        return {
          verdict: {
            kind: 'tempfail',
            reply: {
              code: 451,
              enhanced: '4.7.1',
              lines: [`Spam filter unavailable (ref ${ref}); try again later`],
            },
          },
          modifications: [],
          notes,
        };
      case 'reject':
        return {
          verdict: {
            kind: 'reject',
            reply: {
              code: 554,
              enhanced: '5.7.1',
              lines: [`Message could not be checked for spam (ref ${ref})`],
            },
          },
          modifications: [],
          notes,
        };
      default:
        return assertNever(outcome.action);
    }
  }

  /** Header work for a delivered message: forged ones out, ours in, scanner's own, subject tag. */
  #stamp(message: Message, verdict: Verdict, spam: boolean): Modification[] {
    const { headers } = message;
    const out = [...this.#forged(headers), ...this.#kit.spamHeaders(verdict, message.id)];
    out.push(...this.#kit.scannerHeaders(headers, verdict));
    if (spam && this.#config.subjectTag.enabled) {
      const subject = this.#kit.subjectTag(headers, verdict);
      if (subject !== undefined) out.push(subject);
    }
    return out;
  }

  #route(message: Message, kind: RoutingClass, redirect = false): Modification[] {
    return routingFor(message, kind, this.#config.routing, redirect);
  }

  #forged(headers: readonly HeaderField[]): Modification[] {
    return this.#config.headers.removeForged ? this.#kit.forgedDeletions(headers) : [];
  }
}

function unscanned(state: string): Modification {
  return { kind: 'add-header', name: UNSCANNED_HEADER, value: state };
}

function reply(
  template: Config['actions']['rejectReply'],
  fill: (text: string) => string,
): SmtpReply {
  return { code: template.code, enhanced: template.enhanced, lines: [fill(template.text)] };
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
