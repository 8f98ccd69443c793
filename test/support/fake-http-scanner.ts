/**
 * A scripted HTTP server on 127.0.0.1:0 for fault injection: it answers with raw bytes (real
 * transcripts, garbage, 100 MB, one byte a second), never answers, or resets mid-reply. Also a
 * closed port (refused) and a "black hole" whose connects never complete (connect timeout).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { assertNever } from '../../src/shared/assert-never.ts';

/** What the fake server does with one request. */
export type FakeBehaviour =
  /** Send these bytes (a whole HTTP response) and close. */
  | { readonly kind: 'raw'; readonly bytes: string | Buffer }
  /** Read the request, then never answer. */
  | { readonly kind: 'silent' }
  /** Send the first bytes of an answer, then reset the connection (RST). */
  | { readonly kind: 'reset'; readonly partial: string }
  /** Stream `bytes` of body, with or without a Content-Length, until the client goes away. */
  | { readonly kind: 'huge'; readonly bytes: number; readonly declareLength: boolean }
  /** Send a valid answer one byte per `intervalMs`. */
  | { readonly kind: 'drip'; readonly bytes: string; readonly intervalMs: number };

/** One request as the fake server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Header lines in order, names as sent. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/** A running fake server. */
export interface FakeScanner {
  readonly port: number;
  /** `rspamd://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Connections still open on the server side (0 once every client hung up). */
  openConnections(): number;
  /** Closes the server and destroys every connection and timer it holds. */
  close(): Promise<void>;
}

/** Builds a complete HTTP/1.1 response the way rspamd 3.4 frames it (Connection: close). */
export function httpResponse(
  status: number,
  reason: string,
  body: string | Buffer,
  type = 'application/json',
): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nServer: rspamd/3.4\r\nContent-Length: ${payload.length}\r\nContent-Type: ${type}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** The values of header `name` (case-insensitive) in a recorded request. */
export function headerValues(request: RecordedRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return request.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** Starts a fake scanner; `script` decides the behaviour per request (index counts from 0). */
export async function startFakeScanner(
  script: FakeBehaviour | ((request: RecordedRequest, index: number) => FakeBehaviour),
): Promise<FakeScanner> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    readRequest(socket, (request) => {
      requests.push(request);
      const behaviour =
        typeof script === 'function' ? script(request, requests.length - 1) : script;
      act(socket, behaviour, timers);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `rspamd://127.0.0.1:${port}`,
    requests,
    openConnections: () => sockets.size,
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function act(socket: Socket, behaviour: FakeBehaviour, timers: Set<NodeJS.Timeout>): void {
  switch (behaviour.kind) {
    case 'raw':
      socket.end(behaviour.bytes);
      return;
    case 'silent':
      return;
    case 'reset':
      socket.write(behaviour.partial, () => socket.resetAndDestroy());
      return;
    case 'huge': {
      const length = behaviour.declareLength ? `Content-Length: ${behaviour.bytes}\r\n` : '';
      socket.write(
        `HTTP/1.1 200 OK\r\nConnection: close\r\n${length}Content-Type: application/json\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = behaviour.bytes;
      const pump = (): void => {
        while (left > 0 && !socket.destroyed) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
        if (left === 0) socket.end();
      };
      pump();
      return;
    }
    case 'drip': {
      let at = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || at >= behaviour.bytes.length) {
          clearInterval(timer);
          timers.delete(timer);
          socket.end();
          return;
        }
        socket.write(behaviour.bytes.slice(at, at + 1));
        at += 1;
      }, behaviour.intervalMs);
      timers.add(timer);
      socket.write(behaviour.bytes.slice(0, 1));
      at = 1;
      return;
    }
    default:
      assertNever(behaviour);
  }
}

/** Reads one request (headers, then a Content-Length body) and hands it over. */
function readRequest(socket: Socket, onRequest: (request: RecordedRequest) => void): void {
  let buffered = Buffer.alloc(0);
  let head:
    | { method: string; path: string; headers: [string, string][]; length: number }
    | undefined;
  let bodyStart = 0;
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    if (head === undefined) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const [method = '', path = ''] = (lines[0] ?? '').split(' ');
      const headers = lines.slice(1).map((line): [string, string] => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon), line.slice(colon + 1).trim()];
      });
      const lengthHeader = headers.find(([n]) => n.toLowerCase() === 'content-length');
      head = { method, path, headers, length: Number(lengthHeader?.[1] ?? 0) };
      bodyStart = end + 4;
    }
    if (buffered.length - bodyStart < head.length) return;
    socket.off('data', onData);
    const body = buffered.subarray(bodyStart, bodyStart + head.length);
    onRequest({ method: head.method, path: head.path, headers: head.headers, body });
  };
  socket.on('data', onData);
}

/** A loopback port with nothing listening (connects are refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** A loopback port whose connects never complete; see startBlackHole. */
export interface BlackHole {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A listener whose accept queue is full, so further connects hang in SYN-SENT: a child process
 * listens with backlog 1 and then blocks its event loop (it never accepts); filler connections
 * take the queue's places.
 */
export async function startBlackHole(): Promise<BlackHole> {
  const code = `const s = require('node:net').createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(s.address().port + '\\n',
  () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const [line] = (await once(child.stdout ?? child, 'data')) as [Buffer];
  child.stdout?.destroy();
  const port = Number(String(line).trim());
  const fillers: Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const filler = tcpConnect(port, '127.0.0.1');
    filler.on('error', () => {});
    fillers.push(filler);
    const connected = await Promise.race([
      once(filler, 'connect').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, 100, false)),
    ]);
    if (!connected) break;
  }
  return {
    port,
    url: `rspamd://127.0.0.1:${port}`,
    async close() {
      for (const filler of fillers) filler.destroy();
      child.kill('SIGKILL');
      await exited;
    },
  };
}
