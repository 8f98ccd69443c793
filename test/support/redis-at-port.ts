/**
 * A real redis-server on one fixed loopback port, for the built-in engine's Redis store in the
 * fault matrix: unlike startRedis() (redis-server.ts) it is started, paused (SIGSTOP: it hangs),
 * killed (SIGKILL: it crashes) and started again on the SAME port, so the daemon's configured URL
 * stays valid; and it can be asked how many clients it has and how often it ran a command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findBinary,
  type Daemon as ProcessDaemon,
  spawnDaemon,
  stopDaemon,
  tail,
} from './processes.ts';
import { redisTcpArgs } from './redis-server.ts';

/** A redis-server (no persistence) on one loopback port that can hang, die and come back. */
export interface RedisAtPort {
  readonly port: number;
  /** Starts redis-server on the port (again); resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open (new ones complete in the kernel), nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, as a crash: the kernel resets its connections. Resolves once it has exited. */
  kill(): Promise<void>;
  /** A clean stop (SIGTERM): nothing listens on the port afterwards. */
  stop(): Promise<void>;
  /** Connections of clients other than this probe (CLIENT LIST). */
  clients(): Promise<number>;
  /** How often Redis ran `command` (INFO commandstats), e.g. `hmget`. */
  calls(command: string): Promise<number>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** A redis-server for `port`, not started yet. */
export function redisAtPort(port: number): RedisAtPort {
  const binary = findBinary('redis-server');
  if (binary === null) throw new Error('redis-server not found');
  const dir = mkdtempSync(join(tmpdir(), 'spamward-fault-redis-'));
  let daemon: ProcessDaemon | undefined;
  const pid = (): number => {
    if (daemon === undefined || daemon.hasExited() || daemon.child.pid === undefined)
      throw new Error('redis-server is not running');
    return daemon.child.pid;
  };
  const kill = (): void => {
    if (daemon !== undefined && !daemon.hasExited()) daemon.child.kill('SIGKILL');
  };
  process.once('exit', kill); // SIGKILL: a stopped (SIGSTOP) redis would ignore SIGTERM
  const self: RedisAtPort = {
    port,
    async start() {
      daemon = spawnDaemon('redis', binary, redisTcpArgs(port, dir), join(dir, 'redis.log'));
      const until = performance.now() + 10_000;
      while ((await redisCommand(port, 'PING').catch(() => '')) !== '+PONG\r\n') {
        if (daemon.hasExited() || performance.now() > until)
          throw new Error(
            `redis-server did not start on ${port}:\n${tail(join(dir, 'redis.log'))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    },
    pause: () => process.kill(pid(), 'SIGSTOP'),
    resume: () => process.kill(pid(), 'SIGCONT'),
    async kill() {
      kill();
      await daemon?.exited;
    },
    async stop() {
      if (daemon !== undefined) await stopDaemon(daemon);
    },
    async clients() {
      const list = await redisCommand(port, 'CLIENT LIST');
      return list.split('\n').filter((line) => / cmd=/.test(line) && !/cmd=client/.test(line))
        .length;
    },
    async calls(command) {
      const stats = await redisCommand(port, 'INFO commandstats');
      return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    },
    async close() {
      if (daemon !== undefined && !daemon.hasExited()) {
        process.kill(pid(), 'SIGCONT');
        await stopDaemon(daemon);
      }
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Sends one inline command on a fresh connection; resolves with the whole raw reply. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${command}: no reply`));
    }, 2_000);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      // A status line (+PONG) or a bulk string `$N\r\n<N bytes>\r\n`.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (
        bulk === null
          ? reply.endsWith('\r\n')
          : reply.length >= bulk[0].length + Number(bulk[1]) + 2
      )
        done();
    });
  });
}
