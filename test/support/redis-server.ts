/**
 * A private redis-server for tests: a free loopback TCP port, no persistence (no RDB, no AOF),
 * its working directory and log under one temp dir removed on stop. Start it with
 * startRedis() and stop it in an `after` hook; a process exit without stop() still ends it.
 *
 * Run directly (`node --import tsx test/support/redis-server.ts`) it starts one, prints its
 * address, and stops it on SIGINT/SIGTERM.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Daemon,
  findBinary,
  freeTcpPort,
  killOnExit,
  onlyOnce,
  spawnDaemon,
  stopDaemon,
  tail,
} from './processes.ts';

/** A redis-server this process started. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly dir: string;
  readonly logFile: string;
  /** Milliseconds from spawning to the first PONG. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** Null when redis-server can be started; otherwise why not. */
export function redisAvailable(): string | null {
  return findBinary('redis-server') === null
    ? 'redis-server not found (apt-get install redis-server)'
    : null;
}

/** The redis-server arguments: loopback TCP only, in the foreground, nothing written to disk. */
export function redisTcpArgs(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'],
  ];
}

const running = new Set<Daemon>();

/** Starts redis-server; resolves once it answers PING (default wait 10 s). */
export async function startRedis(timeoutMs = 10_000): Promise<RedisServer> {
  const why = redisAvailable();
  if (why !== null) throw new Error(why);
  killOnExit(running);
  const dir = mkdtempSync(join(tmpdir(), 'spamward-redis-'));
  const logFile = join(dir, 'redis.log');
  const port = await freeTcpPort();
  const started = performance.now();
  const daemon = spawnDaemon(
    'redis',
    findBinary('redis-server') ?? 'redis-server',
    redisTcpArgs(port, dir),
    logFile,
  );
  running.add(daemon);
  const stop = onlyOnce(async () => {
    await stopDaemon(daemon);
    running.delete(daemon);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  try {
    const deadline = started + timeoutMs;
    while (!(await pong(port))) {
      if (daemon.hasExited()) throw new Error('redis-server exited during start-up');
      if (performance.now() > deadline) throw new Error(`redis-server did not answer on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    const detail = tail(logFile);
    await stop();
    throw new Error(`${(error as Error).message}\n--- redis.log ---\n${detail}`, { cause: error });
  }
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    logFile,
    startupMs: Math.round(performance.now() - started),
    stop,
  };
}

/** True when something on `port` answers `PING` with `+PONG`. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startRedis();
  process.stdout.write(
    `${server.url}\n# started in ${server.startupMs} ms; log ${server.logFile}\n`,
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await server.stop();
}
