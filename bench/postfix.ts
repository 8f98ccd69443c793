/**
 * What Postfix (3.x, milter_protocol = 6) puts on the wire, as pre-encoded packets: its OPTNEG
 * offer, its MACRO packets per stage (the milter's SETSYMLIST lists, else Postfix's defaults) and
 * the commands of a session and of each message, each marked with whether Postfix waits for a
 * reply under the negotiated NO and NR flags.
 */
import { type Command, encodeCommand } from '../src/milter/commands.ts';
import { MAX_CHUNK, MacroStage, Proto } from '../src/milter/constants.ts';
import type { Response } from '../src/milter/responses.ts';
import type { CorpusMessage } from './corpus.ts';

/** The milter's OPTNEG reply. */
export type OptNegReply = Extract<Response, { kind: 'optneg' }>;

/** What Postfix offers: version 6, every action, every protocol bit. */
export const POSTFIX_OFFER = { version: 6, actions: 0x1ff, protocol: 0x1fffff } as const;

/** The OPTNEG packet Postfix sends first on every connection. */
export const OPTNEG_PACKET = encodeCommand({ kind: 'optneg', ...POSTFIX_OFFER });

/** ABORT (after every message) and QUIT (at the end), never answered. */
export const ABORT_PACKET = encodeCommand({ kind: 'abort' });
export const QUIT_PACKET = encodeCommand({ kind: 'quit' });

/** One write: packets sent back to back, and whether Postfix then waits for a final reply. */
export interface Step {
  readonly what: string;
  readonly packets: readonly Buffer[];
  readonly reply: boolean;
  /** A BODY step: may be answered with SKIP, after which Postfix sends no more body. */
  readonly body?: boolean;
}

// Postfix 3.x main.cf defaults (milter_*_macros); header and body packets reuse the EOH and EOD lists.
const POSTFIX_MACROS: Readonly<Record<number, string>> = {
  [MacroStage.Connect]: 'j {daemon_name} {daemon_addr} v _',
  [MacroStage.Helo]: '{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}',
  [MacroStage.EnvFrom]:
    'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
  [MacroStage.EnvRcpt]: 'i {rcpt_addr} {rcpt_host} {rcpt_mailer}',
  [MacroStage.Data]: 'i',
  [MacroStage.Eom]: 'i',
  [MacroStage.Eoh]: 'i',
};

// Which SMFIM_* list goes with the MACRO packet sent before each command.
const STAGE_OF: Readonly<Record<string, number>> = {
  C: MacroStage.Connect,
  H: MacroStage.Helo,
  M: MacroStage.EnvFrom,
  R: MacroStage.EnvRcpt,
  T: MacroStage.Data,
  L: MacroStage.Eoh,
  N: MacroStage.Eoh,
  B: MacroStage.Eom,
  E: MacroStage.Eom,
};

/** The SMTP client of one connection and the queue id of one message. */
export interface Envelope {
  /** e.g. `192.0.2.7`. */
  readonly clientAddr: string;
  readonly clientPort: number;
  /** Postfix-style queue id, e.g. `4B7A61E0F2`. */
  readonly queueId: string;
}

const FROM = '<sender@example.org>';
const RCPT = '<rcpt@example.net>';

/** The Postfix side of one negotiated connection: builds the steps it sends. */
export class PostfixPeer {
  readonly #protocol: number;
  readonly #macroNames: Readonly<Record<number, readonly string[]>>;
  readonly #encoded = new WeakMap<CorpusMessage, EncodedContent>();

  /** `negotiated` is the milter's OPTNEG reply, which the peer obeys. */
  constructor(negotiated: OptNegReply) {
    this.#protocol = negotiated.protocol;
    const lists: Record<number, readonly string[]> = {};
    for (const [stage, names] of Object.entries(POSTFIX_MACROS)) {
      lists[Number(stage)] = (negotiated.macros?.[Number(stage)] ?? names)
        .split(' ')
        .filter(Boolean);
    }
    this.#macroNames = lists;
  }

  /** CONNECT and HELO, sent once per connection. */
  sessionSteps(env: Envelope): Step[] {
    const steps: Step[] = [];
    if (!this.#on(Proto.NoConnect)) {
      const connect: Command = {
        kind: 'connect',
        // The client's verified name, as in the `_` and {client_name} macros below: every milter
        // then builds the same Received: line for its scanner.
        hostname: Buffer.from('client.example.org'),
        family: '4',
        port: env.clientPort,
        address: Buffer.from(env.clientAddr),
      };
      steps.push(this.#step('C', env, encodeCommand(connect), Proto.NrConn));
    }
    if (!this.#on(Proto.NoHelo)) {
      const helo = encodeCommand({ kind: 'helo', name: Buffer.from('client.example.org') });
      steps.push(this.#step('H', env, helo, Proto.NrHelo));
    }
    return steps;
  }

  /** MAIL … end-of-message for one message; no-reply packets are merged into the next write. */
  messageSteps(message: CorpusMessage, env: Envelope): Step[] {
    const steps: Step[] = [];
    if (!this.#on(Proto.NoMail)) {
      const mail = encodeCommand({ kind: 'mail', address: Buffer.from(FROM), args: [] });
      steps.push(this.#step('M', env, mail, Proto.NrMail));
    }
    if (!this.#on(Proto.NoRcpt)) {
      const rcpt = encodeCommand({ kind: 'rcpt', address: Buffer.from(RCPT), args: [] });
      steps.push(this.#step('R', env, rcpt, Proto.NrRcpt));
    }
    if (!this.#on(Proto.NoData)) steps.push(this.#step('T', env, DATA_PACKET, Proto.NrData));
    const content = this.#content(message);
    if (!this.#on(Proto.NoHdrs)) {
      for (const header of content.headers) steps.push(this.#step('L', env, header, Proto.NrHdr));
    }
    if (!this.#on(Proto.NoEoh)) steps.push(this.#step('N', env, EOH_PACKET, Proto.NrEoh));
    if (!this.#on(Proto.NoBody)) {
      for (const chunk of content.body) {
        steps.push({ ...this.#step('B', env, chunk, Proto.NrBody), body: true });
      }
    }
    steps.push({ ...this.#step('E', env, EOB_PACKET, 0), reply: true });
    return mergeNoReply(steps);
  }

  #on(flag: number): boolean {
    return (this.#protocol & flag) !== 0;
  }

  #step(stage: string, env: Envelope, packet: Buffer, noReply: number): Step {
    return { what: stage, packets: [this.#macros(stage, env), packet], reply: !this.#on(noReply) };
  }

  /** The MACRO packet before a command: only the macros that have a value, as Postfix does. */
  #macros(stage: string, env: Envelope): Buffer {
    const names = this.#macroNames[STAGE_OF[stage] as number] ?? [];
    const macros: [Buffer, Buffer][] = [];
    for (const name of names) {
      const value = macroValue(name, env);
      if (value !== undefined) macros.push([Buffer.from(name), Buffer.from(value)]);
    }
    return encodeCommand({ kind: 'macro', stage: stage.charCodeAt(0), macros });
  }

  /** Header and body packets of a corpus message, encoded once per peer and message. */
  #content(message: CorpusMessage): EncodedContent {
    let content = this.#encoded.get(message);
    if (content === undefined) {
      const leadSpace = this.#on(Proto.HdrLeadSpc);
      content = {
        headers: message.headers.map(([name, value]) =>
          encodeCommand({
            kind: 'header',
            name,
            // Without HDR_LEADSPC Postfix strips the space after the colon.
            value: leadSpace || value[0] !== 0x20 ? value : value.subarray(1),
          }),
        ),
        body: chunks(message.body).map((chunk) => encodeCommand({ kind: 'body', chunk })),
      };
      this.#encoded.set(message, content);
    }
    return content;
  }
}

interface EncodedContent {
  readonly headers: readonly Buffer[];
  readonly body: readonly Buffer[];
}

const DATA_PACKET = encodeCommand({ kind: 'data' });
const EOH_PACKET = encodeCommand({ kind: 'eoh' });
const EOB_PACKET = encodeCommand({ kind: 'eob', chunk: Buffer.alloc(0) });

/** Values Postfix would have for a plain (no TLS, no AUTH) inbound SMTP session. */
function macroValue(name: string, env: Envelope): string | undefined {
  switch (name) {
    case 'j':
      return 'mx.bench.example';
    case '_':
      return `client.example.org [${env.clientAddr}]`;
    case 'v':
      return 'Postfix 3.7.11';
    case 'i':
      return env.queueId;
    case '{daemon_name}':
      return 'smtpd';
    case '{daemon_addr}':
      return '192.0.2.1';
    case '{daemon_port}':
      return '25';
    case '{client_addr}':
      return env.clientAddr;
    case '{client_name}':
    case '{client_ptr}':
      return 'client.example.org';
    case '{client_port}':
      return String(env.clientPort);
    case '{mail_addr}':
      return FROM.slice(1, -1);
    case '{rcpt_addr}':
      return RCPT.slice(1, -1);
    case '{rcpt_host}':
      return 'mx.bench.example';
    case '{rcpt_mailer}':
      return 'local';
    default:
      return undefined;
  }
}

/** Postfix buffers packets that get no reply and flushes them with the next one that does. */
function mergeNoReply(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  let pending: Buffer[] = [];
  for (const step of steps) {
    if (!step.reply) {
      pending.push(...step.packets);
      continue;
    }
    out.push({ ...step, packets: [...pending, ...step.packets] });
    pending = [];
  }
  // The last step (EOB) always expects a reply, so nothing is left over.
  return out;
}

function chunks(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += MAX_CHUNK) out.push(body.subarray(at, at + MAX_CHUNK));
  return out;
}
