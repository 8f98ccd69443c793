/**
 * The composition root: builds logger → filter → milter server from one config and owns the
 * lifecycle. Nothing below reads config or logs on its own; everything is passed down from here.
 */
import pino from 'pino';
import type { Decision } from '../filter/decision.ts';
import type { MessageFilter } from '../filter/filter.ts';
import { createGtubeFilter } from '../filter/gtube-filter.ts';
import { Action, Proto } from '../milter/constants.ts';
import type { NegotiationWishes } from '../milter/negotiate.ts';
import { MilterServer } from '../milter/server.ts';
import { formatSocketAddress } from '../milter/socket-address.ts';
import type { Logger } from '../shared/logger.ts';
import { VERSION } from '../version.ts';
import type { DaemonConfig } from './config.ts';

/** A running daemon. */
export interface Daemon {
  /** The bound socket, e.g. `inet:40123@127.0.0.1`. */
  readonly socket: string;
  /** Graceful stop: in-flight messages finish within the grace period. */
  stop(): Promise<void>;
}

/**
 * What we ask of the MTA: every modification the decision model can express, the content steps
 * without per-header replies, and the macros a spam filter uses. DATA is not needed at all.
 */
export const WISHES: NegotiationWishes = {
  actions:
    Action.AddHdrs |
    Action.ChgHdrs |
    Action.ChgBody |
    Action.AddRcpt |
    Action.AddRcptPar |
    Action.DelRcpt |
    Action.ChgFrom |
    Action.Quarantine,
  skipSteps: Proto.NoData,
  noReply: Proto.NrHdr | Proto.NrEoh,
  leadingSpace: true,
  macros: {
    0: 'j _ {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_name} {client_ptr} {client_port} v',
    1: '{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}',
    2: 'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
    3: 'i {rcpt_addr} {rcpt_host} {rcpt_mailer}',
    5: 'i',
  },
};

/** The failure policy until the policy engine makes it configurable: tempfail, so no mail is lost. */
export function tempfailOnError(): Decision {
  return {
    verdict: {
      kind: 'tempfail',
      reply: {
        code: 451,
        enhanced: '4.7.1',
        lines: ['Temporary failure while filtering; try again later'],
      },
    },
    modifications: [],
  };
}

/** Builds everything and starts listening. */
export async function startDaemon(
  config: DaemonConfig,
  log: Logger = createLogger(config),
): Promise<Daemon> {
  const filter: MessageFilter = createGtubeFilter(VERSION);
  log.info(
    { version: VERSION, engine: 'gtube' },
    'starting spamward (bootstrap filter: X-Spamward header, GTUBE rejected)',
  );
  const server = new MilterServer(
    filter,
    {
      address: config.socket,
      unixMode: config.unixMode,
      ...(config.unixGroup === undefined ? {} : { unixGroup: config.unixGroup }),
      connection: {
        session: { wishes: WISHES, maxBodyBytes: config.maxBodyBytes },
        maxFrameBytes: config.maxFrameBytes,
        idleTimeoutMs: config.idleTimeoutMs,
        filterTimeoutMs: config.filterTimeoutMs,
        progressIntervalMs: config.progressIntervalMs,
        onFilterError: tempfailOnError,
      },
    },
    log,
  );
  const socket = formatSocketAddress(await server.listen());
  log.info({ socket }, 'listening');
  return {
    socket,
    async stop(): Promise<void> {
      log.info(
        { connections: server.connectionCount, graceMs: config.shutdownGraceMs },
        'stopping',
      );
      await server.close(config.shutdownGraceMs);
      log.info({}, 'stopped');
    },
  };
}

/** The root logger: JSON lines on stdout (the service manager ships them). */
export function createLogger(config: Pick<DaemonConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}
