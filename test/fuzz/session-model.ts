/**
 * A checked MilterSession: every command goes to the real session and to a small reference model
 * written from the protocol notes, and each step is compared with what the model expects. Any
 * mismatch, or any throw but a typed protocol error, is an AssertionError.
 */
import assert from 'node:assert/strict';
import type { Decision } from '../../src/filter/decision.ts';
import type { Message } from '../../src/message/message.ts';
import { finalReply } from '../../src/milter/actions.ts';
import type { Command } from '../../src/milter/commands.ts';
import { Proto } from '../../src/milter/constants.ts';
import { NegotiationError, UnexpectedCommandError } from '../../src/milter/errors.ts';
import type { Negotiated } from '../../src/milter/negotiate.ts';
import type { Response } from '../../src/milter/responses.ts';
import { MilterSession } from '../../src/milter/session.ts';
import { checkEomReplies, checkOptNeg } from './reply-checks.ts';
import { type SessionSpec, sessionOptions } from './session-arbitraries.ts';

/** What one command came to: replies written, a close, or a typed error (the connection ends). */
export type Outcome =
  | { readonly kind: 'reply'; readonly responses: readonly Response[] }
  | { readonly kind: 'close' }
  | { readonly kind: 'error'; readonly error: NegotiationError | UnexpectedCommandError };

/** The transaction as the model sees it. */
interface ModelTx {
  sender: Buffer | undefined;
  recipients: Buffer[];
  /** Name and value as the filter must see them. */
  headers: [string, Buffer][];
  body: Buffer[];
  bodyBytes: number;
  skipped: boolean;
}

const NEEDS_REPLY: Partial<Record<Command['kind'], number>> = {
  connect: Proto.NrConn,
  helo: Proto.NrHelo,
  mail: Proto.NrMail,
  data: Proto.NrData,
  header: Proto.NrHdr,
  eoh: Proto.NrEoh,
  unknown: Proto.NrUnkn,
};

/** One session under test with its model; `decide` plays the filter. */
export class CheckedSession {
  readonly session: MilterSession;
  readonly #spec: SessionSpec;
  readonly #decide: (message: Message) => Decision;
  readonly #probe: boolean;
  #tx: ModelTx = emptyTx();

  /** `probe`: at end-of-message, also check that a command before the decision is refused. */
  constructor(spec: SessionSpec, decide: (message: Message) => Decision, probe = false) {
    this.session = new MilterSession(sessionOptions(spec));
    this.#spec = spec;
    this.#decide = decide;
    this.#probe = probe;
  }

  /** Feeds one command (and, at end-of-message, the filter's decision); checks every reply. */
  handle(command: Command): Outcome {
    const before = this.session.negotiated;
    let step: ReturnType<MilterSession['handle']>;
    try {
      step = this.session.handle(command);
    } catch (error) {
      return { kind: 'error', error: this.#checkError(command, before, error) };
    }
    const n = this.session.negotiated;
    if (step.kind === 'close') {
      assert.equal(command.kind, 'quit', `${command.kind} closed the connection`);
      return step;
    }
    if (step.kind === 'filter') {
      assert.equal(command.kind, 'eob', `${command.kind} started the filter`);
      assert.ok(n !== undefined, 'end-of-message before negotiation reached the filter');
      return this.#endOfMessage(command, step.message, n);
    }
    assert.notEqual(command.kind, 'quit', 'QUIT did not close');
    assert.notEqual(command.kind, 'eob', 'end-of-message did not run the filter');
    const expected = this.#expect(command, n);
    assert.deepEqual(step.responses, expected, `replies to ${command.kind}`);
    return step;
  }

  /** Only the typed errors, and only where the protocol says so. */
  #checkError(
    command: Command,
    before: Negotiated | undefined,
    error: unknown,
  ): NegotiationError | UnexpectedCommandError {
    if (command.kind === 'optneg') {
      assert.ok(error instanceof NegotiationError, `OPTNEG threw ${String(error)}`);
      assert.ok(command.version < 2, `OPTNEG version ${command.version} refused`);
      return error;
    }
    assert.ok(error instanceof UnexpectedCommandError, `${command.kind} threw ${String(error)}`);
    assert.equal(before, undefined, `${command.kind} refused after negotiation: ${error.message}`);
    return error;
  }

  /** The replies the protocol requires for `command` (never called for eob, quit). */
  #expect(command: Command, n: Negotiated | undefined): readonly Response[] {
    const tx = this.#tx;
    switch (command.kind) {
      case 'optneg':
        assert.ok(n !== undefined);
        return checkOptNeg(command, n);
      case 'macro':
      case 'abort':
      case 'quit_nc':
        if (command.kind !== 'macro') this.#tx = emptyTx();
        return [];
      case 'rcpt':
        return this.#rcpt(command.address, must(n, command.kind));
      case 'body':
        return this.#body(command.chunk, must(n, command.kind));
      default: {
        const flag = NEEDS_REPLY[command.kind];
        assert.ok(flag !== undefined, `no expectation for ${command.kind}`);
        if (command.kind === 'connect') this.#tx = emptyTx();
        if (command.kind === 'mail') this.#tx = { ...emptyTx(), sender: command.address };
        if (command.kind === 'header') tx.headers.push(headerSeen(command, must(n, command.kind)));
        return ack(must(n, command.kind), flag);
      }
    }
  }

  #rcpt(address: Buffer, n: Negotiated): readonly Response[] {
    const gate = this.#spec.gate;
    const gated = gate !== undefined && (n.protocol & Proto.NrRcpt) === 0;
    if (gated && this.#tx.recipients.length >= gate.limit) return [finalReply(gate.verdict)];
    this.#tx.recipients.push(address);
    return ack(n, Proto.NrRcpt);
  }

  #body(chunk: Buffer, n: Negotiated): readonly Response[] {
    const tx = this.#tx;
    tx.body.push(chunk);
    tx.bodyBytes += chunk.length;
    if ((n.protocol & Proto.NrBody) !== 0) return [];
    if (tx.bodyBytes > this.#spec.maxBodyBytes && n.canSkip && !tx.skipped) {
      tx.skipped = true;
      return [{ kind: 'skip' }];
    }
    return [{ kind: 'continue' }];
  }

  #endOfMessage(
    command: Extract<Command, { kind: 'eob' }>,
    message: Message,
    n: Negotiated,
  ): Outcome {
    const tx = this.#tx;
    tx.body.push(command.chunk);
    tx.bodyBytes += command.chunk.length;
    const max = this.#spec.maxBodyBytes;
    assert.ok(this.session.inTransaction, 'not in a transaction while filtering');
    assert.ok(message.body.equals(Buffer.concat(tx.body).subarray(0, max)), 'message body');
    assert.equal(message.bodyBytes, tx.bodyBytes, 'bodyBytes');
    assert.equal(message.bodyTruncated, tx.bodyBytes > max, 'bodyTruncated');
    assert.deepEqual(
      message.recipients.map((r) => r.raw),
      tx.recipients,
      'recipients',
    );
    assert.deepEqual(message.sender?.raw, tx.sender, 'sender');
    assert.deepEqual(
      message.headers.map((h) => [h.name, h.value]),
      tx.headers,
      'headers',
    );
    if (this.#probe) {
      assert.throws(() => this.session.handle({ kind: 'abort' }), UnexpectedCommandError);
      assert.ok(this.session.inTransaction, 'a refused command ended the transaction');
    }
    const decision = this.#decide(message);
    const { responses } = this.session.decide(decision);
    checkEomReplies(decision, responses, n);
    assert.equal(this.session.inTransaction, false, 'still in a transaction after the decision');
    this.#tx = emptyTx();
    return { kind: 'reply', responses };
  }
}

function emptyTx(): ModelTx {
  return { sender: undefined, recipients: [], headers: [], body: [], bodyBytes: 0, skipped: false };
}

/** Without HDR_LEADSPC the MTA strips the space after the colon; the filter gets it back. */
function headerSeen(
  command: Extract<Command, { kind: 'header' }>,
  n: Negotiated,
): [string, Buffer] {
  const { name, value } = command;
  const restored =
    n.leadingSpace || value.length === 0 ? value : Buffer.concat([Buffer.from(' '), value]);
  return [name.toString('latin1'), restored];
}

function must(n: Negotiated | undefined, kind: string): Negotiated {
  assert.ok(n !== undefined, `${kind} was answered before negotiation`);
  return n;
}

function ack(n: Negotiated, flag: number): readonly Response[] {
  return (n.protocol & flag) !== 0 ? [] : [{ kind: 'continue' }];
}
