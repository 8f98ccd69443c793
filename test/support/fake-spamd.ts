/**
 * Scripted fake spamd servers on 127.0.0.1:0 for fault injection: each connection gets one
 * scripted behaviour. Every server-side socket and timer ends when the client goes away, so
 * resource counts in the test process return to their baseline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** What the fake does with a connection. */
export type FakeBehaviour =
  /** Reads the request, never answers. */
  | { readonly kind: 'silent' }
  /** Sends the start of a valid reply, then a TCP reset. */
  | { readonly kind: 'reset-mid-reply' }
  /** Answers an HTTP error page. */
  | { readonly kind: 'garbage' }
  /** Streams a valid-looking reply of `bytes` (default 100 MB), honouring backpressure. */
  | { readonly kind: 'huge'; readonly bytes?: number }
  /** Sends a valid reply one byte per `intervalMs` (default 1 000). */
  | { readonly kind: 'drip'; readonly intervalMs?: number }
  /** Closes (FIN) after the request without a byte of answer. */
  | { readonly kind: 'close-before-reply' }
  /** Sends `reply` and closes, after the request or (`early`) as soon as the client connects. */
  | { readonly kind: 'reply'; readonly reply: Buffer; readonly early?: boolean };

/** A running fake. */
export interface FakeSpamd {
  readonly url: string;
  /** Bytes the fake managed to write (all connections). */
  bytesWritten(): number;
  /** The requests received, each complete once the client half-closed. */
  readonly requests: Buffer[];
  close(): Promise<void>;
}

const REPLY_HEAD = 'SPAMD/1.1 0 EX_OK\r\n';
const SPAM = 'Spam: True ; 1000.0 / 5.0\r\n';

/** Starts a fake spamd with one behaviour for every connection. */
export async function startFakeSpamd(behaviour: FakeBehaviour): Promise<FakeSpamd> {
  const requests: Buffer[] = [];
  let written = 0;
  const sockets = new Set<Socket>();
  // allowHalfOpen: the client half-closes after its request and still reads our answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the client hanging up on us is the point of most cases
    socket.on('close', () => sockets.delete(socket));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const write = (data: Buffer | string): boolean => {
      written += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return socket.write(data);
    };
    if (behaviour.kind === 'reply' && behaviour.early === true) {
      write(behaviour.reply);
      socket.end();
      return;
    }
    socket.on('end', () => {
      requests.push(Buffer.concat(chunks));
      respond(socket, behaviour, write);
    });
  });
  await listen(server);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake spamd has no port');
  return {
    url: `spamd://127.0.0.1:${address.port}`,
    bytesWritten: () => written,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function respond(
  socket: Socket,
  behaviour: FakeBehaviour,
  write: (data: Buffer | string) => boolean,
): void {
  switch (behaviour.kind) {
    case 'silent':
      return;
    case 'reset-mid-reply':
      write(`${REPLY_HEAD}Content-length: 1000\r\n${SPAM}\r\n${'GTUBE,'.repeat(20)}`);
      setImmediate(() => socket.resetAndDestroy());
      return;
    case 'garbage':
      write('HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>nope</html>\r\n');
      socket.end();
      return;
    case 'huge':
      stream(socket, behaviour.bytes ?? 100 * 1024 * 1024, write);
      return;
    case 'drip':
      drip(socket, behaviour.intervalMs ?? 1_000, write);
      return;
    case 'close-before-reply':
      socket.end();
      return;
    case 'reply':
      write(behaviour.reply);
      socket.end();
      return;
  }
}

/** A reply header claiming `total` bytes, then filler in 64 KiB chunks while the client reads. */
function stream(socket: Socket, total: number, write: (data: Buffer | string) => boolean): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let left = total;
  write(`${REPLY_HEAD}Content-length: ${total}\r\n${SPAM}\r\n`);
  const pump = (): void => {
    while (left > 0 && !socket.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!write(piece)) {
        socket.once('drain', pump);
        return;
      }
    }
    if (!socket.destroyed) socket.end();
  };
  pump();
}

/** One byte of a valid CHECK reply per interval; the timer stops when the socket closes. */
function drip(socket: Socket, intervalMs: number, write: (data: Buffer | string) => boolean): void {
  const reply = Buffer.from(`${REPLY_HEAD}${SPAM}\r\n`);
  let sent = 0;
  const timer = setInterval(() => {
    write(reply.subarray(sent, sent + 1));
    sent += 1;
    if (sent === reply.length) {
      clearInterval(timer);
      socket.end();
    }
  }, intervalMs);
  socket.once('close', () => clearInterval(timer));
}

/** A spamd URL on a loopback port nothing listens on (connections are refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await listen(server);
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return `spamd://127.0.0.1:${address.port}`;
}

/** A listener that never accepts: its accept queue is full, so new connections hang in SYN. */
export interface Blackhole {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a child process that listens with backlog 1 and then blocks its event loop, and fills
 * the kernel's accept queue, so a further connect neither succeeds nor fails until timed out.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const script = `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
  });
  child.stdout?.destroy();
  const fillers: Socket[] = [];
  // Linux queues backlog + 1 completed handshakes; fill them, then check the next one hangs.
  for (let i = 0; i < 8; i++) {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    url: `spamd://127.0.0.1:${port}`,
    close: () => closeBlackhole(child, fillers),
  };
}

async function closeBlackhole(child: ChildProcess, fillers: Socket[]): Promise<void> {
  for (const socket of fillers) socket.destroy();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
}
