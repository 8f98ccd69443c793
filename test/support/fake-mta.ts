/**
 * A fake MTA: the client side of the milter protocol, built on the project's own codec. It
 * speaks to a milter over a real TCP or unix socket the way Postfix does (waits for every reply
 * except those agreed as no-reply) and fails instead of hanging: every wait has a deadline.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type Command, encodeCommand, type Family } from '../../src/milter/commands.ts';
import { Proto } from '../../src/milter/constants.ts';
import { FrameDecoder } from '../../src/milter/frame.ts';
import { decodeResponse, FINAL_KINDS, type Response } from '../../src/milter/responses.ts';

/** Where the milter listens: a TCP port (loopback unless `host` says otherwise) or a unix socket. */
export type MilterAddress =
  | { readonly port: number; readonly host?: string }
  | { readonly path: string };

/** The milter's answer to OPTNEG. */
export type OptNegReply = Extract<Response, { kind: 'optneg' }>;

/** The MTA's OPTNEG fields. */
export interface Offer {
  readonly version: number;
  readonly actions: number;
  readonly protocol: number;
}

/** What Postfix 3.7 offers (Sendmail and miltertest offer the same). */
export const POSTFIX_OFFER: Offer = { version: 6, actions: 0x1ff, protocol: 0x1fffff };

/** How long any single wait may take before the test fails. */
export const DEFAULT_TIMEOUT_MS = 3000;

/** The SMTP client announced by CONNECT. */
export interface ClientSpec {
  readonly hostname: string;
  readonly family: Family;
  readonly port: number;
  readonly address: string;
}

/** The client CONNECT announces unless a message spec names another. */
export const DEFAULT_CLIENT: ClientSpec = {
  hostname: '[192.0.2.7]',
  family: '4',
  port: 40000,
  address: '192.0.2.7',
};

/** One message for `FakeMta.message`; every field has a default. */
export interface MessageSpec {
  /** CONNECT first with this client (default DEFAULT_CLIENT); null to send no CONNECT. */
  readonly client?: ClientSpec | null;
  /** HELO name (default `client.example.org`); null to send no HELO. */
  readonly helo?: string | null;
  /** MAIL address with brackets (default `<sender@example.org>`). */
  readonly from?: string;
  /** RCPT addresses (default one: `<rcpt@example.net>`). */
  readonly rcpts?: readonly string[];
  /** Header fields, values as written after the colon (leading space included); Postfix strips one space unless HDR_LEADSPC. */
  readonly headers?: readonly (readonly [string, string])[];
  /** The body, CRLF line ends (default `Hello.\r\n`); empty means no BODY packet at all. */
  readonly body?: string | Buffer;
  /** BODY packet size (default 65535, as Postfix). */
  readonly chunkSize?: number;
  /** MACRO packets sent before each command of a stage, keyed by its letter, e.g. `{ M: { i: 'Q1' } }`. */
  readonly macros?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** One packet of a transaction, and whether the MTA waits for a reply to it. */
export interface Step {
  readonly command: Command;
  readonly reply: boolean;
}

/** What `FakeMta.message` saw: replies before end-of-message, then the end-of-message replies. */
export interface MessageResult {
  readonly steps: readonly Response[];
  readonly eob: readonly Response[];
}

/** Options for `FakeMta.connect`. */
export interface ConnectOptions {
  /** Deadline for the connect and for every later wait (default DEFAULT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Keep our side open after the milter's FIN, as Postfix does until it next needs the milter. */
  readonly allowHalfOpen?: boolean;
}

/** How `run` and `message` write. */
export interface RunOptions {
  /** Write every packet one byte at a time (see `trickle`). */
  readonly trickle?: boolean;
}

interface Waiter {
  resolve(response: Response): void;
  reject(error: Error): void;
}

/** A milter client connection (the MTA side). */
export class FakeMta {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  // Postfix reads replies up to ~1 GiB; 64 MiB is plenty for tests and fails fast on garbage.
  readonly #decoder = new FrameDecoder(64 * 1024 * 1024);
  readonly #queue: Response[] = [];
  readonly #closed: Promise<void>;
  #waiter: Waiter | undefined;
  #failure: Error | undefined;
  #offer: Offer | undefined;
  #negotiated: OptNegReply | undefined;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    // Errors (ECONNRESET, EPIPE) end the connection; reads then fail with `#failure`.
    socket.on('error', (error) => this.#fail(error));
    socket.on('end', () => this.#fail(new Error('the milter closed the connection')));
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#fail(new Error('the connection is closed'));
        resolve();
      });
    });
  }

  /** Connects to a milter; rejects on a refused connection or after the timeout. */
  static connect(address: MilterAddress, options: ConnectOptions = {}): Promise<FakeMta> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const allowHalfOpen = options.allowHalfOpen ?? false;
    const socket =
      'path' in address
        ? netConnect({ path: address.path, allowHalfOpen })
        : netConnect({ port: address.port, host: address.host ?? '127.0.0.1', allowHalfOpen });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new FakeMta(socket, timeoutMs));
      });
    });
  }

  /** The milter's OPTNEG reply, once `negotiate` has run. */
  get negotiated(): OptNegReply | undefined {
    return this.#negotiated;
  }

  /** Replies received but not read yet (stray replies show up here). */
  get unread(): readonly Response[] {
    return [...this.#queue];
  }

  /** Sends OPTNEG and returns the milter's answer (which later steps obey). */
  async negotiate(offer: Offer = POSTFIX_OFFER, options: RunOptions = {}): Promise<OptNegReply> {
    await this.#writer(options)(encodeCommand({ kind: 'optneg', ...offer }));
    const reply = await this.read();
    if (reply.kind !== 'optneg')
      throw new Error(`OPTNEG answered with ${describeReplies([reply])}`);
    this.#offer = offer;
    this.#negotiated = reply;
    return reply;
  }

  /** Sends one command without waiting for a reply. */
  send(command: Command): Promise<void> {
    return this.sendRaw(encodeCommand(command));
  }

  /** Sends a command and reads replies up to and including the final one. */
  async request(command: Command): Promise<Response[]> {
    await this.send(command);
    return this.readUntilFinal();
  }

  /** Writes raw bytes in one write. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Writes raw bytes one byte per write, yielding to the event loop between bytes. */
  async trickle(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      await this.sendRaw(bytes.subarray(i, i + 1));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The next reply; rejects after `timeoutMs` or when the connection ends first. */
  read(timeoutMs = this.#timeoutMs): Promise<Response> {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#waiter !== undefined) return Promise.reject(new Error('read() is already waiting'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no reply from the milter within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /**
   * Reads replies up to and including the next final one (continue, accept, reject, …, skip).
   * PROGRESS does not extend the deadline: `timeoutMs` bounds the whole wait.
   */
  async readUntilFinal(timeoutMs = this.#timeoutMs): Promise<Response[]> {
    const deadline = performance.now() + timeoutMs;
    const out: Response[] = [];
    for (;;) {
      const left = Math.max(1, Math.round(deadline - performance.now()));
      const response = await this.read(left).catch((error: unknown) => {
        const got = out.length > 0 ? ` after ${describeReplies(out)}` : '';
        throw new Error(`no final reply${got}: ${String(error)}`);
      });
      out.push(response);
      if (FINAL_KINDS.has(response.kind)) return out;
    }
  }

  /** Reads replies until `finals` final replies have arrived (for pipelined writes). */
  async collect(finals: number): Promise<Response[]> {
    const out: Response[] = [];
    for (let i = 0; i < finals; i++) out.push(...(await this.readUntilFinal()));
    return out;
  }

  /**
   * Runs one transaction as Postfix would under the negotiated options: waits only for steps
   * that get a reply, stops sending body after SKIP. Throws on any reply but CONTINUE before
   * end-of-message.
   */
  message(spec: MessageSpec = {}, options: RunOptions = {}): Promise<MessageResult> {
    return this.run(messageSteps(spec, this.#requireNegotiated()), options);
  }

  /** Runs steps as `message` does; `eob` is empty when the steps have no end-of-message. */
  async run(steps: readonly Step[], options: RunOptions = {}): Promise<MessageResult> {
    const write = this.#writer(options);
    const seen: Response[] = [];
    let skipping = false;
    for (const { command, reply } of steps) {
      if (skipping && isBodyStep(command)) continue;
      await write(encodeCommand(command));
      if (command.kind === 'eob') return { steps: seen, eob: await this.readUntilFinal() };
      if (!reply) continue;
      const replies = await this.readUntilFinal();
      seen.push(...replies);
      skipping = this.#checkStepReply(command, replies);
    }
    return { steps: seen, eob: [] };
  }

  /** Sends QUIT and waits for the milter to close the connection. */
  async quit(): Promise<void> {
    await this.send({ kind: 'quit' });
    await this.closed();
  }

  /** Half-closes our side (FIN) and waits until the connection is closed. */
  async close(): Promise<void> {
    this.#socket.end();
    await this.closed();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Resolves when the connection is closed (by either side); rejects after `timeoutMs`. */
  closed(timeoutMs = this.#timeoutMs): Promise<void> {
    return withTimeout(this.#closed, timeoutMs, 'the milter did not close the connection');
  }

  #writer(options: RunOptions): (bytes: Uint8Array) => Promise<void> {
    return options.trickle === true ? (b) => this.trickle(b) : (b) => this.sendRaw(b);
  }

  #requireNegotiated(): OptNegReply {
    if (this.#negotiated === undefined) throw new Error('negotiate() first');
    return this.#negotiated;
  }

  /** Validates a pre-EOB reply; returns true when it was SKIP (stop sending body). */
  #checkStepReply(command: Command, replies: readonly Response[]): boolean {
    const only = replies.length === 1 ? replies[0] : undefined;
    if (only?.kind === 'continue') return false;
    const skipOffered = ((this.#offer?.protocol ?? 0) & Proto.Skip) !== 0;
    if (only?.kind === 'skip' && command.kind === 'body' && skipOffered) return true;
    throw new Error(`unexpected reply to ${command.kind}: ${describeReplies(replies)}`);
  }

  #receive(chunk: Buffer): void {
    try {
      for (const frame of this.#decoder.push(chunk)) this.#deliver(decodeResponse(frame));
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      this.#socket.destroy();
    }
  }

  #deliver(response: Response): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) this.#queue.push(response);
    else waiter.resolve(response);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}

/** The packets of one transaction as an MTA sends them under `negotiated`, MACROs included. */
export function messageSteps(spec: MessageSpec, negotiated: OptNegReply): Step[] {
  const protocol = negotiated.protocol;
  const on = (flag: number): boolean => (protocol & flag) !== 0;
  const steps: Step[] = [];
  const add = (stage: string, command: Command, noReply: number): void => {
    const macros = spec.macros?.[stage];
    if (macros !== undefined) steps.push({ command: macroCommand(stage, macros), reply: false });
    steps.push({ command, reply: !on(noReply) });
  };
  const client = spec.client === undefined ? DEFAULT_CLIENT : spec.client;
  if (client !== null && !on(Proto.NoConnect)) add('C', connectCommand(client), Proto.NrConn);
  const helo = spec.helo === undefined ? 'client.example.org' : spec.helo;
  if (helo !== null && !on(Proto.NoHelo))
    add('H', { kind: 'helo', name: bytes(helo) }, Proto.NrHelo);
  if (!on(Proto.NoMail)) {
    add(
      'M',
      { kind: 'mail', address: bytes(spec.from ?? '<sender@example.org>'), args: [] },
      Proto.NrMail,
    );
  }
  if (!on(Proto.NoRcpt)) {
    for (const rcpt of spec.rcpts ?? ['<rcpt@example.net>']) {
      add('R', { kind: 'rcpt', address: bytes(rcpt), args: [] }, Proto.NrRcpt);
    }
  }
  if (negotiated.version >= 4 && !on(Proto.NoData)) add('T', { kind: 'data' }, Proto.NrData);
  if (!on(Proto.NoHdrs)) {
    for (const [name, value] of spec.headers ?? DEFAULT_HEADERS) {
      const sent = on(Proto.HdrLeadSpc) ? value : value.replace(/^ /, '');
      add('L', { kind: 'header', name: bytes(name), value: bytes(sent) }, Proto.NrHdr);
    }
  }
  if (!on(Proto.NoEoh)) add('N', { kind: 'eoh' }, Proto.NrEoh);
  if (!on(Proto.NoBody)) {
    for (const chunk of chunks(bytes(spec.body ?? 'Hello.\r\n'), spec.chunkSize ?? 65535)) {
      add('B', { kind: 'body', chunk }, Proto.NrBody);
    }
  }
  add('E', { kind: 'eob', chunk: Buffer.alloc(0) }, 0);
  return steps;
}

function connectCommand(client: ClientSpec): Command {
  return {
    kind: 'connect',
    hostname: bytes(client.hostname),
    family: client.family,
    port: client.port,
    address: bytes(client.address),
  };
}

/** A MACRO command for the stage whose command letter is `stage`. */
export function macroCommand(stage: string, macros: Readonly<Record<string, string>>): Command {
  return {
    kind: 'macro',
    stage: stage.charCodeAt(0),
    macros: Object.entries(macros).map(([name, value]) => [bytes(name), bytes(value)] as const),
  };
}

/** Replies as a short text for error messages, e.g. `addheader, continue`. */
export function describeReplies(responses: readonly Response[]): string {
  return responses.map((response) => response.kind).join(', ') || '(nothing)';
}

const DEFAULT_HEADERS: readonly (readonly [string, string])[] = [
  ['From', ' <sender@example.org>'],
  ['To', ' <rcpt@example.net>'],
  ['Subject', ' test message'],
];

function bytes(text: string | Buffer): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

function chunks(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) out.push(body.subarray(at, at + size));
  return out;
}

function isBodyStep(command: Command): boolean {
  return command.kind === 'body' || (command.kind === 'macro' && command.stage === 0x42);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
