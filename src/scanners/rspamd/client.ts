/**
 * The rspamd scanner: `POST /checkv2` on the normal worker for scans, `GET /ping` for health and
 * the controller's `/learnspam` / `/learnham` for learning. Talks HTTP itself (no rspamc).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { assertNever } from '../../shared/assert-never.ts';
import { BadResponseError, LearnUnsupportedError, ServerError } from '../errors.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from '../scanner.ts';
import type { Verdict } from '../verdict.ts';
import {
  type ExchangeLimits,
  type ExchangeReply,
  type ExchangeRequest,
  exchange,
} from './exchange.ts';
import { errorText, parseCheckReply } from './reply.ts';
import { buildCheckHeaders, buildEnvelopeHeaders, type RspamdHeaders } from './request.ts';
import {
  DEFAULT_CONTROLLER_PORT,
  defaultControllerUrl,
  parseRspamdUrl,
  type RspamdEndpoint,
} from './url.ts';

/** TLS settings for `rspamd+https://` endpoints (rspamd behind a TLS proxy). */
export interface RspamdTlsOptions {
  readonly ca?: SecureContextOptions['ca'];
  readonly cert?: SecureContextOptions['cert'];
  readonly key?: SecureContextOptions['key'];
  /** SNI and certificate name to expect, when it differs from the URL's host. */
  readonly servername?: string;
  /** Defaults to true; false accepts any certificate (tests only). */
  readonly rejectUnauthorized?: boolean;
}

/** How to reach one rspamd. */
export interface RspamdScannerOptions {
  /** The normal worker: `rspamd://host:port` or `rspamd+https://host:port` (default port 11333). */
  readonly url: string;
  /** The controller, for learning; defaults to the worker's scheme and host on port 11334. */
  readonly controllerUrl?: string;
  /** The controller's enable password, sent as `Password:` on learn calls. */
  readonly password?: string;
  /** HTTP basic auth for a proxy in front of rspamd; overrides credentials in the URLs. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** `Settings-ID` for every scan. */
  readonly settingsId?: string;
  /** `MTA-Tag` for every scan. */
  readonly mtaTag?: string;
  /** Send `Pass: all` (run every rule even after a pre-result). */
  readonly passAll?: boolean;
  /** Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Whole request, connect included; default 15000 ms (above rspamd's 8 s task_timeout). */
  readonly scanTimeoutMs?: number;
  /** Default 8 MiB. */
  readonly maxResponseBytes?: number;
  readonly tls?: RspamdTlsOptions;
}

/** The defaults of the optional limits. */
export const RSPAMD_DEFAULTS = {
  connectTimeoutMs: 5_000,
  scanTimeoutMs: 15_000,
  maxResponseBytes: 8 * 1024 * 1024,
} as const;

interface Target {
  readonly endpoint: RspamdEndpoint;
  readonly agent: HttpAgent;
  readonly auth?: string;
}

/** A Scanner backed by one rspamd server. */
export class RspamdScanner implements Scanner {
  /** Set once a learn call succeeded: a later 204 is then a refusal, not a missing backend. */
  #canLearn = false;
  readonly url: string;
  private readonly worker: Target;
  private readonly controller: Target;
  private readonly limits: ExchangeLimits;
  private readonly options: RspamdScannerOptions;

  constructor(options: RspamdScannerOptions) {
    this.options = options;
    const worker = parseRspamdUrl(options.url);
    const controller = parseRspamdUrl(
      options.controllerUrl ?? defaultControllerUrl(worker),
      DEFAULT_CONTROLLER_PORT,
    );
    this.url = worker.display;
    this.worker = target(worker, options);
    this.controller = target(controller, options);
    this.limits = {
      connectTimeoutMs: positive(
        'connectTimeoutMs',
        options.connectTimeoutMs,
        RSPAMD_DEFAULTS.connectTimeoutMs,
      ),
      totalTimeoutMs: positive(
        'scanTimeoutMs',
        options.scanTimeoutMs,
        RSPAMD_DEFAULTS.scanTimeoutMs,
      ),
      maxResponseBytes: positive(
        'maxResponseBytes',
        options.maxResponseBytes,
        RSPAMD_DEFAULTS.maxResponseBytes,
      ),
    };
    if (options.password !== undefined) checkHeaderSafe('password', options.password);
  }

  /** Scans one message with `POST /checkv2`. */
  async scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    const headers = buildCheckHeaders(request.envelope, {
      ...(this.options.settingsId === undefined ? {} : { settingsId: this.options.settingsId }),
      ...(this.options.mtaTag === undefined ? {} : { mtaTag: this.options.mtaTag }),
      ...(this.options.passAll === undefined ? {} : { passAll: this.options.passAll }),
    });
    const reply = await this.send(this.worker, post('/checkv2', headers, request.message), signal);
    if (reply.status !== 200) throw statusError(this.url, reply);
    return parseCheckReply(reply.body, this.url);
  }

  /** `GET /ping` on the normal worker; rspamd answers `pong`. */
  async ping(signal: AbortSignal): Promise<void> {
    const reply = await this.send(
      this.worker,
      { method: 'GET', path: '/ping', headers: {} },
      signal,
    );
    if (reply.status !== 200) throw statusError(this.url, reply);
    const text = reply.body.toString('latin1').trim();
    if (text !== 'pong')
      throw new BadResponseError(this.url, `ping answered "${text.slice(0, 40)}"`);
  }

  /**
   * Learns through the controller. 200 = learned; 208 = already known as that class
   * (`learned: false`). `forget` does not exist in rspamd 3.4's controller.
   */
  async learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    const where = this.controller.endpoint.display;
    let path: string;
    switch (kind) {
      case 'spam':
        path = '/learnspam';
        break;
      case 'ham':
        path = '/learnham';
        break;
      case 'forget':
        throw new LearnUnsupportedError(
          where,
          'rspamd 3.4 cannot forget a message: its controller has no unlearn call for Bayes (learn it as the other class instead)',
        );
      default:
        return assertNever(kind);
    }
    const headers = buildEnvelopeHeaders(request.envelope);
    if (this.options.password !== undefined) headers['Password'] = this.options.password;
    const reply = await this.send(this.controller, post(path, headers, request.message), signal);
    if (reply.status === 200 || reply.status === 208) this.#canLearn = true;
    // 204 means either "no classifier can learn" (no Redis backend) or "this message was refused
    // by the learn conditions" (already in that class at ≥ 95 %, too few tokens): same words.
    // A classifier that has learned before, here or per /stat, can only mean the second.
    if (reply.status === 204 && (this.#canLearn || (await this.#hasLearned(headers, signal)))) {
      this.#canLearn = true;
      return { learned: false };
    }
    return learnResult(where, reply);
  }

  /** Whether the controller's classifier has a backend that has stored data (GET /stat). */
  async #hasLearned(headers: RspamdHeaders, signal: AbortSignal): Promise<boolean> {
    const auth = headers['Password'] === undefined ? {} : { Password: headers['Password'] };
    const reply = await this.send(
      this.controller,
      { method: 'GET', path: '/stat', headers: auth },
      signal,
    );
    if (reply.status !== 200) return false;
    try {
      const stat = JSON.parse(reply.body.toString('utf8')) as { statfiles?: unknown };
      // rspamd lists a statfile per class once its backend has stored something; without a
      // backend (no Redis) the list stays empty.
      return Array.isArray(stat.statfiles) && stat.statfiles.length > 0;
    } catch {
      return false;
    }
  }

  private send(to: Target, request: ExchangeRequest, signal: AbortSignal): Promise<ExchangeReply> {
    const headers =
      to.auth === undefined ? request.headers : { ...request.headers, Authorization: to.auth };
    return exchange(to.endpoint, to.agent, { ...request, headers }, this.limits, signal);
  }
}

function post(path: string, headers: RspamdHeaders, body: Buffer): ExchangeRequest {
  return {
    method: 'POST',
    path,
    headers: { ...headers, 'Content-Length': String(body.length) },
    body,
  };
}

/** Interprets a controller learn answer. */
function learnResult(where: string, reply: ExchangeReply): LearnResult {
  const text = errorText(reply.body) ?? reply.reason;
  switch (reply.status) {
    case 200:
      return { learned: true };
    case 208:
      return { learned: false };
    case 204:
      // rspamd 3.4 says "204 all learn conditions denied learning spam in default classifier"
      // (with a body, against HTTP) when no classifier has a working backend: Bayes needs Redis.
      throw new LearnUnsupportedError(
        where,
        `rspamd has no classifier that can learn (Bayes needs a Redis backend): ${text}`,
      );
    case 401:
    case 403:
      throw new LearnUnsupportedError(
        where,
        `the controller refused to learn (${reply.status} ${text}): learning needs the controller's enable password (rspamd always refuses q1 and q2)`,
      );
    default:
      if (reply.status === 500 && text === 'invalid command') {
        throw new LearnUnsupportedError(
          where,
          'this is not an rspamd controller (a normal worker answers "invalid command" to learn calls)',
        );
      }
      throw statusError(where, reply);
  }
}

/** A non-success status as a ServerError: 5xx retryable, anything else not. */
function statusError(scanner: string, reply: ExchangeReply): ServerError {
  const text = errorText(reply.body) ?? (reply.reason || 'no reason given');
  return new ServerError(scanner, reply.status, text, reply.status >= 500);
}

function target(endpoint: RspamdEndpoint, options: RspamdScannerOptions): Target {
  // rspamd 3.4 closes every connection; keep-alive costs nothing and helps behind a proxy.
  const agent = endpoint.https
    ? new HttpsAgent({ keepAlive: true, ...tlsOptions(options.tls) })
    : new HttpAgent({ keepAlive: true });
  const credentials = options.basicAuth ?? endpoint.credentials;
  if (credentials === undefined) return { endpoint, agent };
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  return { endpoint, agent, auth };
}

function tlsOptions(tls: RspamdTlsOptions | undefined): RspamdTlsOptions {
  if (tls === undefined) return {};
  return Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`rspamd scanner option ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function checkHeaderSafe(name: string, value: string): void {
  if (!/^[\u0020-\u007e]*$/.test(value)) {
    throw new RangeError(`rspamd scanner option ${name} must be printable ASCII`);
  }
}
