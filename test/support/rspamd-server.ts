/**
 * A private rspamd for tests: its own redis (unix socket, no persistence), a dnsmasq stub that
 * answers NXDOMAIN for every name at once, and rspamd with the stock config plus our overrides,
 * all on free loopback ports under one temp dir. Start it once per test run with startRspamd()
 * and export `server.env`; getRspamd() uses such an instance or starts one for this process.
 *
 * Run directly (`node --import tsx test/support/rspamd-server.ts [--no-redis]`) it starts one,
 * prints the environment lines, and stops it on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Daemon,
  findBinary,
  freeDnsPort,
  freeTcpPort,
  killOnExit,
  onlyOnce,
  spawnDaemon,
  stopDaemon,
  systemUser,
  tail,
} from './processes.ts';
import { dnsmasqArgs, redisArgs, rspamdArgs, rspamdConfigFiles } from './rspamd-config.ts';

/** An rspamd to test against; `stop` only when this process started it. */
export interface RspamdInstance {
  /** Normal worker, e.g. `rspamd://127.0.0.1:40123`. */
  readonly url: string;
  readonly controllerUrl: string;
  /** The controller's enable password. */
  readonly password: string;
  stop?(): Promise<void>;
}

/** An rspamd this process started. */
export interface RspamdServer extends RspamdInstance {
  stop(): Promise<void>;
  /** Milliseconds from spawning rspamd to both workers answering /ping. */
  readonly startupMs: number;
  readonly dir: string;
  readonly logFile: string;
  /** The variables that hand this instance to test processes (see getRspamd). */
  readonly env: Record<string, string>;
  /** rspamd's own milter (proxy worker, self-scan) on this loopback port, when asked for. */
  readonly proxyMilterPort?: number;
}

/** Options of startRspamd. */
export interface StartRspamdOptions {
  /** With a private Redis, hence a working Bayes classifier (default true). */
  readonly redis?: boolean;
  /** Hyperscan cache; default $SPAMWARD_RSPAMD_CACHE_DIR or $TMPDIR/spamward-rspamd-cache. */
  readonly cacheDir?: string;
  /** How long to wait for /ping; default 120 s (a cold start takes ≈ 18 s on 2 cores). */
  readonly timeoutMs?: number;
  /**
   * Also run rspamd's proxy worker as a milter in self-scan mode on a free loopback port
   * (default false: no proxy worker, as the tests need none).
   */
  readonly proxyMilter?: boolean;
}

/** Environment variable names for the instance with Redis, and for the one without. */
export const RSPAMD_ENV = {
  redis: {
    url: 'SPAMWARD_TEST_RSPAMD_URL',
    controller: 'SPAMWARD_TEST_RSPAMD_CONTROLLER',
    password: 'SPAMWARD_TEST_RSPAMD_PASSWORD',
  },
  noRedis: {
    url: 'SPAMWARD_TEST_RSPAMD_NOREDIS_URL',
    controller: 'SPAMWARD_TEST_RSPAMD_NOREDIS_CONTROLLER',
    password: 'SPAMWARD_TEST_RSPAMD_NOREDIS_PASSWORD',
  },
} as const;

const RSPAMD_USER = '_rspamd';

/** Null when rspamd tests can run (an instance in the environment, or the binaries); else why not. */
export function rspamdAvailable(): string | null {
  if (process.env[RSPAMD_ENV.redis.url] !== undefined) return null;
  const missing = ['rspamd', 'redis-server', 'dnsmasq'].filter((b) => findBinary(b) === null);
  if (missing.length > 0) {
    return `${missing.join(', ')} not found (apt-get install rspamd redis-server dnsmasq-base)`;
  }
  if (process.getuid?.() === 0 && systemUser(RSPAMD_USER) === null) {
    return `running as root but there is no ${RSPAMD_USER} user to run rspamd as`;
  }
  return null;
}

const shared = new Map<boolean, Promise<RspamdInstance>>();

/**
 * The rspamd for this test process: the one named by SPAMWARD_TEST_RSPAMD_* (or *_NOREDIS_* for
 * `{ redis: false }`) when set, otherwise a private one started on first use (call its `stop`).
 */
export function getRspamd(options: { readonly redis?: boolean } = {}): Promise<RspamdInstance> {
  const redis = options.redis ?? true;
  let instance = shared.get(redis);
  if (instance === undefined) {
    const names = redis ? RSPAMD_ENV.redis : RSPAMD_ENV.noRedis;
    const url = process.env[names.url];
    instance =
      url === undefined
        ? startRspamd({ redis })
        : Promise.resolve({
            url,
            controllerUrl: process.env[names.controller] ?? url.replace(/:\d+$/, ':11334'),
            password: process.env[names.password] ?? '',
          });
    shared.set(redis, instance);
  }
  return instance;
}

const running = new Set<Daemon>();

/** Starts redis (unless `redis: false`), the DNS stub and rspamd; resolves once rspamd answers. */
export async function startRspamd(options: StartRspamdOptions = {}): Promise<RspamdServer> {
  const why = rspamdAvailable();
  if (why !== null && process.env[RSPAMD_ENV.redis.url] === undefined) throw new Error(why);
  killOnExit(running);
  const user = process.getuid?.() === 0 ? systemUser(RSPAMD_USER) : null;
  const cacheDir =
    options.cacheDir ??
    process.env['SPAMWARD_RSPAMD_CACHE_DIR'] ??
    join(tmpdir(), 'spamward-rspamd-cache');
  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  if (user !== null) chownSync(cacheDir, user.uid, user.gid);
  const dir = mkdtempSync(join(tmpdir(), 'spamward-rspamd-'));
  const daemons: Daemon[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(daemons.map((d) => stopDaemon(d)));
    for (const d of daemons) running.delete(d);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };
  const start = (name: string, binary: string, args: string[]): Daemon => {
    const daemon = spawnDaemon(name, findBinary(binary) ?? binary, args, join(dir, `${name}.log`));
    daemons.push(daemon);
    running.add(daemon);
    return daemon;
  };
  try {
    for (const sub of ['conf/local.d', 'conf/override.d', 'run', 'db', 'log', 'redis']) {
      mkdirSync(join(dir, sub), { recursive: true });
    }
    const redisSocket = options.redis === false ? undefined : join(dir, 'redis', 'redis.sock');
    if (redisSocket !== undefined) {
      start('redis', 'redis-server', redisArgs(redisSocket));
    }
    const dnsPort = await freeDnsPort();
    start('dnsmasq', 'dnsmasq', dnsmasqArgs(dnsPort, join(dir, 'dnsmasq.pid'), user !== null));
    const normalPort = await freeTcpPort();
    const controllerPort = await freeTcpPort();
    const proxyMilterPort = options.proxyMilter === true ? await freeTcpPort() : undefined;
    const password = `rw-${randomBytes(12).toString('hex')}`;
    const files = rspamdConfigFiles({
      normalPort,
      controllerPort,
      dnsPort,
      cacheDir,
      readPassword: `ro-${randomBytes(12).toString('hex')}`,
      enablePassword: password,
      ...(redisSocket === undefined ? {} : { redisSocket }),
      ...(proxyMilterPort === undefined ? {} : { proxyMilterPort }),
    });
    for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, 'conf', path), text);
    if (user !== null) chownTree(dir, user.uid, user.gid);
    const started = performance.now();
    start('rspamd', 'rspamd', rspamdArgs(dir, user === null ? undefined : RSPAMD_USER));
    const deadline = started + (options.timeoutMs ?? 120_000);
    for (const port of [normalPort, controllerPort]) {
      await waitUntil(
        () => pong(port),
        `rspamd did not answer /ping on port ${port}`,
        deadline,
        () => daemons.find((d) => d.hasExited()),
      );
    }
    // The milter speaks no HTTP: wait until it accepts a connection.
    if (proxyMilterPort !== undefined) {
      await waitUntil(
        () => listening(proxyMilterPort),
        `rspamd's proxy milter did not listen on port ${proxyMilterPort}`,
        deadline,
        () => daemons.find((d) => d.hasExited()),
      );
    }
    const startupMs = Math.round(performance.now() - started);
    const url = `rspamd://127.0.0.1:${normalPort}`;
    const controllerUrl = `rspamd://127.0.0.1:${controllerPort}`;
    const names = redisSocket === undefined ? RSPAMD_ENV.noRedis : RSPAMD_ENV.redis;
    return {
      url,
      controllerUrl,
      password,
      startupMs,
      dir,
      logFile: join(dir, 'log', 'rspamd.log'),
      env: { [names.url]: url, [names.controller]: controllerUrl, [names.password]: password },
      stop: onlyOnce(stopAll),
      ...(proxyMilterPort === undefined ? {} : { proxyMilterPort }),
    };
  } catch (error) {
    const logs = daemons.map((d) => `--- ${d.name}.log ---\n${tail(join(dir, `${d.name}.log`))}`);
    const detail = `${logs.join('\n')}\n--- rspamd.log ---\n${tail(join(dir, 'log', 'rspamd.log'))}`;
    await stopAll();
    throw new Error(`${(error as Error).message}\n${detail}`, { cause: error });
  }
}

/** Polls `ready` every 100 ms until it says yes, a daemon dies, or the deadline passes. */
async function waitUntil(
  ready: () => Promise<boolean>,
  what: string,
  deadline: number,
  dead: () => Daemon | undefined,
): Promise<void> {
  for (;;) {
    const gone = dead();
    if (gone !== undefined) throw new Error(`${gone.name} exited during start-up`);
    if (await ready()) return;
    if (performance.now() > deadline) throw new Error(`${what} in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True when something accepts a TCP connection on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = connect({ host: '127.0.0.1', port }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/ping', timeout: 1_000 }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 && text.trim() === 'pong'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startRspamd({ redis: !process.argv.includes('--no-redis') });
  for (const [name, value] of Object.entries(server.env))
    process.stdout.write(`${name}=${value}\n`);
  process.stdout.write(`# started in ${server.startupMs} ms; logs in ${dirname(server.logFile)}\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await server.stop();
}
