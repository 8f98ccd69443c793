import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { findExecutable } from './which.ts';

/** One SMTP server reply, possibly multi-line. */
export interface SmtpReply {
  /** Three-digit reply code, e.g. 550. */
  code: number;
  /** RFC 3463 enhanced status code of the last line (e.g. `5.7.1`), or null when absent. */
  enhanced: string | null;
  /** The reply lines exactly as received, e.g. `550 5.7.1 Spam message rejected`. */
  lines: string[];
}

/** A reply together with the SMTP stage that provoked it (`CONNECT` for the greeting, `DOT` for the end of data). */
export interface StagedReply {
  stage: string;
  reply: SmtpReply;
}

/** An envelope plus the raw message (headers and body, LF or CRLF line endings). */
export interface Envelope {
  from: string;
  to: string | string[];
  message: Buffer;
  /** Postfix XCLIENT attributes sent before MAIL, e.g. `LOGIN=alice` (the server must allow it). */
  xclient?: string;
}

/** The outcome of one swaks run. */
export interface SwaksResult {
  /** swaks exit status: 0 on success, 2x when the server refused a stage (see swaks(1)). */
  exitCode: number;
  /** swaks' full transcript (stdout and stderr), for assertions and diagnostics. */
  transcript: string;
  /** Every server reply, tagged with its stage. */
  replies: StagedReply[];
}

/** The replies of one transaction in a multi-message session. */
export interface TransactionReplies {
  mail: SmtpReply;
  rcpt: SmtpReply[];
  /** Reply to DATA (354 when the server is ready for the message), absent if DATA was not sent. */
  data?: SmtpReply;
  /** Reply to the end-of-data dot (the server's verdict on the message), absent if no data was sent. */
  dot?: SmtpReply;
}

/** The replies of a whole raw SMTP session. */
export interface SessionResult {
  greeting: SmtpReply;
  ehlo: SmtpReply;
  transactions: TransactionReplies[];
  quit: SmtpReply;
}

const CRLF = Buffer.from('\r\n');
const HELO_NAME = 'client.spamward.test';

/** Returns why swaks cannot be used, or null when it is installed. */
export function swaksAvailable(): string | null {
  return findExecutable('swaks') === null ? 'swaks not found in PATH' : null;
}

/**
 * Encodes a raw message as SMTP DATA content (RFC 5321 §4.1.1.4, §4.5.2), ending with `.\r\n`.
 * Only three things change: every line ending becomes CRLF, lines starting with `.` get an extra
 * `.` (the server removes it again), and a last line without a line ending is terminated with
 * CRLF, because the DATA terminator `<CRLF>.<CRLF>` always ends the last line. A receiving MTA
 * therefore stores such a message *with* a final newline.
 */
export function toSmtpData(message: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start);
    const end = lf === -1 ? message.length : lf;
    let line = message.subarray(start, end);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    if (line[0] === 0x2e) parts.push(Buffer.from('.'));
    parts.push(line, CRLF);
    start = end + 1;
  }
  parts.push(Buffer.from('.\r\n'));
  return Buffer.concat(parts);
}

/** Parses reply lines (`250-…`, `250 …`) into an SmtpReply. */
export function parseReply(lines: string[]): SmtpReply {
  const last = lines.at(-1) ?? '';
  const match = /^(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})?/.exec(last);
  if (match === null) throw new Error(`malformed SMTP reply: ${JSON.stringify(lines)}`);
  return { code: Number(match[1]), enhanced: match[2] ?? null, lines };
}

/** Formats a reply for assertion messages. */
export function formatReply(reply: SmtpReply | undefined): string {
  return reply === undefined ? '(no reply)' : reply.lines.join(' / ');
}

/** The first reply for the given stage (`CONNECT`, `EHLO`, `MAIL`, `RCPT`, `DATA`, `DOT`, `QUIT`). */
export function replyAt(result: SwaksResult, stage: string): SmtpReply | undefined {
  return result.replies.find((r) => r.stage === stage)?.reply;
}

/**
 * Sends one message with swaks (the real SMTP client) to 127.0.0.1:port. swaks runs with
 * `--no-data-fixup` so it neither rewrites headers nor substitutes `%TOKENS%`: the DATA bytes are
 * exactly toSmtpData(message). Resolves even when the server refuses; inspect `replies`.
 */
export async function sendWithSwaks(port: number, envelope: Envelope): Promise<SwaksResult> {
  const swaks = findExecutable('swaks');
  if (swaks === null) throw new Error('swaks not found in PATH');
  const to = Array.isArray(envelope.to) ? envelope.to.join(',') : envelope.to;
  const args = [
    '--config', // a bare --config disables ~/.swaksrc
    '--server',
    '127.0.0.1',
    '--port',
    String(port),
    '--protocol',
    'ESMTP',
    '--helo',
    HELO_NAME,
    '--from',
    envelope.from,
    '--to',
    to,
    '--timeout',
    '30s',
    '--suppress-data',
    '--no-data-fixup',
    '--data',
    '-',
    ...(envelope.xclient === undefined ? [] : ['--xclient', envelope.xclient]),
  ];
  // With --no-data-fixup swaks sends the data followed by CRLF, so stop right after the dot.
  const data = toSmtpData(envelope.message).subarray(0, -CRLF.length);
  const { exitCode, output } = await run(swaks, args, data);
  return { exitCode, transcript: output, replies: parseSwaksTranscript(output) };
}

/** Runs a command with stdin, collecting stdout and stderr interleaved. */
function run(
  file: string,
  args: string[],
  stdin: Buffer,
): Promise<{ exitCode: number; output: string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SWAKS_')),
  );
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdin.on('error', () => {}); // swaks may exit before reading stdin; the exit code tells why
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      resolve({ exitCode: code ?? (signal === null ? -1 : 128), output });
    });
  });
}

/** Extracts the server replies from a swaks transcript and tags each with its SMTP stage. */
export function parseSwaksTranscript(transcript: string): StagedReply[] {
  const replies: StagedReply[] = [];
  let stage = 'CONNECT';
  let inData = false;
  let pending: string[] = [];
  for (const line of transcript.split(/\r?\n/)) {
    const client = /^ [-~]> (.*)$/.exec(line);
    if (client !== null) {
      stage = inData ? 'DOT' : verbOf(client[1] ?? '');
      continue;
    }
    const server = /^<(?:-|\*\*|~|~\*\*) +(\d{3}[ -].*|\d{3})$/.exec(line);
    if (server === null) continue;
    const text = server[1] ?? '';
    pending.push(text);
    if (text.charAt(3) === '-') continue;
    const reply = parseReply(pending);
    pending = [];
    replies.push({ stage, reply });
    if (stage === 'DATA') inData = reply.code === 354;
    else if (stage === 'DOT') inData = false;
  }
  return replies;
}

/** The SMTP verb of a client command line: `MAIL FROM:<a>` gives `MAIL`. */
function verbOf(command: string): string {
  return (/^[A-Za-z]+/.exec(command)?.[0] ?? command).toUpperCase();
}

/**
 * Runs one SMTP session over a raw socket (no pipelining) with several transactions, for cases
 * swaks cannot express (e.g. two messages in one session). Failed transactions are RSET and the
 * session continues.
 */
export async function smtpSession(port: number, envelopes: Envelope[]): Promise<SessionResult> {
  const conn = await SmtpConnection.open(port);
  try {
    const greeting = await conn.read();
    const ehlo = await conn.command(`EHLO ${HELO_NAME}`);
    const transactions: TransactionReplies[] = [];
    for (const envelope of envelopes) transactions.push(await transaction(conn, envelope));
    const quit = await conn.command('QUIT');
    return { greeting, ehlo, transactions, quit };
  } finally {
    conn.close();
  }
}

/** One MAIL/RCPT/DATA transaction; resets the session when the server refuses a step. */
async function transaction(conn: SmtpConnection, envelope: Envelope): Promise<TransactionReplies> {
  const mail = await conn.command(`MAIL FROM:<${envelope.from}>`);
  const rcpt: SmtpReply[] = [];
  const result: TransactionReplies = { mail, rcpt };
  if (mail.code !== 250) return reset(conn, result);
  for (const to of [envelope.to].flat()) rcpt.push(await conn.command(`RCPT TO:<${to}>`));
  if (!rcpt.some((r) => r.code === 250)) return reset(conn, result);
  result.data = await conn.command('DATA');
  if (result.data.code !== 354) return reset(conn, result);
  result.dot = await conn.send(toSmtpData(envelope.message));
  return result;
}

/** Sends RSET and returns the (incomplete) transaction replies. */
async function reset(
  conn: SmtpConnection,
  result: TransactionReplies,
): Promise<TransactionReplies> {
  await conn.command('RSET');
  return result;
}

/** A line-oriented SMTP client connection that reads complete (multi-line) replies. */
class SmtpConnection {
  readonly #socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  readonly #replies: SmtpReply[] = [];
  readonly #waiters: { resolve(reply: SmtpReply): void; reject(error: Error): void }[] = [];
  #failure: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setTimeout(30_000, () => socket.destroy(new Error('SMTP read timeout')));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk.toString('latin1')));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('SMTP connection closed by server')));
  }

  /** Connects to 127.0.0.1:port. */
  static open(port: number): Promise<SmtpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new SmtpConnection(socket));
      });
    });
  }

  /** Sends a command line and waits for its reply. */
  command(line: string): Promise<SmtpReply> {
    return this.send(Buffer.from(`${line}\r\n`, 'latin1'));
  }

  /** Writes raw bytes and waits for the next reply. */
  send(bytes: Buffer): Promise<SmtpReply> {
    this.#socket.write(bytes);
    return this.read();
  }

  /** Waits for the next complete reply. */
  read(): Promise<SmtpReply> {
    const ready = this.#replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Closes the socket. */
  close(): void {
    this.#socket.destroy();
  }

  #onData(text: string): void {
    this.#buffer += text;
    for (let eol = this.#buffer.indexOf('\r\n'); eol !== -1; eol = this.#buffer.indexOf('\r\n')) {
      const line = this.#buffer.slice(0, eol);
      this.#buffer = this.#buffer.slice(eol + 2);
      this.#lines.push(line);
      if (line.charAt(3) === '-') continue;
      let reply: SmtpReply;
      try {
        reply = parseReply(this.#lines);
      } catch (error) {
        this.#socket.destroy(error as Error);
        return;
      }
      this.#lines = [];
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#replies.push(reply);
      else waiter.resolve(reply);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
