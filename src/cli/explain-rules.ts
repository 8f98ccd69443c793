/**
 * The rules `explain` reports before a scan: client trust, authentication, recipients' opt-outs,
 * the access map walk (every key tried, with file:line), the bypass phrase and the size limit.
 * Pure: the same lookups the policy makes, kept for display; the mode the policy chose is
 * recorded separately, so the report cannot disagree with what the daemon does.
 */
import type { Config } from '../config/schema.ts';
import type { Message } from '../message/message.ts';
import type { AccessMap } from '../policy/access-map.ts';
import {
  type AccessAction,
  type AccessSource,
  type AccessTraceStep,
  formatTraceStep,
  type TracedVerdict,
} from '../policy/access-map-lookup.ts';
import { containsBypassPhrase } from '../policy/bypass.ts';
import { bareAddress, envelopeOf } from '../policy/envelope.ts';
import { TrustRules } from '../policy/trust.ts';

/** Who the client is and what trust gives it. */
export interface TrustReport {
  /** The client address, `local socket` or `unknown`. */
  readonly client: string;
  readonly trustedNetwork: boolean;
  readonly networks: readonly string[];
  readonly networksMode: Config['trust']['networksMode'];
  readonly authUser: string | null;
  readonly authenticatedMode: Config['trust']['authenticatedMode'];
  /** Recipients that opted out of filtering, and by which rule. */
  readonly optOuts: readonly { recipient: string; by: 'trust.optOutRecipients' | 'access map' }[];
  readonly recipients: number;
}

/** One step of an access map walk, with its line of text. */
export type TraceLine = AccessTraceStep & { readonly text: string };

/** An access map verdict with where it came from and how it was reached. */
export interface AccessVerdictReport {
  readonly action: AccessAction;
  /** `file:line` of the deciding entry. */
  readonly at?: string;
  readonly by?: AccessSource;
  readonly text?: string;
  readonly trace: readonly TraceLine[];
}

/** The access map's answers for one message. */
export interface AccessReport {
  readonly file: string;
  readonly entries: number;
  readonly message: AccessVerdictReport;
  readonly recipients: readonly (AccessVerdictReport & { readonly recipient: string })[];
}

/** The size check: whether the body fits under `scan.maxScanBytes`. */
export interface SizeReport {
  readonly bodyBytes: number;
  readonly maxScanBytes: number;
  readonly oversize: Config['scan']['oversize'];
  readonly truncated: boolean;
  readonly outcome: string;
}

/** Everything that decides whether and how a message is scanned. */
export interface RulesReport {
  readonly trust: TrustReport;
  readonly accessMap: AccessReport | null;
  /** The phrase itself is never shown. */
  readonly bypass: { readonly configured: boolean; readonly present: boolean };
  readonly size: SizeReport;
}

/** One access map step as text, the entry's `file:line` at the end. */
export function traceText(step: AccessTraceStep, file: string): string {
  return formatTraceStep(step, file);
}

function verdictReport(verdict: TracedVerdict, file: string): AccessVerdictReport {
  const trace = verdict.trace.map((step) => ({ ...step, text: traceText(step, file) }));
  if (verdict.action === 'none') return { action: 'none', trace };
  return {
    action: verdict.action,
    at: `${file}:${verdict.by.line}`,
    by: verdict.by,
    ...(verdict.text === undefined ? {} : { text: verdict.text }),
    trace,
  };
}

/** The access map walk for a message: the message-level keys, then each recipient's. */
export function accessReport(map: AccessMap, message: Message): AccessReport {
  const decision = map.decide(envelopeOf(message));
  return {
    file: map.file,
    entries: map.size,
    message: verdictReport(decision, map.file),
    recipients: decision.recipients.map((r) => ({
      recipient: r.recipient,
      ...verdictReport(r, map.file),
    })),
  };
}

function sizeReport(config: Config, message: Message): SizeReport {
  const { maxScanBytes, oversize } = config.scan;
  const base = { bodyBytes: message.bodyBytes, maxScanBytes, oversize };
  if (!message.bodyTruncated)
    return {
      ...base,
      truncated: false,
      outcome: `${message.bodyBytes} body bytes, within scan.maxScanBytes ${maxScanBytes}`,
    };
  const outcome =
    oversize === 'truncate'
      ? `${message.bodyBytes} body bytes: only the first ${maxScanBytes} are scanned (scan.oversize truncate)`
      : `${message.bodyBytes} body bytes, above scan.maxScanBytes ${maxScanBytes}: not scanned (scan.oversize skip)`;
  return { ...base, truncated: true, outcome };
}

/** The rules report for a message under a configuration and its access map. */
export function rulesReport(
  config: Config,
  accessMap: AccessMap | undefined,
  message: Message,
): RulesReport {
  const trust = new TrustRules(config.trust);
  const access = accessMap === undefined ? null : accessReport(accessMap, message);
  const { client } = message;
  const ip = client.family === '4' || client.family === '6';
  const auth = message.macros['auth_authen'];
  const optOuts: { recipient: string; by: 'trust.optOutRecipients' | 'access map' }[] = [];
  for (const r of message.recipients) {
    const bare = bareAddress(r.address).toLowerCase();
    if (trust.optedOut(r.address))
      optOuts.push({ recipient: r.address, by: 'trust.optOutRecipients' });
    else if (
      access?.recipients.some(
        (a) => a.action === 'skip' && bareAddress(a.recipient).toLowerCase() === bare,
      )
    )
      optOuts.push({ recipient: r.address, by: 'access map' });
  }
  const phrase = config.scan.bypassPhrase;
  return {
    trust: {
      client: client.family === 'L' ? 'local socket' : ip ? client.address : 'unknown',
      trustedNetwork: ip && trust.trustedAddress(client.address),
      networks: config.trust.networks,
      networksMode: config.trust.networksMode,
      authUser: auth === undefined || auth === '' ? null : auth,
      authenticatedMode: config.trust.authenticatedMode,
      optOuts,
      recipients: message.recipients.length,
    },
    accessMap: access,
    bypass: {
      configured: phrase !== null,
      present: phrase !== null && containsBypassPhrase(message, phrase),
    },
    size: sizeReport(config, message),
  };
}
