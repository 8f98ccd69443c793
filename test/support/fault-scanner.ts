/**
 * A fault-injecting scanner for daemon-level fault tests: one raw TCP server on 127.0.0.1 that
 * speaks just enough SPAMC/1.5 (spamd) or HTTP/1.1 (rspamd's /checkv2) to answer *healthy* — a
 * real GTUBE reply captured from spamd 4.0.1 / rspamd 3.4 — and can be switched to a fault at any
 * moment, stopped (nothing listens: connections are refused; connections in flight are cut, as
 * when the scanner dies) and restarted on the SAME port (the scanner comes back).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { assertNever } from '../../src/shared/assert-never.ts';
import { httpResponse } from './fake-http-scanner.ts';
import { loadTranscript } from './spamd-transcript.ts';

/** What the server does with each complete request (decided when the request has arrived). */
export type Fault =
  /** A real GTUBE answer (spamd REPORT / rspamd checkv2), then close. */
  | { readonly kind: 'healthy' }
  /** Reads the request, never answers (the connection stays open). */
  | { readonly kind: 'stall' }
  /** Sends the first half of the healthy answer, then a TCP reset. */
  | { readonly kind: 'reset' }
  /** Sends bytes of no protocol at all, then closes. */
  | { readonly kind: 'garbage' }
  /**
   * A valid answer head, then `bytes` of filler while the client reads. HTTP only: with or
   * without a Content-Length (spamd always declares its Content-length).
   */
  | { readonly kind: 'oversized'; readonly bytes: number; readonly declareLength?: boolean }
  /** The healthy answer one byte per `intervalMs`: data keeps flowing, it just never ends in time. */
  | { readonly kind: 'drip'; readonly intervalMs: number };

/** The two wire protocols. */
export type FaultProtocol = 'spamd' | 'http';

/** A running (or stopped) fault scanner. */
export interface FaultScanner {
  readonly protocol: FaultProtocol;
  readonly port: number;
  /** `spamd://127.0.0.1:PORT` or `rspamd://127.0.0.1:PORT`. */
  readonly url: string;
  /** What the next complete requests get. */
  fault: Fault;
  /** TCP connections accepted so far (all starts together). */
  connections(): number;
  /** Complete requests received so far. */
  requests(): number;
  /** Bytes written to clients so far. */
  bytesWritten(): number;
  /** Resolves once `requests()` reaches `count`; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes the listener and cuts every open connection (FIN): the scanner is gone. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

/** Non-protocol bytes: binary, then line ends so a line reader sees a complete (bad) line. */
export const GARBAGE = Buffer.from(
  '\x00\xff\xfeGARBAGE \x7f\x01 not a scanner reply\r\n\r\n',
  'latin1',
);

const RSPAMD_GTUBE = readFileSync(
  new URL('../fixtures/rspamd/rspamd-checkv2-gtube.json.raw', import.meta.url),
);

/** The healthy answer for each protocol. */
export function healthyReply(protocol: FaultProtocol): Buffer {
  return protocol === 'spamd'
    ? loadTranscript('spamd-REPORT-gtube.txt').reply
    : httpResponse(200, 'OK', RSPAMD_GTUBE);
}

/** Starts a fault scanner on a free loopback port, healthy unless `fault` says otherwise. */
export async function startFaultScanner(
  protocol: FaultProtocol,
  fault: Fault = { kind: 'healthy' },
): Promise<FaultScanner> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted = 0;
  let requests = 0;
  let written = 0;
  const healthy = healthyReply(protocol);
  const state = { fault };

  const write = (socket: Socket, data: Buffer | string, done?: () => void): boolean => {
    if (socket.destroyed) return false;
    written += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return socket.write(data, done);
  };

  const answer = (socket: Socket): void => {
    requests++;
    const now = state.fault;
    switch (now.kind) {
      case 'healthy':
        write(socket, healthy);
        socket.end();
        return;
      case 'stall':
        return;
      case 'reset':
        write(socket, healthy.subarray(0, Math.floor(healthy.length / 2)), () =>
          socket.resetAndDestroy(),
        );
        return;
      case 'garbage':
        write(socket, GARBAGE);
        socket.end();
        return;
      case 'oversized':
        pump(socket, oversizedHead(protocol, now), now.bytes, write);
        return;
      case 'drip': {
        let at = 0;
        const timer = setInterval(() => {
          if (at >= healthy.length) {
            clearInterval(timer);
            timers.delete(timer);
            socket.end();
            return;
          }
          write(socket, healthy.subarray(at, at + 1));
          at++;
        }, now.intervalMs);
        timers.add(timer);
        socket.once('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
        return;
      }
      default:
        assertNever(now);
    }
  };

  // allowHalfOpen: the spamd client half-closes after its request and still reads our answer.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {}); // clients hanging up on us is the point of most faults
    socket.on('close', () => sockets.delete(socket));
    if (protocol === 'spamd') readSpamdRequest(socket, () => answer(socket));
    else readHttpRequest(socket, () => answer(socket));
  });
  await listen(server, 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault scanner: no port');
  const port = address.port;

  return {
    protocol,
    port,
    url: `${protocol === 'spamd' ? 'spamd' : 'rspamd'}://127.0.0.1:${port}`,
    get fault() {
      return state.fault;
    },
    set fault(next: Fault) {
      state.fault = next;
    },
    connections: () => accepted,
    requests: () => requests,
    bytesWritten: () => written,
    async waitForRequests(count, timeoutMs = 10_000) {
      const until = performance.now() + timeoutMs;
      while (requests < count) {
        if (performance.now() > until)
          throw new Error(`fault scanner: ${requests} of ${count} requests after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      await listen(server, port);
    },
  };
}

function oversizedHead(
  protocol: FaultProtocol,
  fault: Extract<Fault, { kind: 'oversized' }>,
): string {
  if (protocol === 'spamd')
    return `SPAMD/1.1 0 EX_OK\r\nContent-length: ${fault.bytes}\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n`;
  const length = fault.declareLength === false ? '' : `Content-Length: ${fault.bytes}\r\n`;
  return `HTTP/1.1 200 OK\r\nConnection: close\r\n${length}Content-Type: application/json\r\n\r\n`;
}

/** Writes `head`, then `total` filler bytes in 64 KiB pieces, honouring backpressure. */
function pump(
  socket: Socket,
  head: string,
  total: number,
  write: (socket: Socket, data: Buffer | string) => boolean,
): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let left = total;
  write(socket, head);
  const more = (): void => {
    while (left > 0 && !socket.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!write(socket, piece)) {
        socket.once('drain', more);
        return;
      }
    }
    if (!socket.destroyed) socket.end();
  };
  more();
}

/** A SPAMC request is complete when the client half-closes (our client always does, over TCP). */
function readSpamdRequest(socket: Socket, onRequest: () => void): void {
  socket.on('data', () => {});
  socket.once('end', onRequest);
}

/** An HTTP request is complete after its head and Content-Length bytes of body. */
function readHttpRequest(socket: Socket, onRequest: () => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(
      buffered.subarray(0, end).toString('latin1'),
    );
    if (buffered.length - (end + 4) < Number(length?.[1] ?? 0)) return;
    socket.off('data', onData);
    socket.on('data', () => {});
    onRequest();
  };
  socket.on('data', onData);
}

async function listen(server: Server, port: number): Promise<void> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
}
