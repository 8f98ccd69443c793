/**
 * The `explain` report as data (what `--json` prints and the text is rendered from), and the
 * builders that turn the run's recordings into it.
 */
import type { Config } from '../config/schema.ts';
import type { Decision } from '../filter/decision.ts';
import type { ScanMode } from '../filter/scan-filter.ts';
import type { Message } from '../message/message.ts';
import { type FailureClass, failureOutcome } from '../policy/failure.ts';
import { ScannerError } from '../scanners/errors.ts';
import type { Envelope } from '../scanners/scanner.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { assertNever } from '../shared/assert-never.ts';
import type { ReplyReport } from './explain-changes.ts';
import type { RulesReport } from './explain-rules.ts';
import type { RecordingPolicy, RecordingScanner } from './explain-watch.ts';

/** The message as the milter sees it at end-of-message. */
export interface EnvelopeReport {
  readonly queueId: string;
  readonly client: {
    readonly address: string;
    readonly hostname: string;
    readonly family: string;
    readonly helo: string | null;
  };
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly authUser: string | null;
  readonly macros: Readonly<Record<string, string>>;
  readonly headers: number;
  readonly bodyBytes: number;
}

/** What the scanner did, or why there was no scan. */
export type ScanReport =
  | {
      readonly status: 'scanned';
      readonly scanner: string;
      /** What the scanner was told of the envelope. */
      readonly envelope: Envelope;
      readonly verdict: Omit<Verdict, 'rewritten'> & {
        readonly rewritten?: { readonly kind: string; readonly bytes: number };
      };
    }
  | {
      readonly status: 'failed';
      readonly scanner: string;
      readonly code: string;
      readonly failureClass: FailureClass;
      /** What the failure policy (`failure.<class>`) does with the message. */
      readonly action: Config['failure']['unavailable'];
      readonly error: string;
      /** The underlying failure, e.g. the connection error behind `SCANNER_ALL_DOWN`. */
      readonly cause: string | null;
    }
  | { readonly status: 'not-scanned'; readonly reason: string }
  | { readonly status: 'not-reached'; readonly reason: string };

/** The filter's decision. */
export interface DecisionReport {
  readonly verdict: Decision['verdict']['kind'];
  /** The policy's action (`tag`, `quarantine`…; under dryRun what would have been done). */
  readonly action: string;
  readonly reason: string | null;
  readonly ref: string | null;
  readonly dryRun: boolean;
  readonly notes: Readonly<Record<string, string | number | boolean>>;
}

/** A modification as reported: its fields and its line of text. */
export type ChangeReport = Readonly<Record<string, unknown>> & { readonly line: string };

/** Everything `explain` reports about one message. */
export interface Explanation {
  readonly envelope: EnvelopeReport;
  /** `builtin` when no scanner is configured (the built-in engine), else `scanner`. */
  readonly engine: 'builtin' | 'scanner';
  /** The scanner URLs, without credentials. */
  readonly scanners: readonly string[];
  readonly dryRun: boolean;
  /** Each recipient at RCPT time: accepted, or refused with the reply. */
  readonly rcpt: readonly { readonly recipient: string; readonly refused: string | null }[];
  /** Null when no message reached end-of-data. */
  readonly rules: RulesReport | null;
  readonly scanMode: ScanMode | null;
  readonly scan: ScanReport;
  readonly decision: DecisionReport | null;
  readonly changes: readonly ChangeReport[];
  /** Parts of the decision the milter would not send (not negotiated, malformed). */
  readonly notApplied: readonly { readonly what: string; readonly reason: string }[];
  /** The envelope after the recipient and sender changes; null when nothing is delivered. */
  readonly delivery: { readonly sender: string; readonly recipients: readonly string[] } | null;
  readonly reply: ReplyReport;
  /** The delivered message after the changes (without the MTA's own Received); null if none. */
  readonly resultingMessage: { readonly text: string; readonly encoding: string } | null;
}

/** The report when every recipient was refused at RCPT time: no message, no scan. */
export function noRecipients(
  head: Pick<Explanation, 'envelope' | 'engine' | 'scanners' | 'dryRun' | 'rcpt'>,
): Explanation {
  return {
    ...head,
    rules: null,
    scanMode: null,
    scan: { status: 'not-reached', reason: 'every recipient was refused at RCPT time' },
    decision: null,
    changes: [],
    notApplied: [],
    delivery: null,
    reply: {
      kind: 'reject',
      code: 554,
      lines: ['554 5.5.1 Error: no valid recipients'],
      note: 'no message: the MTA refuses DATA (Postfix wording)',
    },
    resultingMessage: null,
  };
}

/** The envelope part of the report. */
export function envelopeReport(message: Message): EnvelopeReport {
  const { client } = message;
  const auth = message.macros['auth_authen'];
  return {
    queueId: message.id,
    client: {
      address: client.address,
      hostname: client.hostname,
      family: client.family,
      helo: client.helo ?? null,
    },
    sender: message.sender?.address ?? '<>',
    recipients: message.recipients.map((r) => r.address),
    authUser: auth === undefined || auth === '' ? null : auth,
    macros: message.macros,
    headers: message.headers.length,
    bodyBytes: message.bodyBytes,
  };
}

/** The innermost cause of an error, with its code when it has one. */
function causeOf(error: unknown): string | null {
  let cause: unknown = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof Error)) return null;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const code = (cause as Error & { code?: unknown }).code;
  const message = (cause as Error).message;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/** The scan as the watched policy and scanner saw it. */
export function scanReport(
  config: Config,
  policy: RecordingPolicy,
  scanner: RecordingScanner,
): ScanReport {
  const call = policy.call;
  if (call === undefined) throw new Error('the filter decided without asking the policy');
  switch (call.step) {
    case 'trusted':
      return { status: 'not-scanned', reason: call.reason };
    case 'refused':
      return { status: 'not-scanned', reason: `refused by rule: ${call.mode.reason}` };
    case 'skipped':
      return { status: 'not-scanned', reason: call.reason };
    case 'decide': {
      const { rewritten, ...rest } = call.verdict;
      return {
        status: 'scanned',
        scanner: call.verdict.scanner,
        envelope: scanner.request?.envelope ?? { recipients: [] },
        verdict:
          rewritten === undefined
            ? rest
            : { ...rest, rewritten: { kind: rewritten.kind, bytes: rewritten.bytes.length } },
      };
    }
    case 'failed': {
      const outcome = failureOutcome(call.error, config.failure);
      return {
        status: 'failed',
        scanner: call.error instanceof ScannerError ? call.error.scanner : scanner.url,
        code: outcome.code,
        failureClass: outcome.failure,
        action: outcome.action,
        error: call.error instanceof Error ? call.error.message : String(call.error),
        cause: causeOf(call.error),
      };
    }
    default:
      return assertNever(call);
  }
}
