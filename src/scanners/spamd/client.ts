/**
 * Native spamd client (SPAMC/1.5): one connection per request over TCP, a unix socket or TLS.
 * No spamc binary, no logging; every failure is a typed ScannerError.
 */
import { BadResponseError, LearnUnsupportedError, ServerError } from '../errors.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from '../scanner.ts';
import type { Verdict } from '../verdict.ts';
import { buildRequest, parseReply, type SpamdReply, type SpamdRequestHeaders } from './codec.ts';
import {
  MessageClass,
  SCAN_VERBS,
  type SpamdScanVerb,
  SpamdVerb,
  SysExit,
  TELL_DISABLED_TEXT,
  TellTarget,
} from './protocol.ts';
import { lineEnding, withReceived } from './received.ts';
import { toVerdict } from './to-verdict.ts';
import { type ExchangeOptions, exchange, prepareTls, type SpamdTlsOptions } from './transport.ts';
import { formatSpamdUrl, parseSpamdUrl } from './url.ts';

/** How to reach and use one spamd. */
export interface SpamdScannerOptions {
  /** `spamd://host:port`, `spamd:///path/to.sock` or `spamd+tls://host:port` (port default 783). */
  readonly url: string;
  /** The scan verb; default SYMBOLS (rule names). REPORT adds scores, PROCESS/HEADERS output. */
  readonly verb?: SpamdScanVerb;
  /** Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /** The whole request, connect to close, including waiting for a free spamd child. Default 60 000 ms. */
  readonly scanTimeoutMs?: number;
  /** Reading stops as soon as a reply passes this size. Default 64 MiB (PROCESS returns the message). */
  readonly maxResponseBytes?: number;
  /** Fixed `User:` for per-user preferences; the envelope's `prefsUser` overrides it. */
  readonly user?: string;
  /** Send the message deflated (`Compress: zlib`). Not over TLS (spamd then reads until EOF). */
  readonly compress?: boolean;
  /** Prepend a Received header built from the envelope (default true); off when the MTA shows its own. */
  readonly synthesizeReceived?: boolean;
  /** Certificates and verification for `spamd+tls://`. */
  readonly tls?: SpamdTlsOptions;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_SCAN_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A spamd server as a Scanner. */
export class SpamdScanner implements Scanner {
  readonly url: string;
  /** The verb `scan` uses. */
  readonly verb: SpamdScanVerb;
  readonly #transport: ExchangeOptions;
  readonly #tls: boolean;
  readonly #user: string | undefined;
  readonly #compress: boolean;
  readonly #synthesizeReceived: boolean;

  /** Validates the options; throws SpamdUrlError or RangeError on bad configuration. */
  constructor(options: SpamdScannerOptions) {
    const endpoint = parseSpamdUrl(options.url);
    this.url = formatSpamdUrl(endpoint);
    this.verb = options.verb ?? SpamdVerb.Symbols;
    if (!SCAN_VERBS.includes(this.verb)) throw new RangeError(`${this.url}: bad verb ${this.verb}`);
    this.#tls = endpoint.kind === 'tcp' && endpoint.tls;
    this.#compress = options.compress ?? false;
    if (this.#compress && this.#tls) {
      // spamd reads a compressed body until EOF, and a TLS half-close makes it reset the connection.
      throw new RangeError(
        `${this.url}: compress is not possible over TLS (spamd reads it to EOF)`,
      );
    }
    this.#user = options.user;
    this.#synthesizeReceived = options.synthesizeReceived ?? true;
    this.#transport = {
      scanner: this.url,
      endpoint,
      connectTimeoutMs: positive(
        this.url,
        'connectTimeoutMs',
        options.connectTimeoutMs,
        DEFAULT_CONNECT_TIMEOUT_MS,
      ),
      timeoutMs: positive(
        this.url,
        'scanTimeoutMs',
        options.scanTimeoutMs,
        DEFAULT_SCAN_TIMEOUT_MS,
      ),
      maxResponseBytes: positive(
        this.url,
        'maxResponseBytes',
        options.maxResponseBytes,
        DEFAULT_MAX_RESPONSE_BYTES,
      ),
      ...(endpoint.kind === 'tcp' && endpoint.tls
        ? { tls: prepareTlsFor(this.url, endpoint.host, endpoint.port, options.tls) }
        : {}),
    };
  }

  /** Scans with the configured verb and normalises the reply. */
  async scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    const prepared = this.#synthesizeReceived
      ? withReceived(request.message, request.envelope)
      : { message: request.message, received: null };
    const headers = this.#headers(request.envelope.prefsUser);
    const reply = await this.#send(this.verb, this.#body(prepared.message), headers, signal);
    if (reply.kind !== 'scan')
      throw new BadResponseError(this.url, `unexpected ${reply.kind} reply`);
    return toVerdict(this.url, this.verb, reply, prepared.received);
  }

  /** PING → `SPAMD/1.5 0 PONG`. */
  async ping(signal: AbortSignal): Promise<void> {
    const reply = await this.#send(SpamdVerb.Ping, Buffer.alloc(0), {}, signal);
    if (reply.kind !== 'pong')
      throw new BadResponseError(this.url, `unexpected ${reply.kind} reply`);
  }

  /**
   * TELL with `Set: local` (spam/ham) or `Remove: local` (forget). The message is sent as given
   * (no synthesised Received line), as it was delivered. `learned` is false when spamd did nothing
   * (already learned as that class, or not known when forgetting).
   */
  async learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    const tell: SpamdRequestHeaders =
      kind === 'forget'
        ? { remove: [TellTarget.Local] }
        : {
            messageClass: kind === 'spam' ? MessageClass.Spam : MessageClass.Ham,
            set: [TellTarget.Local],
          };
    const headers = { ...this.#headers(request.envelope.prefsUser), ...tell };
    let reply: SpamdReply;
    try {
      reply = await this.#send(SpamdVerb.Tell, this.#body(request.message), headers, signal);
    } catch (error) {
      if (
        error instanceof ServerError &&
        error.status === SysExit.EX_UNAVAILABLE &&
        error.message.includes(TELL_DISABLED_TEXT)
      ) {
        throw new LearnUnsupportedError(this.url, 'spamd runs without --allow-tell');
      }
      throw error;
    }
    if (reply.kind !== 'tell')
      throw new BadResponseError(this.url, `unexpected ${reply.kind} reply`);
    const done = kind === 'forget' ? reply.didRemove : reply.didSet;
    return { learned: done.includes(TellTarget.Local) };
  }

  #send(
    verb: SpamdVerb,
    body: Buffer,
    headers: SpamdRequestHeaders,
    signal: AbortSignal,
  ): Promise<SpamdReply> {
    const request = buildRequest(verb, body, headers);
    return exchange(this.#transport, request, signal, (bytes) => parseReply(verb, bytes, this.url));
  }

  /** User (envelope first, control characters dropped) and compression. */
  #headers(prefsUser: string | undefined): SpamdRequestHeaders {
    const user = (prefsUser ?? this.#user)?.replace(/\p{Cc}/gu, '');
    return {
      ...(user === undefined || user === '' ? {} : { user }),
      ...(this.#compress ? { compress: true } : {}),
    };
  }

  /**
   * Over TLS we cannot half-close, so the last line must end in LF for spamd's line reader (an
   * empty body too: spamd reads a line before it compares the length).
   */
  #body(message: Buffer): Buffer {
    if (!this.#tls || message.at(-1) === 0x0a) return message;
    return Buffer.concat([message, Buffer.from(lineEnding(message))]);
  }
}

function positive(url: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${url}: ${name} must be > 0`);
  return value;
}

function prepareTlsFor(url: string, host: string, port: number, tls: SpamdTlsOptions | undefined) {
  try {
    return prepareTls(host, port, tls);
  } catch (error) {
    throw new RangeError(`${url}: ${(error as Error).message}`, { cause: error });
  }
}
