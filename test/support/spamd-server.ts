/**
 * A private spamd for tests: its own copy of the site config with Bayes under a temp dir, local
 * tests only, TELL allowed, on free loopback ports (plain and, with openssl, TLS) plus a unix
 * socket. Start it once per test run with `startSpamd()` and pass its `env` to the test
 * processes; test files call `getSpamd()`, which uses that instance or starts a private one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpamdScanner } from '../../src/scanners/spamd/client.ts';
import { signalGroup, terminateGroup } from './process-group.ts';
import {
  checkAvailability,
  createLayout,
  freeLoopbackPort,
  type SpamdLayout,
  spamdArgs,
} from './spamd-config.ts';
import { findExecutable } from './which.ts';

/** Environment variables that describe a spamd started for the whole test run. */
export const SPAMD_ENV = {
  tcp: 'SPAMWARD_TEST_SPAMD_TCP',
  unix: 'SPAMWARD_TEST_SPAMD_UNIX',
  tls: 'SPAMWARD_TEST_SPAMD_TLS',
  tlsCa: 'SPAMWARD_TEST_SPAMD_TLS_CA',
  bayes: 'SPAMWARD_TEST_SPAMD_BAYES',
} as const;

/** What a test needs to reach spamd. */
export interface SpamdEndpoints {
  /** e.g. `spamd://127.0.0.1:40123`. */
  readonly tcpUrl: string;
  /** e.g. `spamd:///tmp/spamward-spamd-x/run/spamd.sock`. */
  readonly unixUrl: string;
  /** e.g. `spamd+tls://127.0.0.1:40124`, when openssl could make a certificate. */
  readonly tlsUrl?: string;
  /** Path of the PEM certificate to trust for `tlsUrl`. */
  readonly tlsCaFile?: string;
  /** The Bayes path prefix for `sa-learn --dbpath`, when known. */
  readonly bayesPath?: string;
  /** Present when this process started the instance: stops it (idempotent). */
  readonly stop?: () => Promise<void>;
}

/** A running private spamd. */
export interface SpamdServer extends SpamdEndpoints {
  readonly bayesPath: string;
  /** The temp dir holding config, Bayes DB, socket, pid file, certificate and logs. */
  readonly dir: string;
  /** `SPAMWARD_TEST_SPAMD_*` values for child processes (test files) to find this instance. */
  readonly env: Readonly<Record<string, string>>;
  /** spamd's log so far, for diagnostics. */
  log(): Promise<string>;
  /** SIGTERM to spamd's process group (SIGKILL after 5 s), then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;

let availability: string | null | undefined;
let shared: Promise<SpamdEndpoints> | undefined;
/** Live spamds of this process and their temp dirs, for the exit hook. */
const running = new Map<ChildProcess, string>();

/** Why a private spamd cannot run here (missing binaries or user), or null. */
export function spamdAvailable(): string | null {
  if (availability === undefined) availability = checkAvailability(); // null is a valid answer
  return availability;
}

/**
 * The run-wide spamd named by SPAMWARD_TEST_SPAMD_* when set, otherwise one private spamd for
 * this process (started on first call; the caller stops it with `stop` in `after`).
 */
export function getSpamd(): Promise<SpamdEndpoints> {
  const fromEnv = endpointsFromEnv();
  if (fromEnv !== null) return Promise.resolve(fromEnv);
  const pending = shared ?? startPrivate();
  shared = pending;
  return pending;
}

/** Starts a private spamd and waits until it answers PING on every listener. */
export async function startSpamd(): Promise<SpamdServer> {
  const missing = spamdAvailable();
  if (missing !== null) throw new Error(`cannot start spamd: ${missing}`);
  const layout = await createLayout(await mkdtemp(join(tmpdir(), 'spamward-spamd-')));
  try {
    for (let attempt = 1; ; attempt++) {
      const ports = {
        tcp: await freeLoopbackPort(),
        tls: layout.tls && (await freeLoopbackPort()),
      };
      const child = launch(layout, spamdArgs(layout, ports));
      const urls = {
        tcpUrl: `spamd://127.0.0.1:${ports.tcp}`,
        unixUrl: `spamd://${layout.socket}`,
        ...(ports.tls === null ? {} : { tlsUrl: `spamd+tls://127.0.0.1:${ports.tls}` }),
      };
      const problem = await waitReady(child, urls, layout);
      if (problem === null) return server(layout, child, urls);
      await terminate(child);
      const log = await readLog(layout);
      if (attempt >= START_ATTEMPTS || !log.includes('Address already in use')) {
        throw new Error(`spamd did not start: ${problem}\n--- spamd log ---\n${log}`);
      }
    }
  } catch (error) {
    await rm(layout.dir, { recursive: true, force: true });
    throw error;
  }
}

function endpointsFromEnv(): SpamdEndpoints | null {
  const value = (name: string): string | undefined => process.env[name] || undefined;
  const tcpUrl = value(SPAMD_ENV.tcp);
  const unixUrl = value(SPAMD_ENV.unix);
  if (tcpUrl === undefined || unixUrl === undefined) return null;
  const optional = {
    tlsUrl: value(SPAMD_ENV.tls),
    tlsCaFile: value(SPAMD_ENV.tlsCa),
    bayesPath: value(SPAMD_ENV.bayes),
  };
  const present = Object.entries(optional).filter(([, v]) => v !== undefined);
  return { tcpUrl, unixUrl, ...Object.fromEntries(present) };
}

/** This process's own spamd; `stop` forgets it so a later getSpamd() starts a fresh one. */
function startPrivate(): Promise<SpamdEndpoints> {
  return startSpamd().then(
    (server) => ({
      ...server,
      stop: () => {
        shared = undefined;
        return server.stop();
      },
    }),
    (error: unknown) => {
      shared = undefined;
      throw error;
    },
  );
}

/** Runs spamd in the foreground as the leader of its own process group (children inherit it). */
function launch(layout: SpamdLayout, args: string[]): ChildProcess {
  const stderr = openSync(layout.stderrFile, 'a');
  try {
    const child = spawn(findExecutable('spamd') ?? 'spamd', args, {
      cwd: '/',
      detached: true,
      stdio: ['ignore', stderr, stderr],
    });
    child.on('error', () => {}); // a failed spawn shows as an exit in waitReady
    child.unref(); // stop() or the exit hook below ends it; it must not keep a process alive
    running.set(child, layout.dir);
    child.once('exit', () => running.delete(child));
    return child;
  } finally {
    closeSync(stderr);
  }
}

/** Polls PING on every listener until all answer; returns why not, or null when ready. */
async function waitReady(
  child: ChildProcess,
  urls: { tcpUrl: string; unixUrl: string; tlsUrl?: string },
  layout: SpamdLayout,
): Promise<string | null> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const ca = layout.tls === null ? undefined : await readFile(layout.tls.cert);
  const scanners = Object.values(urls).map(
    (url) => new SpamdScanner({ url, connectTimeoutMs: 1_000, ...(ca ? { tls: { ca } } : {}) }),
  );
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `spamd exited (${child.exitCode ?? child.signalCode})`;
    }
    const pings = scanners.map((scanner) => scanner.ping(AbortSignal.timeout(2_000)));
    const results = await Promise.allSettled(pings);
    if (results.every((result) => result.status === 'fulfilled')) return null;
    if (Date.now() >= deadline) return `no PONG within ${READY_TIMEOUT_MS} ms`;
    await sleep(100);
  }
}

function server(
  layout: SpamdLayout,
  child: ChildProcess,
  urls: { tcpUrl: string; unixUrl: string; tlsUrl?: string },
): SpamdServer {
  let stopping: Promise<void> | undefined;
  const env: Record<string, string> = {
    [SPAMD_ENV.tcp]: urls.tcpUrl,
    [SPAMD_ENV.unix]: urls.unixUrl,
    [SPAMD_ENV.bayes]: layout.bayesPath,
  };
  const tlsCaFile = urls.tlsUrl === undefined ? undefined : layout.tls?.cert;
  if (urls.tlsUrl !== undefined && tlsCaFile !== undefined) {
    env[SPAMD_ENV.tls] = urls.tlsUrl;
    env[SPAMD_ENV.tlsCa] = tlsCaFile;
  }
  return {
    ...urls,
    ...(tlsCaFile === undefined ? {} : { tlsCaFile }),
    dir: layout.dir,
    bayesPath: layout.bayesPath,
    env,
    log: () => readLog(layout),
    stop() {
      stopping ??= terminate(child).then(() =>
        rm(layout.dir, { recursive: true, force: true, maxRetries: 3 }),
      );
      return stopping;
    },
  };
}

async function readLog(layout: SpamdLayout): Promise<string> {
  const files = [layout.stderrFile, layout.logFile];
  const parts = await Promise.all(files.map((file) => readFile(file, 'utf8').catch(() => '')));
  return parts.filter((part) => part !== '').join('\n');
}

/** Stops spamd and its children (they share its process group). */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined) await terminateGroup(child.pid);
}

// Safety net: a process that exits without stop() must not leave a spamd or its files behind.
process.once('exit', () => {
  for (const [child, dir] of running) {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
