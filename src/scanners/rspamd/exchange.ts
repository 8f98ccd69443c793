/**
 * One HTTP request/response with rspamd, bounded in every direction: a connect timeout, a total
 * timeout, a response size cap and the caller's AbortSignal. Every bound ends the request the same
 * way — an internal AbortController passed to node:http as `signal`, which destroys the request
 * and its socket — so nothing keeps running after the promise settles.
 */
import type { Agent, ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import {
  BadResponseError,
  ConnectionError,
  ConnectTimeoutError,
  ResponseTooLargeError,
  ScanAbortedError,
  type ScannerError,
  ScanTimeoutError,
} from '../errors.ts';
import type { RspamdEndpoint } from './url.ts';

/** What to send. */
export interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
}

/** The bounds of one exchange. */
export interface ExchangeLimits {
  /** Until the TCP (or TLS) connection is up. */
  readonly connectTimeoutMs: number;
  /** From the start until the last byte of the answer. */
  readonly totalTimeoutMs: number;
  /** Largest answer body accepted; reading stops and the socket is destroyed beyond it. */
  readonly maxResponseBytes: number;
}

/** A complete answer (any status). */
export interface ExchangeReply {
  readonly status: number;
  /** The reason phrase; rspamd puts its error text there (e.g. 208, 204). */
  readonly reason: string;
  readonly body: Buffer;
}

/** Sends one request to `endpoint` and collects the answer; rejects with a ScannerError. */
export function exchange(
  endpoint: RspamdEndpoint,
  agent: Agent,
  request: ExchangeRequest,
  limits: ExchangeLimits,
  signal: AbortSignal,
): Promise<ExchangeReply> {
  const scanner = endpoint.display;
  if (signal.aborted)
    return Promise.reject(new ScanAbortedError(scanner, { cause: signal.reason }));
  return new Promise<ExchangeReply>((resolve, reject) => {
    const controller = new AbortController();
    let done = false;
    let connected = false;
    let response: IncomingMessage | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let totalTimer: NodeJS.Timeout | undefined;

    const finish = (error: ScannerError | undefined, reply?: ExchangeReply): void => {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      signal.removeEventListener('abort', onCallerAbort);
      if (error !== undefined) {
        controller.abort(error); // destroys the request and its socket
        reject(error);
      } else if (reply !== undefined) {
        resolve(reply);
      }
    };
    const onCallerAbort = (): void =>
      finish(new ScanAbortedError(scanner, { cause: signal.reason }));
    const onConnected = (): void => {
      connected = true;
      clearTimeout(connectTimer);
    };

    const send = endpoint.https ? httpsRequest : httpRequest;
    let req: ClientRequest;
    try {
      req = send({
        host: endpoint.host,
        port: endpoint.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent,
        signal: controller.signal,
      });
    } catch (error) {
      // Only a header value node:http refuses could get here; everything sent is sanitised.
      reject(
        new ConnectionError(scanner, `cannot send the request: ${String(error)}`, { cause: error }),
      );
      return;
    }
    connectTimer = setTimeout(
      () => finish(new ConnectTimeoutError(scanner, limits.connectTimeoutMs)),
      limits.connectTimeoutMs,
    );
    totalTimer = setTimeout(
      () =>
        finish(
          connected
            ? new ScanTimeoutError(scanner, limits.totalTimeoutMs)
            : new ConnectTimeoutError(scanner, limits.totalTimeoutMs),
        ),
      limits.totalTimeoutMs,
    );
    signal.addEventListener('abort', onCallerAbort, { once: true });

    // Kept for the request's whole life: errors after settling (e.g. rspamd's 204 with a body,
    // which node:http reports as "Data after Connection: close") are expected and ignored.
    req.on('error', (error: NodeJS.ErrnoException) => finish(mapError(scanner, error)));
    req.on('socket', (socket: Socket) => {
      if (socket.connecting) {
        socket.once(endpoint.https ? 'secureConnect' : 'connect', onConnected);
      } else {
        onConnected(); // a kept-alive socket
      }
    });
    req.on('response', (res: IncomingMessage) => {
      response = res;
      onConnected();
      if (res.statusCode === 204 || res.statusCode === 304) {
        // No body by definition. rspamd 3.4 sends one anyway with its 204 ("all learn conditions
        // denied"), which node:http then reports as a parse error: settle before that happens.
        finish(undefined, {
          status: res.statusCode,
          reason: res.statusMessage ?? '',
          body: Buffer.alloc(0),
        });
        res.resume();
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxResponseBytes) {
        finish(new ResponseTooLargeError(scanner, limits.maxResponseBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > limits.maxResponseBytes) {
          finish(new ResponseTooLargeError(scanner, limits.maxResponseBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const reply = {
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          body: Buffer.concat(chunks, size),
        };
        finish(undefined, reply);
      });
      res.on('error', (error: Error) =>
        finish(
          new ConnectionError(scanner, `connection lost mid-reply: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      res.on('close', () => {
        if (!res.complete) finish(new ConnectionError(scanner, 'connection closed mid-reply'));
      });
    });
    req.on('close', () => {
      if (response?.complete !== true) {
        finish(new ConnectionError(scanner, 'connection closed before a complete answer'));
      }
    });
    req.end(request.body);
  });
}

/** Maps a node:http client error onto the scanner error classes. */
function mapError(scanner: string, error: NodeJS.ErrnoException): ScannerError {
  const code = error.code ?? '';
  if (code.startsWith('HPE_')) {
    return new BadResponseError(scanner, `malformed HTTP (${error.message})`, { cause: error });
  }
  const what: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EPIPE: 'connection closed while sending',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  return new ConnectionError(scanner, `${what[code] ?? 'connection failed'} (${error.message})`, {
    cause: error,
  });
}
