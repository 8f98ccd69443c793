/**
 * The composition root: config → logger → scanners → policy → filter → milter server. Nothing
 * below reads config or logs on its own; everything is passed down from here.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import pino from 'pino';
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import type { Decision } from '../filter/decision.ts';
import type { MessageFilter } from '../filter/filter.ts';
import { ScanFilter } from '../filter/scan-filter.ts';
import type { Message } from '../message/message.ts';
import type { ConnectionOptions } from '../milter/connection.ts';
import { Action, Proto } from '../milter/constants.ts';
import type { NegotiationWishes } from '../milter/negotiate.ts';
import { MilterServer } from '../milter/server.ts';
import type { RcptGate } from '../milter/session.ts';
import { formatSocketAddress, parseSocketAddress } from '../milter/socket-address.ts';
import { type AccessMap, AccessMapError, loadAccessMap } from '../policy/access-map.ts';
import { headerKit } from '../policy/header-kit.ts';
import { ConfiguredPolicy } from '../policy/policy.ts';
import { randomRef } from '../policy/replies.ts';
import type { Logger } from '../shared/logger.ts';
import { VERSION } from '../version.ts';
import { createMetrics, type Metrics, serveMetrics } from './metrics.ts';
import { plannedIdentity, runningAsRoot, switchTo } from './privileges.ts';
import { buildScannerPool, defaultDataDir } from './scanner-pool.ts';

/** A running daemon. */
export interface Daemon {
  /** The bound socket, e.g. `inet:40123@127.0.0.1`. */
  readonly socket: string;
  /** Graceful stop: in-flight messages finish within the grace period. */
  stop(): Promise<void>;
  /**
   * Switches to a new configuration for new connections (SIGHUP). Throws, keeping the running
   * configuration, when the new one cannot be built; listener settings need a restart.
   */
  reload(config: Config): Promise<void>;
}

/**
 * What we ask of the MTA: every modification the decision model can express, no replies where
 * the answer is always CONTINUE, and the macros a spam filter uses. DATA is not needed at all.
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
  // CONNECT, HELO and MAIL are always CONTINUE (everything is judged at end-of-message), so not
  // answering them saves three round trips a message. BODY is not answered either: Postfix then
  // streams the body, and past maxScanBytes we count and drop it instead of sending SKIP (an MTA
  // that does not offer NR_BODY still gets SKIP). RCPT keeps its reply when a recipient gate
  // (access map, recipient cap) may refuse; see connectionOptions.
  noReply: Proto.NrConn | Proto.NrHelo | Proto.NrMail | Proto.NrHdr | Proto.NrEoh | Proto.NrBody,
  leadingSpace: true,
  macros: {
    0: 'j _ {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_name} {client_ptr} {client_port} v',
    1: '{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}',
    2: 'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
    3: 'i {rcpt_addr} {rcpt_host} {rcpt_mailer}',
    5: 'i',
  },
};

interface Filtering {
  readonly filter: MessageFilter;
  readonly onFilterError: (error: unknown, message: Message) => Decision;
  readonly rcptGate?: RcptGate;
  /** Releases the scanners (store files, connections) once nothing uses them any more. */
  close(): Promise<void>;
}

/** The filter the configuration asks for: the scanner pool (or the built-in engine) with the policy. */
async function buildFiltering(config: Config, log: Logger): Promise<Filtering> {
  const { scanner } = config;
  if (scanner.urls.length === 0)
    log.info(
      { engine: 'builtin', dataDir: scanner.builtin.dataDir ?? defaultDataDir() },
      'no scanner configured: scanning with the built-in engine',
    );
  const scanners = buildScannerPool(scanner);
  scanners.onDead((url, cause) =>
    log.warn({ scanner: url, code: cause.code, err: cause }, 'scanner marked dead'),
  );
  const accessMap = await loadConfiguredAccessMap(config);
  if (accessMap !== undefined)
    log.info({ file: accessMap.file, entries: accessMap.size }, 'access map loaded');
  const info = { version: VERSION, hostname: hostname() };
  const policy = new ConfiguredPolicy(config, info, headerKit(config, info), randomRef, accessMap);
  log.info({ scanner: scanners.url, dryRun: config.dryRun }, 'scanning with');
  return {
    filter: new ScanFilter(scanners, policy, {
      scanTruncated: config.scan.oversize === 'truncate',
    }),
    onFilterError: (error, message) => policy.failed(message, error),
    ...(policy.needsRcptGate ? { rcptGate: policy.rcptGate } : {}),
    close: () => scanners.close(),
  };
}

/** The connection settings a configuration asks for, around its filtering. */
function connectionOptions(
  config: Config,
  filtering: Filtering,
  metrics: Metrics,
): ConnectionOptions {
  const { rcptGate } = filtering;
  return {
    session: {
      // Without a gate, RCPT is always CONTINUE too: one more round trip saved.
      wishes:
        rcptGate === undefined ? { ...WISHES, noReply: WISHES.noReply | Proto.NrRcpt } : WISHES,
      maxBodyBytes: config.scan.maxScanBytes,
      ...(rcptGate === undefined ? {} : { rcptGate }),
    },
    maxFrameBytes: config.milter.maxFrameBytes,
    idleTimeoutMs: config.milter.idleTimeoutMs,
    filterTimeoutMs: config.milter.filterTimeoutMs,
    progressIntervalMs: config.milter.progressIntervalMs,
    onFilterError: filtering.onFilterError,
    trace: config.milter.trace,
    onDecision: (decision, ms) => metrics.observe(decision, ms),
  };
}

/** The access map the config names, or undefined; a bad file is a ConfigError naming the key. */
export async function loadConfiguredAccessMap(config: Config): Promise<AccessMap | undefined> {
  const file = config.trust.accessMap;
  if (file === null) return undefined;
  try {
    return await loadAccessMap(file);
  } catch (error) {
    if (!(error instanceof AccessMapError)) throw error;
    const where = error.line === 0 ? error.file : `${error.file}:${error.line}`;
    throw new ConfigError(
      'trust.accessMap',
      [{ path: 'trust.accessMap', reason: `${where}: ${error.reason}` }],
      { cause: error },
    );
  }
}

/** Starts the metrics endpoint on `HOST:PORT` (brackets around an IPv6 host). */
function startMetrics(metrics: Metrics, listen: string): Promise<Server> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return serveMetrics(metrics, host, Number(listen.slice(colon + 1)));
}

/** Keys a reload cannot change: the listener is bound once. */
const RESTART_KEYS = ['socket', 'socketMode', 'socketGroup', 'user', 'group'] as const;

/** Builds everything and starts listening. */
export async function startDaemon(
  config: Config,
  log: Logger = createLogger(config),
): Promise<Daemon> {
  log.info({ version: VERSION }, 'starting spamward');
  const identity = await plannedIdentity(config);
  let filtering = await buildFiltering(config, log);
  // One registry for the daemon's life: counters survive reloads.
  const metrics = createMetrics();
  const server = new MilterServer(
    filtering.filter,
    {
      address: parseSocketAddress(config.socket),
      unixMode: Number.parseInt(config.socketMode, 8),
      ...(config.socketGroup === undefined ? {} : { unixGroup: config.socketGroup }),
      connection: connectionOptions(config, filtering, metrics),
    },
    log,
  );
  const bound = await server.listen();
  if (identity !== undefined) {
    const usesDataDir = config.scanner.urls.length === 0 || config.scanner.urls.includes('builtin');
    await switchTo(identity, {
      files: bound.kind === 'unix' ? [bound.path] : [],
      dirs: usesDataDir ? [config.scanner.builtin.dataDir ?? defaultDataDir()] : [],
    });
    log.info({ user: identity.user, uid: identity.uid, gid: identity.gid }, 'switched user');
  } else if (runningAsRoot()) {
    log.warn({}, 'running as root (allowRoot)');
  }
  const metricsServer =
    config.metrics.listen === null ? undefined : await startMetrics(metrics, config.metrics.listen);
  if (metricsServer !== undefined) {
    const where = metricsServer.address() as AddressInfo;
    log.info({ metrics: `http://${where.address}:${where.port}/metrics` }, 'metrics listening');
  }
  const socket = formatSocketAddress(bound);
  log.info({ socket }, 'listening');
  let running = config;
  return {
    socket,
    async stop(): Promise<void> {
      log.info(
        { connections: server.connectionCount, graceMs: running.milter.shutdownGraceMs },
        'stopping',
      );
      await server.close(running.milter.shutdownGraceMs);
      await filtering.close();
      metricsServer?.close();
      log.info({}, 'stopped');
    },
    async reload(next: Config): Promise<void> {
      const fresh = await buildFiltering(next, log);
      const previous = filtering;
      const draining = server.settled(); // the connections that may still use `previous`
      server.replace(fresh.filter, connectionOptions(next, fresh, metrics));
      filtering = fresh;
      // The old scanners stay open for the connections that began with them, then go.
      void draining.then(() => previous.close());
      const unchanged: string[] = RESTART_KEYS.filter((key) => next[key] !== running[key]);
      if (next.metrics.listen !== running.metrics.listen) unchanged.push('metrics.listen');
      if (unchanged.length > 0)
        log.warn({ keys: unchanged }, 'listener settings changed; they apply after a restart');
      log.level = next.logLevel;
      running = next;
      log.info({ connections: server.connectionCount }, 'configuration reloaded');
    },
  };
}

/** The root logger: JSON lines on stdout (the service manager ships them). */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}
