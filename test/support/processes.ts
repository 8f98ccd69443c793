/**
 * Small process helpers for test harnesses that run system daemons: find a binary, pick free
 * loopback ports, spawn with output to a file (never a pipe: a parent blocked in spawnSync must
 * not stall its daemons), wait for exit, look up a system user.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The absolute path of `name` in PATH, /usr/sbin or /sbin (daemons live there); null if absent. */
export function findBinary(name: string): string | null {
  const dirs = [
    ...(process.env['PATH'] ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
  ];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return null;
}

/** uid/gid of a system user from /etc/passwd, or null. */
export function systemUser(name: string): { uid: number; gid: number } | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  return null;
}

/** A loopback TCP port that was free a moment ago. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** A loopback port free for both TCP and UDP (a DNS server needs both). */
export async function freeDnsPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeTcpPort();
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no free port for both TCP and UDP on 127.0.0.1');
}

/** A daemon started by a harness. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (also if it already has). */
  readonly exited: Promise<void>;
  /** True once the process has exited. */
  hasExited(): boolean;
}

/** Spawns `command` with stdout and stderr appended to `logFile`. */
export function spawnDaemon(
  name: string,
  command: string,
  args: string[],
  logFile: string,
): Daemon {
  const fd = openSync(logFile, 'a');
  let gone = false;
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }).then(() => {
      gone = true;
    });
    return { name, child, exited, hasExited: () => gone };
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a daemon by its pid: SIGTERM, then after `graceMs` SIGKILL for it and its direct children
 * (rspamd's workers, found through /proc). Resolves once the children are gone too.
 */
export async function stopDaemon(daemon: Daemon, graceMs = 5_000): Promise<void> {
  const pid = daemon.child.pid;
  if (pid === undefined || daemon.hasExited()) return;
  const children = childPids(pid);
  daemon.child.kill('SIGTERM');
  const deadline = performance.now() + graceMs;
  let timer: NodeJS.Timeout | undefined;
  const clean = await Promise.race([
    daemon.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, graceMs, false);
    }),
  ]);
  clearTimeout(timer);
  if (!clean) {
    for (const child of [...children, ...childPids(pid)]) killQuietly(child);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
  while (children.some(alive) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const child of children.filter(alive)) killQuietly(child);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {}
  }
  return found;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** The last `lines` lines of a text file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/** Wraps `fn` so that it runs once; later calls get the first call's promise. */
export function onlyOnce(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

const guarded = new WeakSet<Set<Daemon>>();

/** If the process exits without stopping them (a crash, a forgotten after()), SIGTERM these daemons. */
export function killOnExit(running: Set<Daemon>): void {
  if (guarded.has(running)) return;
  guarded.add(running);
  process.once('exit', () => {
    for (const daemon of running) if (!daemon.hasExited()) daemon.child.kill('SIGTERM');
  });
}
