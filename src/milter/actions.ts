/**
 * Turns a filter's Decision into the end-of-message replies: modifications first (only those the
 * MTA agreed to), then exactly one final reply.
 */
import type { Decision, Modification, SmtpReply, Verdict } from '../filter/decision.ts';
import { assertNever } from '../shared/assert-never.ts';
import { Action } from './constants.ts';
import type { Negotiated } from './negotiate.ts';
import { formatReplyText, type Response, replaceBody } from './responses.ts';

/** Something of a decision that could not be sent as given: a modification kind, or `reply`. */
export interface Refusal {
  readonly what: Modification['kind'] | 'reply';
  readonly reason: string;
}

/** The replies to write, and what could not be sent (not negotiated, unsafe, or malformed). */
export interface EomReplies {
  readonly responses: readonly Response[];
  readonly refused: readonly Refusal[];
}

/** Builds the end-of-message replies for a decision. Modifications are sent only with an accept verdict. */
export function decisionToReplies(decision: Decision, negotiated: Negotiated): EomReplies {
  const responses: Response[] = [];
  const refused: Refusal[] = [];
  if (decision.verdict.kind === 'accept') {
    let body: Response[] | undefined;
    for (const modification of decision.modifications) {
      const result = modificationToResponses(modification, negotiated);
      if (typeof result === 'string') refused.push({ what: modification.kind, reason: result });
      // Postfix insists that REPLBODY packets are contiguous; the last replacement wins.
      else if (modification.kind === 'replace-body') body = result;
      else responses.push(...result);
    }
    if (body !== undefined) responses.push(...body);
  }
  try {
    responses.push(finalReply(decision.verdict));
  } catch (error) {
    // A reply text the MTA would refuse (e.g. 550 with 4.7.1): send the plain verdict instead of
    // breaking the connection, and say why.
    if (!(error instanceof RangeError)) throw error;
    refused.push({ what: 'reply', reason: error.message });
    responses.push(finalReply({ kind: decision.verdict.kind } as Verdict));
  }
  return { responses, refused };
}

/** The one final reply for a verdict; a reply text is used only when its class matches (as libmilter does). */
export function finalReply(verdict: Verdict): Response {
  switch (verdict.kind) {
    case 'accept':
      // At end-of-message CONTINUE means "accept, with the modifications above".
      return { kind: 'continue' };
    case 'reject':
      return withText(verdict.reply, 5) ?? { kind: 'reject' };
    case 'tempfail':
      return withText(verdict.reply, 4) ?? { kind: 'tempfail' };
    case 'discard':
      return { kind: 'discard' };
    default:
      return assertNever(verdict);
  }
}

function withText(reply: SmtpReply | undefined, klass: number): Response | undefined {
  if (reply === undefined || Math.floor(reply.code / 100) !== klass) return undefined;
  return { kind: 'replycode', text: formatReplyText(reply.code, reply.enhanced, reply.lines) };
}

/** Replies for one modification, or the reason it cannot be sent. */
function modificationToResponses(m: Modification, n: Negotiated): Response[] | string {
  switch (m.kind) {
    case 'add-header':
      return (
        need(n, Action.AddHdrs, 'SMFIF_ADDHDRS') ??
        header(m.name, m.value, n, (name, value) => ({ kind: 'addheader', name, value }))
      );
    case 'insert-header':
      return (
        need(n, Action.AddHdrs, 'SMFIF_ADDHDRS') ??
        header(m.name, m.value, n, (name, value) => ({
          kind: 'insheader',
          index: m.index,
          name,
          value,
        }))
      );
    case 'change-header':
      return (
        need(n, Action.ChgHdrs, 'SMFIF_CHGHDRS') ??
        occurrence(m.occurrence) ??
        header(m.name, m.value, n, (name, value) => ({
          kind: 'chgheader',
          index: m.occurrence,
          name,
          value,
        }))
      );
    case 'delete-header':
      return (
        need(n, Action.ChgHdrs, 'SMFIF_CHGHDRS') ??
        occurrence(m.occurrence) ??
        (validName(m.name)
          ? [{ kind: 'chgheader', index: m.occurrence, name: m.name, value: '' }]
          : `bad header name ${JSON.stringify(m.name)}`)
      );
    case 'add-recipient':
      if (m.args !== undefined && m.args.length > 0) {
        return (
          need(n, Action.AddRcptPar, 'SMFIF_ADDRCPT_PAR') ?? [
            { kind: 'addrcpt_par', rcpt: m.address, args: m.args },
          ]
        );
      }
      return need(n, Action.AddRcpt, 'SMFIF_ADDRCPT') ?? [{ kind: 'addrcpt', rcpt: m.address }];
    case 'delete-recipient':
      return need(n, Action.DelRcpt, 'SMFIF_DELRCPT') ?? [{ kind: 'delrcpt', rcpt: m.address }];
    case 'change-sender':
      return (
        need(n, Action.ChgFrom, 'SMFIF_CHGFROM') ?? [
          { kind: 'chgfrom', from: m.address, args: m.args ?? [] },
        ]
      );
    case 'replace-body':
      return need(n, Action.ChgBody, 'SMFIF_CHGBODY') ?? replaceBody(m.body);
    case 'quarantine':
      if (m.reason === '' || /[\r\n\0]/.test(m.reason))
        return 'quarantine reason must be one non-empty line';
      return (
        need(n, Action.Quarantine, 'SMFIF_QUARANTINE') ?? [{ kind: 'quarantine', reason: m.reason }]
      );
    default:
      return assertNever(m);
  }
}

function need(n: Negotiated, action: number, name: string): string | undefined {
  return (n.actions & action) === 0 ? `${name} was not negotiated` : undefined;
}

function occurrence(index: number): string | undefined {
  return Number.isInteger(index) && index >= 1
    ? undefined
    : `header occurrence must be >= 1, got ${index}`;
}

const NAME = /^[\x21-\x39\x3b-\x7e]+$/; // printable ASCII except ':' (RFC 5322 field-name)

function validName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Header values go out with bare-LF folding (Postfix doubles CRs otherwise) and, when
 * HDR_LEADSPC was agreed, with the one space after the colon that the MTA would otherwise add.
 */
function header(
  name: string,
  value: string | Buffer,
  n: Negotiated,
  make: (name: string, value: Buffer) => Response,
): Response[] | string {
  if (!validName(name)) return `bad header name ${JSON.stringify(name)}`;
  const text = (typeof value === 'string' ? Buffer.from(value, 'utf8') : value)
    .toString('latin1')
    .replace(/\r\n/g, '\n');
  if (/[\r\0]/.test(text)) return `header ${name} value contains CR or NUL`;
  // A LF must start a continuation line, or it would begin a new (forged) header field.
  if (/\n(?![ \t])/.test(text)) return `header ${name} value has a line break that is not folding`;
  const bytes = Buffer.from(n.leadingSpace ? ` ${text}` : text, 'latin1');
  return [make(name, bytes)];
}
