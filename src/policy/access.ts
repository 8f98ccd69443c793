/**
 * What the access map means for one message: a message-level mode (skip, refuse, scan despite
 * trust) and per-recipient outcomes (opted out, refused at RCPT, dropped at end-of-message).
 */
import type { Message } from '../message/message.ts';
import type { AccessMap } from './access-map.ts';
import type { AccessSource, AccessVerdict } from './access-map-lookup.ts';
import { bareAddress, envelopeOf } from './envelope.ts';

/** The map's message-level answer, as the policy uses it. */
export type AccessMode =
  | { readonly kind: 'none' }
  | { readonly kind: 'skip' | 'scan' | 'discard'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly text: string | undefined };

/** The map's answers for one message. */
export interface AccessOutcome {
  readonly mode: AccessMode;
  /** Recipients (bare, lower case) the map says not to filter (OK). */
  readonly skip: ReadonlySet<string>;
  /** Recipients the map says to drop (DISCARD): deleted at end-of-message. */
  readonly discard: ReadonlySet<string>;
}

/** `access map connect:192.0.2 (line 4)`: where a decision came from, for logs and notes. */
export function describeSource(by: AccessSource): string {
  const pattern = by.pattern === undefined ? '' : ` ${by.pattern}`;
  return `access map ${by.tag}:${by.key} (line ${by.line})${pattern}`;
}

/** Looks the message up in the map. */
export function accessOutcome(map: AccessMap, message: Message): AccessOutcome {
  const decision = map.decide(envelopeOf(message));
  const skip = new Set<string>();
  const discard = new Set<string>();
  for (const r of decision.recipients) {
    const key = bareAddress(r.recipient).toLowerCase();
    if (r.action === 'skip') skip.add(key);
    if (r.action === 'discard') discard.add(key);
  }
  return { mode: accessMode(decision), skip, discard };
}

/** The message-level verdict as an AccessMode. */
export function accessMode(verdict: AccessVerdict): AccessMode {
  if (verdict.action === 'none') return { kind: 'none' };
  const reason = describeSource(verdict.by);
  if (verdict.action === 'reject') return { kind: 'reject', reason, text: verdict.text };
  return { kind: verdict.action, reason };
}

/** A recipient the map refuses at RCPT time, with the map's text. */
export function refusedRecipient(
  map: AccessMap,
  recipient: string,
): { readonly reason: string; readonly text: string | undefined } | undefined {
  const [verdict] = map.decide({ recipients: [recipient] }).recipients;
  if (verdict === undefined || verdict.action !== 'reject') return undefined;
  return { reason: describeSource(verdict.by), text: verdict.text };
}
