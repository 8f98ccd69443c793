/**
 * How `explain` shows a decision's effects: one line per modification (`+ X-Spam-Flag: YES`,
 * `~ Subject[1]: [SPAM] hi`, `- RCPT <bob@example.net>`), the same as JSON, the envelope after the
 * recipient changes, and the SMTP reply the client would get. Pure.
 */
import type { Decision, Modification } from '../filter/decision.ts';
import type { WireText } from '../milter/cstring.ts';
import type { Response } from '../milter/responses.ts';
import { bareAddress } from '../policy/envelope.ts';
import { assertNever } from '../shared/assert-never.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text: UTF-8 when they are valid UTF-8, otherwise Latin-1 (byte for byte). */
export function decodeBytes(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: UTF8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(bytes).toString('latin1'), encoding: 'latin1' };
  }
}

/** A header value or address as text (folds kept). */
export function valueText(value: string | Buffer): string {
  return typeof value === 'string' ? value : decodeBytes(value).text;
}

/** A value on one line: folds undone, other control characters shown as `\xNN`. */
function oneLine(value: string | Buffer): string {
  let out = '';
  for (const c of valueText(value).replace(/\r?\n[ \t]*/g, ' ')) {
    const code = c.charCodeAt(0);
    out +=
      (code < 0x20 && c !== '\t') || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}

function withArgs(address: string | Buffer, args: readonly string[] | undefined): string {
  const extra = args === undefined || args.length === 0 ? '' : ` ${args.join(' ')}`;
  return `${oneLine(address)}${extra}`;
}

/** One modification as one line of the report. */
export function describeChange(m: Modification): string {
  switch (m.kind) {
    case 'add-header':
      return `+ ${m.name}: ${oneLine(m.value)}`;
    case 'insert-header':
      return `+ ${m.name}: ${oneLine(m.value)} (inserted at header ${m.index})`;
    case 'change-header':
      return m.value.length === 0
        ? `- ${m.name}[${m.occurrence}] (changed to empty)`
        : `~ ${m.name}[${m.occurrence}]: ${oneLine(m.value)}`;
    case 'delete-header':
      return `- ${m.name}[${m.occurrence}]`;
    case 'add-recipient':
      return `+ RCPT ${withArgs(m.address, m.args)}`;
    case 'delete-recipient':
      return `- RCPT ${oneLine(m.address)}`;
    case 'change-sender':
      return `~ MAIL FROM ${withArgs(m.address, m.args)}`;
    case 'replace-body':
      return `body replaced (${m.body.length} bytes)`;
    case 'quarantine':
      return `quarantine: ${m.reason}`;
    default:
      return assertNever(m);
  }
}

/** One modification in the JSON report: its fields with bytes as text, and its report line. */
export function changeJson(m: Modification): Record<string, unknown> {
  const line = describeChange(m);
  switch (m.kind) {
    case 'add-header':
      return { kind: m.kind, name: m.name, value: valueText(m.value), line };
    case 'insert-header':
      return { kind: m.kind, index: m.index, name: m.name, value: valueText(m.value), line };
    case 'change-header':
      return {
        kind: m.kind,
        name: m.name,
        occurrence: m.occurrence,
        value: valueText(m.value),
        line,
      };
    case 'delete-header':
      return { kind: m.kind, name: m.name, occurrence: m.occurrence, line };
    case 'add-recipient':
    case 'change-sender':
      return { kind: m.kind, address: valueText(m.address), args: m.args ?? [], line };
    case 'delete-recipient':
      return { kind: m.kind, address: valueText(m.address), line };
    case 'replace-body':
      return { kind: m.kind, bytes: m.body.length, line };
    case 'quarantine':
      return { kind: m.kind, reason: m.reason, line };
    default:
      return assertNever(m);
  }
}

/** The envelope after the sender and recipient changes, in the order the MTA applies them. */
export function envelopeAfter(
  sender: string,
  recipients: readonly string[],
  modifications: readonly Modification[],
): { sender: string; recipients: string[] } {
  let from = sender;
  let to = [...recipients];
  const key = (address: string) => bareAddress(address).toLowerCase();
  for (const m of modifications) {
    if (m.kind === 'change-sender') from = valueText(m.address);
    if (m.kind === 'add-recipient') to.push(valueText(m.address));
    if (m.kind === 'delete-recipient') {
      const gone = key(valueText(m.address));
      to = to.filter((r) => key(r) !== gone);
    }
  }
  return { sender: from, recipients: to };
}

/** A milter reply text as the client reads it: one string per line, `%%` back to `%`. */
export function replyLines(text: WireText): string[] {
  const plain = typeof text === 'string' ? text : decodeBytes(text).text;
  return plain.split('\r\n').map((line) => line.replaceAll('%%', '%'));
}

/** The SMTP answer to the end of DATA, as the client sees it. */
export interface ReplyReport {
  readonly kind: Decision['verdict']['kind'];
  readonly code: number;
  /** The reply lines, e.g. `550 5.7.1 Message rejected as spam (score 1003.4, ref …)`. */
  readonly lines: readonly string[];
  /** What follows: delivered, held, dropped, refused, or the MTA's own text was used. */
  readonly note: string;
}

/** The MTA's own text for a reject or tempfail without one (Postfix's wording). */
const MTA_DEFAULT = {
  reject: '550 5.7.1 Command rejected',
  tempfail: '451 4.7.1 Service unavailable - try again later',
} as const;

/**
 * The reply for a decision, given the milter responses it becomes (`decisionToReplies`): the
 * final one carries the text, when the text's class matched the verdict.
 */
export function smtpReply(decision: Decision, responses: readonly Response[]): ReplyReport {
  const final = responses.at(-1);
  const { kind } = decision.verdict;
  switch (kind) {
    case 'accept': {
      const held = decision.modifications.some((m) => m.kind === 'quarantine');
      const note = held
        ? 'accepted, then held in the MTA quarantine'
        : 'accepted and delivered with the changes above';
      return { kind, code: 250, lines: ['250 accepted'], note };
    }
    case 'discard':
      return {
        kind,
        code: 250,
        lines: ['250 accepted'],
        note: 'accepted, then discarded: delivered to nobody',
      };
    case 'reject':
    case 'tempfail': {
      const note = kind === 'reject' ? 'refused' : 'refused for now: the client retries later';
      if (final?.kind !== 'replycode') {
        const line = MTA_DEFAULT[kind];
        return { kind, code: Number(line.slice(0, 3)), lines: [line], note: `${note}; MTA text` };
      }
      const lines = replyLines(final.text);
      return { kind, code: Number(lines[0]?.slice(0, 3)), lines, note };
    }
    default:
      return assertNever(kind);
  }
}
