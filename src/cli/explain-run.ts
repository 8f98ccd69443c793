/**
 * Runs one message through the filtering the daemon would build for a configuration (bootstrap
 * filter, or scanner pool + ConfiguredPolicy + ScanFilter, wired as in `daemon.ts`) and records
 * every stage: RCPT gate, rules, scan mode, scanner request and answer, policy step, decision,
 * the milter replies it becomes and the resulting message. The real ScanFilter runs; the scanner
 * and the policy are only watched, so the report shows what the daemon does, not a copy of it.
 */
import { hostname } from 'node:os';
import { applyModifications } from '../actions/process-rewrite-apply.ts';
import type { Config } from '../config/schema.ts';
import { WISHES } from '../daemon/daemon.ts';
import { buildScannerPool } from '../daemon/scanner-pool.ts';
import type { Decision } from '../filter/decision.ts';
import type { MessageFilter } from '../filter/filter.ts';
import { ScanFilter } from '../filter/scan-filter.ts';
import { type Message, renderMessage } from '../message/message.ts';
import { decisionToReplies, finalReply } from '../milter/actions.ts';
import { FilterTimeoutError } from '../milter/connection.ts';
import { ALL_ACTIONS, ALL_PROTOCOL, MILTER_VERSION } from '../milter/constants.ts';
import { negotiate } from '../milter/negotiate.ts';
import type { AccessMap } from '../policy/access-map.ts';
import { headerKit } from '../policy/header-kit.ts';
import { ConfiguredPolicy, type PolicyInfo } from '../policy/policy.ts';
import { randomRef } from '../policy/replies.ts';
import type { Scanner } from '../scanners/scanner.ts';
import { abortable } from '../shared/abortable.ts';
import { VERSION } from '../version.ts';
import {
  changeJson,
  decodeBytes,
  envelopeAfter,
  replyLines,
  smtpReply,
} from './explain-changes.ts';
import {
  type ChangeReport,
  type Explanation,
  envelopeReport,
  noRecipients,
  scanReport,
} from './explain-model.ts';
import { rulesReport } from './explain-rules.ts';
import { RecordingPolicy, RecordingScanner } from './explain-watch.ts';

/** What the run needs besides the configuration. */
export interface ExplainDeps {
  /** The access map the configuration names (already loaded), if any. */
  readonly accessMap: AccessMap | undefined;
  /** A scanner to use instead of the configured pool (tests). */
  readonly scanner?: Scanner;
  readonly info?: PolicyInfo;
  readonly newRef?: () => string;
}

/** The daemon's scanner pool for this configuration, and its members' URLs (no credentials). */
export function configuredScanner(config: Config): { scanner: Scanner; urls: string[] } {
  const pool = buildScannerPool(config.scanner);
  return { scanner: pool, urls: [...pool.memberUrls] };
}

/** What Postfix offers at negotiation (everything), narrowed by what the daemon asks for. */
const NEGOTIATED = negotiate(
  { version: MILTER_VERSION, actions: ALL_ACTIONS, protocol: ALL_PROTOCOL },
  WISHES,
);

/** Runs the filter as the milter connection does: under the filter deadline, errors → policy. */
async function runFilter(
  filter: MessageFilter,
  onError: (error: unknown, message: Message) => Decision,
  message: Message,
  timeoutMs: number,
): Promise<Decision> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new FilterTimeoutError(timeoutMs)), timeoutMs);
  try {
    return await abortable(filter.filter(message, deadline.signal), deadline.signal);
  } catch (error) {
    return onError(error, message);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Explains one message under `config`. `fullBody` is the whole body (the message's own may be
 * cut at the scan limit); the resulting message is built from it, as the MTA delivers it all.
 */
export async function explainMessage(
  config: Config,
  message: Message,
  fullBody: Buffer,
  deps: ExplainDeps,
): Promise<Explanation> {
  // A scanner made here is closed here (store files, Redis connections); a given one is the caller's.
  const owned = deps.scanner === undefined ? configuredScanner(config) : undefined;
  try {
    return await explainWith(config, message, fullBody, deps, owned);
  } finally {
    await owned?.scanner.close?.();
  }
}

async function explainWith(
  config: Config,
  message: Message,
  fullBody: Buffer,
  deps: ExplainDeps,
  owned: { scanner: Scanner; urls: string[] } | undefined,
): Promise<Explanation> {
  const envelope = envelopeReport(message);
  const { scanner: inner, urls: scanners } = owned ?? {
    scanner: deps.scanner as Scanner,
    urls: [(deps.scanner as Scanner).url],
  };
  const info = deps.info ?? { version: VERSION, hostname: hostname() };
  const policy = new ConfiguredPolicy(
    config,
    info,
    headerKit(config, info),
    deps.newRef ?? randomRef,
    deps.accessMap,
  );
  // RCPT time: the gate may refuse recipients; those are not part of the message.
  const rcpt: { recipient: string; refused: string | null }[] = [];
  const accepted: Message['recipients'][number][] = [];
  for (const recipient of message.recipients) {
    const refusal = policy.rcptGate({
      client: message.client,
      recipient,
      sender: message.sender,
      accepted: accepted.length,
      authUser: message.macros['auth_authen'],
    });
    if (refusal === undefined) accepted.push(recipient);
    const response = refusal === undefined ? undefined : finalReply(refusal);
    const refused =
      response === undefined
        ? null
        : response.kind === 'replycode'
          ? replyLines(response.text).join(' / ')
          : `${refusal?.kind} (MTA text)`;
    rcpt.push({ recipient: recipient.address, refused });
  }
  const engine =
    config.scanner.urls.length === 0 && deps.scanner === undefined ? 'builtin' : 'scanner';
  const common = {
    envelope,
    engine: engine as 'builtin' | 'scanner',
    scanners,
    dryRun: config.dryRun,
    rcpt,
  };
  if (accepted.length === 0) return noRecipients(common);
  const mail: Message = { ...message, recipients: accepted };
  const rules = rulesReport(config, deps.accessMap, mail);
  const watchedScanner = new RecordingScanner(inner);
  const watchedPolicy = new RecordingPolicy(policy);
  const filter = new ScanFilter(watchedScanner, watchedPolicy, {
    scanTruncated: config.scan.oversize === 'truncate',
  });
  const decision = await runFilter(
    filter,
    (error, m) => watchedPolicy.failed(m, error),
    mail,
    config.milter.filterTimeoutMs,
  );
  const scan = scanReport(config, watchedPolicy, watchedScanner);
  return finishReport(decision, null, mail, fullBody, {
    ...common,
    rules,
    scanMode: watchedPolicy.mode ?? null,
    scan,
  });
}

/**
 * The decision's part of the report: what the milter sends (modifications the MTA would refuse
 * left out), the SMTP reply, the envelope and message as delivered.
 */
function finishReport(
  decision: Decision,
  reason: string | null,
  mail: Message,
  body: Buffer,
  head: Pick<
    Explanation,
    'envelope' | 'engine' | 'scanners' | 'dryRun' | 'rcpt' | 'rules' | 'scanMode' | 'scan'
  >,
): Explanation {
  const notes = decision.notes ?? {};
  const { responses, refused } = decisionToReplies(decision, NEGOTIATED);
  const delivered = decision.verdict.kind === 'accept';
  const sent = decision.modifications.filter(
    (m) =>
      decisionToReplies({ verdict: { kind: 'accept' }, modifications: [m] }, NEGOTIATED).refused
        .length === 0,
  );
  return {
    ...head,
    decision: {
      verdict: decision.verdict.kind,
      action: String(notes['action'] ?? decision.verdict.kind),
      reason: typeof notes['reason'] === 'string' ? notes['reason'] : reason,
      ref: typeof notes['ref'] === 'string' ? notes['ref'] : null,
      dryRun: notes['dryRun'] === true,
      notes,
    },
    changes: decision.modifications.map((m) => changeJson(m) as ChangeReport),
    notApplied: refused.map(({ what, reason }) => ({ what, reason })),
    delivery: delivered
      ? envelopeAfter(
          mail.sender?.address ?? '<>',
          mail.recipients.map((r) => r.address),
          sent,
        )
      : null,
    reply: smtpReply(decision, responses),
    resultingMessage: delivered
      ? decodeBytes(renderMessage(applyModifications({ headers: mail.headers, body }, sent)))
      : null,
  };
}
