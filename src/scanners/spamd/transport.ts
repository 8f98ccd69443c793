/**
 * One spamd request over one connection: connect, write, half-close (not over TLS), read to EOF
 * under a byte cap. Every limit destroys the socket; every timer and listener is removed on
 * every path, so nothing outlives the returned promise.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  type SecureContextOptions,
  connect as tlsConnect,
} from 'node:tls';
import {
  ConnectionError,
  ConnectTimeoutError,
  ResponseTooLargeError,
  ScanAbortedError,
  type ScannerError,
  ScanTimeoutError,
  ServerError,
} from '../errors.ts';
import { TruncatedReplyError } from './errors.ts';
import type { SpamdEndpoint } from './url.ts';

/** TLS settings for `spamd+tls://` (a subset of node:tls's connect options). */
export interface SpamdTlsOptions {
  /** Trusted CA certificates (PEM); default: Node's bundled roots. */
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM), if spamd asks for one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name to verify the certificate against; default: the URL's host. */
  readonly servername?: string;
  /** Set false only for tests: accept any certificate. */
  readonly rejectUnauthorized?: boolean;
}

/** Limits and address of one exchange. */
export interface ExchangeOptions {
  /** The scanner URL, for errors. */
  readonly scanner: string;
  readonly endpoint: SpamdEndpoint;
  /** For TLS endpoints: from prepareTls(), so certificates are parsed once, not per request. */
  readonly tls?: ConnectionOptions;
  /** Time allowed for TCP connect (and the TLS handshake). */
  readonly connectTimeoutMs: number;
  /** Time allowed for the whole exchange, from the start of connect to spamd's close. */
  readonly timeoutMs: number;
  /** Reading stops with ResponseTooLargeError as soon as the reply passes this size. */
  readonly maxResponseBytes: number;
}

type Listener = Parameters<Socket['off']>[1];

/**
 * Sends `request` and parses the whole reply with `parse`. Rejects with a ScannerError:
 * ConnectTimeoutError, ScanTimeoutError, ScanAbortedError, ResponseTooLargeError,
 * ConnectionError (refused, reset, closed early) or whatever `parse` throws.
 */
export function exchange<T>(
  options: ExchangeOptions,
  request: Buffer,
  signal: AbortSignal,
  parse: (reply: Buffer) => T,
): Promise<T> {
  const { scanner, endpoint } = options;
  if (signal.aborted)
    return Promise.reject(new ScanAbortedError(scanner, { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const tls = endpoint.kind === 'tcp' && endpoint.tls;
    let socket: Socket;
    try {
      socket = open(options);
    } catch (error) {
      reject(
        new ConnectionError(scanner, `cannot connect: ${(error as Error).message}`, {
          cause: error,
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    const listeners: [string, Listener][] = [];
    let received = 0;
    let connected = false;
    let settled = false;

    const connectMs = Math.min(options.connectTimeoutMs, options.timeoutMs);
    const connectTimer = setTimeout(
      () => fail(new ConnectTimeoutError(scanner, connectMs)),
      connectMs,
    );
    const totalTimer = setTimeout(
      () => fail(new ScanTimeoutError(scanner, options.timeoutMs)),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(new ScanAbortedError(scanner, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });

    function settle(): boolean {
      if (settled) return false;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      signal.removeEventListener('abort', onAbort);
      for (const [event, listener] of listeners) socket.off(event, listener);
      socket.on('error', ignore); // a late error on a destroyed socket must not crash the process
      socket.destroy();
      return true;
    }
    function fail(error: ScannerError): void {
      if (settle()) reject(error);
    }
    /** Parses what arrived; `io` is the socket failure that ended the reply early, if any. */
    function complete(io: Error | null): void {
      if (!settle()) return;
      const reply = Buffer.concat(chunks, received);
      if (received === 0) {
        const detail =
          io === null ? 'closed without answering' : `failed before answering: ${io.message}`;
        reject(new ConnectionError(scanner, detail, io === null ? undefined : { cause: io }));
        return;
      }
      try {
        resolve(parse(reply));
      } catch (error) {
        if (io !== null && !(error instanceof ServerError)) {
          reject(
            new ConnectionError(scanner, `failed after ${received} bytes: ${io.message}`, {
              cause: io,
            }),
          );
        } else if (error instanceof TruncatedReplyError) {
          const detail = `closed after ${received} bytes, before a complete answer`;
          reject(new ConnectionError(scanner, detail, { cause: error }));
        } else {
          reject(error);
        }
      }
    }
    function on(event: string, listener: Listener): void {
      listeners.push([event, listener]);
      socket.on(event, listener);
    }

    on(tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      // spamd reads the body line by line: without FIN a last line lacking LF hangs it. Over
      // TLS, end() (close_notify) makes spamd reset the connection; the request ends in LF there.
      if (tls) socket.write(request);
      else socket.end(request);
    });
    on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.maxResponseBytes) {
        fail(new ResponseTooLargeError(scanner, options.maxResponseBytes));
        return;
      }
      chunks.push(chunk);
    });
    on('end', () => complete(null));
    on('error', (error: Error) => {
      if (!connected) {
        fail(new ConnectionError(scanner, `cannot connect: ${error.message}`, { cause: error }));
      } else {
        complete(error);
      }
    });
    on('close', () =>
      fail(new ConnectionError(scanner, 'connection closed before a complete answer')),
    );
  });
}

/**
 * Connection settings for a TLS endpoint with the secure context built once; throws RangeError
 * for unusable certificates or keys, so configuration errors surface at construction.
 */
export function prepareTls(
  host: string,
  port: number,
  tls: SpamdTlsOptions = {},
): ConnectionOptions {
  const context: SecureContextOptions = {};
  if (tls.ca !== undefined) context.ca = tls.ca;
  if (tls.cert !== undefined) context.cert = tls.cert;
  if (tls.key !== undefined) context.key = tls.key;
  let secureContext: ReturnType<typeof createSecureContext>;
  try {
    secureContext = createSecureContext(context);
  } catch (error) {
    throw new RangeError(`bad TLS settings: ${(error as Error).message}`, { cause: error });
  }
  const settings: ConnectionOptions = {
    host,
    port,
    secureContext,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
  // SNI must not carry an IP address (RFC 6066); the certificate is then checked against it.
  const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
  if (servername !== undefined) settings.servername = servername;
  return settings;
}

function open(options: ExchangeOptions): Socket {
  const { endpoint } = options;
  switch (endpoint.kind) {
    case 'unix':
      return netConnect({ path: endpoint.path });
    case 'tcp':
      if (!endpoint.tls) return netConnect({ host: endpoint.host, port: endpoint.port });
      return tlsConnect(options.tls ?? prepareTls(endpoint.host, endpoint.port));
  }
}

function ignore(): void {}
