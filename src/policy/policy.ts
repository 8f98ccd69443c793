/**
 * The configured policy: verdict → action → decision (headers, subject, reply, quarantine), and
 * the same stamps and replies when a message is skipped or scanning fails. Pure apart from the
 * reference id; the ScanFilter calls it, the adapter logs its notes.
 */
import { processRewrite } from '../actions/process-rewrite.ts';
import { subjectReplacement } from '../actions/subject-tag.ts';
import type { Config } from '../config/schema.ts';
import type { Decision, Modification } from '../filter/decision.ts';
import type { Policy, ScanMode } from '../filter/scan-filter.ts';
import type { HeaderField, Message } from '../message/message.ts';
import type { RcptGate } from '../milter/session.ts';
import type { Envelope } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { assertNever } from '../shared/assert-never.ts';
import { type AccessOutcome, accessOutcome, refusedRecipient } from './access.ts';
import type { AccessMap } from './access-map.ts';
import { containsBypassPhrase } from './bypass.ts';
import { chooseAction } from './choose-action.ts';
import { bareAddress, envelopeOf } from './envelope.ts';
import { failureCause, failureOutcome } from './failure.ts';
import { type HeaderKit, headerKit } from './header-kit.ts';
import { prefsUserOf } from './prefs-user.ts';
import {
  failureReply,
  fillPlaceholders,
  randomRef,
  refusedReply,
  templateReply as reply,
  unscanned,
} from './replies.ts';
import { type RoutingClass, routingFor } from './routing.ts';
import { TrustRules } from './trust.ts';

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
  readonly #access: AccessMap | undefined;

  constructor(
    config: Config,
    info: PolicyInfo,
    kit: HeaderKit = headerKit(config, info),
    newRef: () => string = randomRef,
    accessMap?: AccessMap,
  ) {
    this.#config = config;
    this.#kit = kit;
    this.#newRef = newRef;
    this.#trust = new TrustRules(config.trust);
    this.#access = accessMap;
  }

  /** False when `rcptGate` can refuse nothing (no access map, no recipient cap, or a dry run). */
  get needsRcptGate(): boolean {
    return (
      !this.#config.dryRun &&
      (this.#access !== undefined || this.#config.trust.maxRecipients !== null)
    );
  }

  /**
   * At RCPT time: the access map's `to:` REJECT (550 5.7.1), then the recipient cap for untrusted
   * clients (452 4.5.3 past `trust.maxRecipients`). A dry run refuses nothing.
   */
  readonly rcptGate: RcptGate = ({ client, recipient, accepted, authUser }) => {
    if (this.#config.dryRun) return undefined;
    const refused =
      this.#access === undefined ? undefined : refusedRecipient(this.#access, recipient.address);
    if (refused !== undefined)
      return {
        kind: 'reject',
        reply: refusedReply(refused.text ?? 'Recipient refused by policy'),
      };
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
    const mode =
      this.#access === undefined
        ? this.#trust.scanMode(message)
        : this.#withAccess(message, accessOutcome(this.#access, message));
    const phrase = this.#config.scan.bypassPhrase;
    if (mode.mode === 'scan' && phrase !== null && containsBypassPhrase(message, phrase))
      return { mode: 'tag', reason: 'bypass phrase present' };
    return mode;
  }

  /** The access map first (auth → connect → from), then trust and opt-outs as usual. */
  #withAccess(message: Message, access: AccessOutcome): ScanMode {
    const { mode } = access;
    const all = message.recipients.length;
    // Every recipient dropped: the message goes, whatever the client or sender entries say
    // (a message left with no recipients is not something to hand back to the MTA).
    const allDropped = all > 0 && access.discard.size === all;
    switch (mode.kind) {
      case 'reject':
        return { mode: 'refuse', kind: 'reject', reason: mode.reason, text: mode.text };
      case 'discard':
        return { mode: 'refuse', kind: 'discard', reason: mode.reason };
      case 'skip':
      case 'scan':
      case 'none':
        if (allDropped)
          return { mode: 'refuse', kind: 'discard', reason: 'access map: every recipient DISCARD' };
        if (mode.kind === 'skip') return { mode: 'skip', reason: mode.reason };
        // SCAN overrides trusted networks and authentication; recipients' opt-outs still count.
        if (mode.kind === 'scan') return this.#trust.recipientMode(message, access.skip);
        return this.#trust.scanMode(message, access.skip);
      default:
        return assertNever(mode);
    }
  }

  refused(_message: Message, mode: Extract<ScanMode, { mode: 'refuse' }>): Decision {
    const ref = this.#newRef();
    const notes = {
      ref,
      action: mode.kind,
      reason: `not scanned: ${mode.reason}`,
      skipped: true,
      ...(this.#config.dryRun ? { dryRun: true } : {}),
    };
    if (this.#config.dryRun) return { verdict: { kind: 'accept' }, modifications: [], notes };
    if (mode.kind === 'discard') return { verdict: { kind: 'discard' }, modifications: [], notes };
    return {
      verdict: {
        kind: 'reject',
        reply: refusedReply(mode.text ?? `Message refused by policy (ref ${ref})`),
      },
      modifications: [],
      notes,
    };
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
    const cause = failureCause(error);
    const notes = {
      ref,
      action: outcome.action,
      failure: outcome.failure,
      code: outcome.code,
      reason: error instanceof Error ? error.message : String(error),
      ...(cause === undefined ? {} : { cause }),
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
      case 'reject':
        return {
          verdict: { kind: outcome.action, reply: failureReply(outcome.action, ref) },
          modifications: [],
          notes,
        };
      default:
        return assertNever(outcome.action);
    }
  }

  /**
   * Header work for a delivered message: forged ones out, ours in, scanner's own, subject tag.
   * Throws ProcessRewriteError when spamd's rewritten message cannot be parsed.
   */
  #stamp(message: Message, verdict: Verdict, spam: boolean): Modification[] {
    // spamd PROCESS/HEADERS: SpamAssassin's own changes replace our profile and subject tag.
    if (verdict.rewritten !== undefined) {
      const { preserveHeaders, preserveBody } = this.#config.scanner.spamd;
      return processRewrite(message, verdict.rewritten, {
        preserveHeaders,
        preserveBody,
        scanner: verdict.scanner,
      });
    }
    const { headers } = message;
    const ours = this.#kit.spamHeaders(verdict, message.id);
    const out = [...this.#forged(headers), ...ours];
    out.push(...this.#kit.scannerHeaders(headers, verdict, ours));
    // rspamd's "rewrite subject", when we follow the scanner, sets its own subject instead of our tag.
    const proposed =
      this.#config.actions.followScanner && verdict.action === 'rewrite subject'
        ? verdict.subject
        : undefined;
    const subject =
      proposed !== undefined
        ? subjectReplacement(headers, proposed)
        : spam && this.#config.subjectTag.enabled
          ? this.#kit.subjectTag(headers, verdict)
          : undefined;
    if (subject !== undefined) out.push(subject);
    return out;
  }

  /** Recipients the access map drops (DISCARD), then the routing for this class of mail. */
  #route(message: Message, kind: RoutingClass, redirect = false): Modification[] {
    const dropped: Modification[] = [];
    if (this.#access !== undefined) {
      const { discard } = accessOutcome(this.#access, message);
      for (const r of message.recipients) {
        if (discard.has(bareAddress(r.address).toLowerCase()))
          dropped.push({ kind: 'delete-recipient', address: r.raw });
      }
    }
    return [...dropped, ...routingFor(message, kind, this.#config.routing, redirect)];
  }

  #forged(headers: readonly HeaderField[]): Modification[] {
    return this.#config.headers.removeForged ? this.#kit.forgedDeletions(headers) : [];
  }
}
