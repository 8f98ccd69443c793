/**
 * Load-test helpers on top of FakeMta: one transaction run step by step with a record of how far
 * it got (so a test can tell "cut before the verdict" from "half-applied"), verdict checks for
 * the built-in engine's ham and GTUBE answers, and header-safety checks for modification replies.
 */
import type { Response } from '../../src/milter/responses.ts';
import { FINAL_KINDS } from '../../src/milter/responses.ts';
import {
  describeReplies,
  FakeMta,
  type MessageSpec,
  type MilterAddress,
  messageSteps,
} from './fake-mta.ts';
import { GTUBE } from './scan-rig.ts';

/** How one transaction ended. */
export type TransactionOutcome =
  /** The end-of-message replies ended with a final reply. */
  | 'completed'
  /** The connection failed or closed before the final end-of-message reply. */
  | 'cut'
  /** The milter answered a step with something other than CONTINUE. */
  | 'unexpected';

/** What happened to one transaction. */
export interface TransactionRecord {
  readonly outcome: TransactionOutcome;
  /** Commands the milter answered (CONTINUE), in order, e.g. `['connect', 'helo', 'mail', …]`. */
  readonly answered: readonly string[];
  /** True once the end-of-message packet was written. */
  readonly eobSent: boolean;
  /** Replies read after end-of-message, PROGRESS left out. */
  readonly eob: readonly Response[];
  /** Why it was cut or unexpected. */
  readonly error?: string;
}

/**
 * Runs one transaction the way Postfix does under the negotiated options (waits for the replies
 * it expects, skips none) and records how far it got. Never throws for a milter failure.
 */
export async function runTransaction(mta: FakeMta, spec: MessageSpec): Promise<TransactionRecord> {
  const negotiated = mta.negotiated;
  if (negotiated === undefined) throw new Error('negotiate() first');
  const answered: string[] = [];
  const eob: Response[] = [];
  let eobSent = false;
  const record = (outcome: TransactionOutcome, error?: string): TransactionRecord => ({
    outcome,
    answered,
    eobSent,
    eob,
    ...(error === undefined ? {} : { error }),
  });
  try {
    for (const { command, reply } of messageSteps(spec, negotiated)) {
      await mta.send(command);
      if (command.kind === 'eob') {
        eobSent = true;
        for (;;) {
          const response = await mta.read();
          if (response.kind === 'progress') continue;
          eob.push(response);
          if (FINAL_KINDS.has(response.kind)) return record('completed');
        }
      }
      if (!reply) continue;
      const replies = (await mta.readUntilFinal()).filter((r) => r.kind !== 'progress');
      if (replies.length !== 1 || replies[0]?.kind !== 'continue')
        return record('unexpected', `${command.kind} answered with ${describeReplies(replies)}`);
      answered.push(command.kind);
    }
    return record('unexpected', 'the steps had no end-of-message');
  } catch (error) {
    return record('cut', error instanceof Error ? error.message : String(error));
  }
}

/** Connects and negotiates as Postfix; rejects when the milter refuses or does not answer. */
export async function openNegotiated(address: MilterAddress, timeoutMs: number): Promise<FakeMta> {
  const mta = await FakeMta.connect(address, { timeoutMs });
  try {
    await mta.negotiate();
    return mta;
  } catch (error) {
    mta.destroy();
    throw error;
  }
}

/** The kinds of message the load tests send. */
export type MailKind = 'ham' | 'spam';

/** A small ham or GTUBE message for worker `worker`'s `n`-th transaction (distinct headers). */
export function loadMessage(
  kind: MailKind,
  worker: number,
  n: number,
  first: boolean,
): MessageSpec {
  const body =
    kind === 'spam'
      ? `Hello ${worker}/${n},\r\n${GTUBE}\r\n`
      : `Hello ${worker}/${n},\r\nthe minutes of the meeting are attached.\r\n`;
  return {
    ...(first ? {} : { client: null, helo: null }),
    from: `<sender${worker}@example.org>`,
    rcpts: [`<rcpt${n}@example.net>`],
    headers: [
      ['From', ` <sender${worker}@example.org>`],
      ['To', ` <rcpt${n}@example.net>`],
      ['Subject', ` load ${kind} ${worker}/${n}`],
      ['Message-ID', ` <${worker}.${n}@example.org>`],
    ],
    body,
  };
}

/** A reply's name or text as latin1 (names and values are bytes on the wire). */
export function wire(text: string | Uint8Array): string {
  return typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
}

/** The header-modification replies (add, insert, change) of a reply list. */
export function headerReplies(
  responses: readonly Response[],
): Extract<Response, { kind: 'addheader' | 'insheader' | 'chgheader' }>[] {
  return responses.filter(
    (r): r is Extract<Response, { kind: 'addheader' | 'insheader' | 'chgheader' }> =>
      r.kind === 'addheader' || r.kind === 'insheader' || r.kind === 'chgheader',
  );
}

/** What the built-in engine must answer, under one of the configurations a test uses. */
export type Expectation =
  /** Ham: our X-Spam-* stamp (X-Spam-Checker-Version once), no flag, CONTINUE. */
  | 'ham'
  /** GTUBE with `actions.reject` set: one 550 REPLYCODE and nothing else. */
  | 'reject'
  /** GTUBE with no reject and `subjectTag.enabled`: stamped, flagged, Subject tagged, CONTINUE. */
  | 'tagged';

/** Why `eob` is not the answer `expect` calls for, or null when it is. */
export function verdictProblem(eob: readonly Response[], expect: Expectation): string | null {
  const seen = describeReplies(eob);
  const last = eob.at(-1);
  if (expect === 'reject') {
    if (eob.length !== 1 || last?.kind !== 'replycode')
      return `want one 550 replycode, got ${seen}`;
    return wire(last.text).startsWith('550 ') ? null : `want 550, got "${wire(last.text)}"`;
  }
  if (last?.kind !== 'continue') return `want a final continue, got ${seen}`;
  const rest = eob.slice(0, -1);
  if (rest.some((r) => r.kind !== 'addheader' && r.kind !== 'chgheader'))
    return `want only header changes before continue, got ${seen}`;
  const added = (name: string): string[] =>
    headerReplies(rest)
      .filter((r) => r.kind === 'addheader' && wire(r.name).toLowerCase() === name.toLowerCase())
      .map((r) => wire(r.value));
  if (added('X-Spam-Checker-Version').length !== 1)
    return `want X-Spam-Checker-Version once, got ${seen}`;
  const flag = added('X-Spam-Flag');
  if (expect === 'ham') return flag.length === 0 ? null : `ham flagged ${flag.join()}`;
  if (flag.length !== 1 || flag[0]?.trim() !== 'YES') return `spam not flagged: ${seen}`;
  const subject = headerReplies(rest).find(
    (r) => r.kind === 'chgheader' && wire(r.name).toLowerCase() === 'subject',
  );
  return subject !== undefined && /\[SPAM\]/.test(wire(subject.value))
    ? null
    : `spam subject not tagged: ${seen}`;
}

/** RFC 5322 field-name: printable ASCII but the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** RFC 5322's limit on a line, without CRLF. */
export const MAX_LINE = 998;

/**
 * Everything wrong with one header reply as the MTA would write it (`Name:` + value, the value
 * as sent, leading space included): a bad field name, CR or NUL, a LF that does not start a
 * folded continuation (TAB or space), a line over 998 characters. Empty when it is safe. The
 * value must carry its leading space (HDR_LEADSPC, which Spamward asks of Postfix).
 */
export function headerReplyProblems(
  response: Extract<Response, { kind: 'addheader' | 'insheader' | 'chgheader' }>,
): string[] {
  const name = wire(response.name);
  const value = wire(response.value);
  const label = `${response.kind} ${JSON.stringify(name.slice(0, 60))}`;
  const problems: string[] = [];
  if (!FIELD_NAME.test(name)) problems.push(`${label}: invalid field name`);
  if (value.includes('\r')) problems.push(`${label}: CR in value`);
  if (value.includes('\0')) problems.push(`${label}: NUL in value`);
  if (/\n(?![ \t])/.test(value)) problems.push(`${label}: LF not followed by TAB/space`);
  const lines = `${name}:${value}`.split('\n');
  lines.forEach((line, i) => {
    if (line.length > MAX_LINE) problems.push(`${label}: line ${i + 1} is ${line.length} chars`);
  });
  return problems;
}
