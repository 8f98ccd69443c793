/**
 * The milter session state machine for one MTA connection. No I/O and no timers: it takes
 * decoded commands and says what to write, when to run the filter, and when to close.
 *
 * It is lenient about order (a RCPT after ABORT still gets an answer; libmilter would stay silent
 * and leave the MTA waiting) and strict about replies: exactly one for every command that
 * expects one, none for MACRO, ABORT, QUIT, QUIT_NC or steps agreed as no-reply.
 */
import { randomBytes } from 'node:crypto';
import type { Decision, Verdict } from '../filter/decision.ts';
import type { ClientInfo, EnvelopeAddress, HeaderField, Message } from '../message/message.ts';
import { assertNever } from '../shared/assert-never.ts';
import { decisionToReplies, type EomReplies, finalReply } from './actions.ts';
import type { Command } from './commands.ts';
import { Proto } from './constants.ts';
import { UnexpectedCommandError } from './errors.ts';
import { MacroStore } from './macros.ts';
import { has, type Negotiated, type NegotiationWishes, negotiate } from './negotiate.ts';
import type { Response } from './responses.ts';

/** What the socket adapter must do after a command. */
export type Step =
  /** Write these replies (possibly none) and read on. */
  | { readonly kind: 'reply'; readonly responses: readonly Response[] }
  /** End-of-message: run the filter on `message`, then pass its decision to `session.decide`. */
  | { readonly kind: 'filter'; readonly message: Message }
  /** The MTA said QUIT: close the connection. */
  | { readonly kind: 'close' };

/** What a RCPT gate sees: the client and how many recipients this message already has. */
export interface RcptContext {
  readonly client: ClientInfo;
  /** The recipient being asked for. */
  readonly recipient: EnvelopeAddress;
  /** The transaction's sender, if MAIL was seen. */
  readonly sender: EnvelopeAddress | undefined;
  /** Recipients accepted so far in this transaction. */
  readonly accepted: number;
  /** SMTP AUTH user (macro `{auth_authen}`), if any. */
  readonly authUser: string | undefined;
}

/** Decides at RCPT time: undefined accepts the recipient, a reject/tempfail refuses just that one. */
export type RcptGate = (
  context: RcptContext,
) => Extract<Verdict, { kind: 'reject' | 'tempfail' }> | undefined;

/** Session settings. */
export interface SessionOptions {
  /** Optional policy at RCPT time (e.g. a recipient cap); pure and synchronous. */
  readonly rcptGate?: RcptGate;
  /** What to ask of the MTA in negotiation. */
  readonly wishes: NegotiationWishes;
  /** Body bytes kept for the filter; beyond this the rest is counted, not kept, and skipped if the MTA allows. */
  readonly maxBodyBytes: number;
}

const NONE: Step = { kind: 'reply', responses: [] };
const CONTINUE: Step = { kind: 'reply', responses: [{ kind: 'continue' }] };
const SKIP: Step = { kind: 'reply', responses: [{ kind: 'skip' }] };

interface Transaction {
  sender: EnvelopeAddress | undefined;
  recipients: EnvelopeAddress[];
  headers: HeaderField[];
  body: Buffer[];
  bodyKept: number;
  bodyBytes: number;
  truncated: boolean;
  skipped: boolean;
}

/** One MTA connection's protocol state. */
export class MilterSession {
  readonly #options: SessionOptions;
  readonly #macros = new MacroStore();
  #negotiated: Negotiated | undefined;
  #client: ClientInfo | undefined;
  #tx: Transaction | undefined;
  #awaitingDecision = false;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** The agreed options, once OPTNEG has been answered. */
  get negotiated(): Negotiated | undefined {
    return this.#negotiated;
  }

  /** True between MAIL (or the first message command) and the end-of-message reply. */
  get inTransaction(): boolean {
    return this.#tx !== undefined || this.#awaitingDecision;
  }

  /** Handles one command. Throws a MilterProtocolError when the connection cannot go on. */
  handle(command: Command): Step {
    if (this.#awaitingDecision) {
      throw new UnexpectedCommandError(
        `'${command.kind}' arrived while end-of-message was being filtered`,
      );
    }
    switch (command.kind) {
      case 'optneg': {
        this.#negotiated = negotiate(command, this.#options.wishes);
        const n = this.#negotiated;
        return {
          kind: 'reply',
          responses: [
            {
              kind: 'optneg',
              version: n.version,
              actions: n.actions,
              protocol: n.protocol,
              macros: n.macros,
            },
          ],
        };
      }
      case 'macro': {
        const stage = String.fromCharCode(command.stage);
        this.#macros.set(
          stage,
          command.macros.map(([name, value]) => [text(name), text(value)] as const),
        );
        return NONE;
      }
      case 'connect':
        this.#macros.clearAfter('C');
        this.#tx = undefined;
        this.#client = {
          hostname: text(command.hostname),
          family: command.family,
          address: text(command.address),
          port: command.port,
          helo: undefined,
        };
        return this.#ack(Proto.NrConn);
      case 'helo':
        this.#macros.clearAfter('H');
        this.#client = { ...this.#clientOrUnknown(), helo: text(command.name) };
        return this.#ack(Proto.NrHelo);
      case 'mail':
        this.#macros.clearAfter('M');
        this.#tx = newTransaction();
        this.#tx.sender = address(command.address, command.args);
        return this.#ack(Proto.NrMail);
      case 'rcpt': {
        this.#macros.clearAfter('R');
        const tx = this.#transaction();
        // A refusal must be answered, so the gate only runs when RCPT replies were kept.
        const recipient = address(command.address, command.args);
        if (!has(this.#agreed().protocol, Proto.NrRcpt)) {
          const refusal = this.#options.rcptGate?.({
            client: this.#clientOrUnknown(),
            recipient,
            sender: tx.sender,
            accepted: tx.recipients.length,
            authUser: this.#macros.get('auth_authen'),
          });
          // A refused recipient is not part of the message (REJECT/TEMPFAIL at RCPT scope one recipient).
          if (refusal !== undefined) return { kind: 'reply', responses: [finalReply(refusal)] };
        }
        tx.recipients.push(recipient);
        return this.#ack(Proto.NrRcpt);
      }
      case 'data':
        this.#macros.clearAfter('T');
        this.#transaction();
        return this.#ack(Proto.NrData);
      case 'header':
        this.#transaction().headers.push({
          name: command.name.toString('latin1'),
          value: this.#headerValue(command.value),
        });
        return this.#ack(Proto.NrHdr);
      case 'eoh':
        this.#transaction();
        return this.#ack(Proto.NrEoh);
      case 'body':
        return this.#body(command.chunk);
      case 'eob':
        // Refused before OPTNEG like every other step: decide() needs the agreed options, so the
        // filter must not run for a message whose decision could never be sent.
        this.#agreed();
        if (command.chunk.length > 0) this.#appendBody(command.chunk);
        this.#awaitingDecision = true;
        return { kind: 'filter', message: this.#message() };
      case 'abort':
        // Postfix sends ABORT after every message and again before QUIT: idempotent, never answered.
        this.#tx = undefined;
        this.#macros.clearMessage();
        return NONE;
      case 'quit':
        return { kind: 'close' };
      case 'quit_nc':
        // A new connection on the same socket: keep the negotiation, forget everything else.
        this.#tx = undefined;
        this.#client = undefined;
        this.#macros.clear();
        return NONE;
      case 'unknown':
        return this.#ack(Proto.NrUnkn);
      default:
        return assertNever(command);
    }
  }

  /** Completes end-of-message with the filter's decision; returns the replies to write. */
  decide(decision: Decision): EomReplies {
    if (!this.#awaitingDecision)
      throw new UnexpectedCommandError('decide() called with no message being filtered');
    this.#awaitingDecision = false;
    this.#tx = undefined;
    return decisionToReplies(decision, this.#agreed());
  }

  #ack(noReplyFlag: number): Step {
    return has(this.#agreed().protocol, noReplyFlag) ? NONE : CONTINUE;
  }

  #agreed(): Negotiated {
    if (this.#negotiated === undefined)
      throw new UnexpectedCommandError('command before option negotiation');
    return this.#negotiated;
  }

  #clientOrUnknown(): ClientInfo {
    return (
      this.#client ?? { hostname: 'unknown', family: 'U', address: '', port: 0, helo: undefined }
    );
  }

  /** The open transaction; a message command without MAIL opens one rather than failing. */
  #transaction(): Transaction {
    this.#tx ??= newTransaction();
    return this.#tx;
  }

  /** Values arrive without the space after the colon unless HDR_LEADSPC was agreed; restore it. */
  #headerValue(value: Buffer): Buffer {
    // A copy either way: the value is a view into the socket's read buffer (see address()).
    if (this.#agreed().leadingSpace || value.length === 0) return Buffer.from(value);
    return Buffer.concat([SPACE, value]);
  }

  #body(chunk: Buffer): Step {
    const tx = this.#transaction();
    this.#appendBody(chunk);
    if (has(this.#agreed().protocol, Proto.NrBody)) return NONE;
    if (tx.truncated && this.#agreed().canSkip && !tx.skipped) {
      // Past the cap the rest is useless to us: SKIP makes Postfix go straight to end-of-message.
      tx.skipped = true;
      return SKIP;
    }
    return CONTINUE;
  }

  #appendBody(chunk: Buffer): void {
    const tx = this.#transaction();
    tx.bodyBytes += chunk.length;
    const room = this.#options.maxBodyBytes - tx.bodyKept;
    if (chunk.length > room) tx.truncated = true;
    const keep = room >= chunk.length ? chunk : chunk.subarray(0, Math.max(0, room));
    if (keep.length > 0) {
      // Copy: the chunk may be a view into a larger socket buffer that would otherwise stay alive.
      tx.body.push(Buffer.from(keep));
      tx.bodyKept += keep.length;
    }
  }

  #message(): Message {
    const tx = this.#transaction();
    const macros = this.#macros.snapshot();
    return {
      id: this.#macros.get('i') ?? `sw-${randomBytes(6).toString('hex')}`,
      client: this.#clientOrUnknown(),
      sender: tx.sender,
      recipients: tx.recipients,
      headers: tx.headers,
      body: Buffer.concat(tx.body, tx.bodyKept),
      bodyBytes: tx.bodyBytes,
      bodyTruncated: tx.truncated || tx.skipped,
      macros,
    };
  }
}

const SPACE = Buffer.from(' ');

function newTransaction(): Transaction {
  return {
    sender: undefined,
    recipients: [],
    headers: [],
    body: [],
    bodyKept: 0,
    bodyBytes: 0,
    truncated: false,
    skipped: false,
  };
}

function address(raw: Buffer, args: readonly Buffer[]): EnvelopeAddress {
  // Copied: `raw` is a view into the socket's read buffer, which it would keep alive all message.
  return { address: text(raw), raw: Buffer.from(raw), args: args.map(text) };
}

/** Bytes from the MTA as text for the filter (UTF-8; SMTPUTF8 addresses are UTF-8). */
function text(bytes: Buffer): string {
  return bytes.toString('utf8');
}
