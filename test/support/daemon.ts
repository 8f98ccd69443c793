import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The daemon's entry point, relative to the repository root. */
const ENTRY = 'src/cli/main.ts';

/** Options for startSpamward. */
export interface SpamwardOptions {
  /** Listen address passed after `run`; defaults to `inet:0@127.0.0.1` (any free loopback port). */
  socket?: string;
  /** Environment for the daemon; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the `listening` log line; defaults to 20 s. */
  timeoutMs?: number;
}

/** How the daemon exited. */
export interface SpamwardExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running Spamward daemon started by a test. */
export interface SpamwardProcess {
  /** The bound address from the `listening` log line, e.g. `inet:41234@127.0.0.1`. */
  socket: string;
  /** The TCP port of an `inet`/`inet6` socket; 0 for other socket types. */
  port: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves with how the daemon exited. Idempotent. */
  stop(): Promise<SpamwardExit>;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** The daemon's process id. */
  readonly pid: number;
  /** Sends a signal (e.g. SIGHUP) to the daemon. */
  signal(name: NodeJS.Signals): void;
  /** Resolves once the output has `count` log lines with this `msg` (rejects after `timeoutMs`). */
  waitForLog(msg: string, count?: number, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Starts `node --import tsx src/cli/main.ts run SOCKET ...args` from the repository root and waits
 * until it logs `{"msg":"listening","socket":"inet:PORT@HOST"}` (pino JSON on stdout).
 */
export function startSpamward(
  args: string[] = [],
  options: SpamwardOptions = {},
): Promise<SpamwardProcess> {
  const socket = options.socket ?? 'inet:0@127.0.0.1';
  const env = { ...(options.env ?? process.env) };
  // With no scanner configured the daemon scans with the built-in engine: give it a private
  // token store, never the user's or the system's.
  const dataDir =
    env['SPAMWARD_SCANNER_BUILTIN_DATA_DIR'] === undefined
      ? mkdtempSync(join(tmpdir(), 'spamward-builtin-'))
      : undefined;
  if (dataDir !== undefined) env['SPAMWARD_SCANNER_BUILTIN_DATA_DIR'] = dataDir;
  // Tests run as root in CI; the daemon refuses that unless told (see privileges.test.ts).
  env['SPAMWARD_ALLOW_ROOT'] ??= 'true';
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'run', socket, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const exited = new Promise<SpamwardExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const stop = once(() => terminate(child, exited));
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${why}\n--- spamward output ---\n${output}`)));
    };
    const timer = setTimeout(
      () => fail(`spamward did not log "listening" within ${options.timeoutMs ?? 20_000} ms`),
      options.timeoutMs ?? 20_000,
    );
    void exited.then((exit) => fail(`spamward exited before listening (${describeExit(exit)})`));
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const bound = listeningSocket(line);
        if (bound === null) continue;
        clearTimeout(timer);
        resolve({
          socket: bound,
          port: portOf(bound),
          stop,
          output: () => output,
          pid: child.pid ?? 0,
          signal: (name) => void child.kill(name),
          waitForLog: (msg, count = 1, timeoutMs = 10_000) =>
            waitFor(() => countLogLines(output, msg) >= count, timeoutMs, `${count}× "${msg}"`),
        });
      }
    });
  });
}

/** How many pino lines in `output` have this `msg`. */
function countLogLines(output: string, msg: string): number {
  let n = 0;
  for (const line of output.split('\n')) {
    try {
      if ((JSON.parse(line) as { msg?: unknown }).msg === msg) n++;
    } catch {
      // not a JSON line (stderr)
    }
  }
  return n;
}

/** Polls `done` every 20 ms until it holds; rejects naming `what` after `timeoutMs`. */
async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`spamward did not log ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `socket` field of a pino `listening` line, or null for any other line. */
function listeningSocket(line: string): string | null {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof record !== 'object' || record === null) return null;
  const { msg, socket } = record as { msg?: unknown; socket?: unknown };
  return msg === 'listening' && typeof socket === 'string' ? socket : null;
}

/** The port of `inet:PORT@HOST` / `inet6:PORT@HOST`, or 0 for other socket types. */
export function portOf(socket: string): number {
  const match = /^inet6?:(\d+)@/.exec(socket);
  return match === null ? 0 : Number(match[1]);
}

async function terminate(
  child: ChildProcess,
  exited: Promise<SpamwardExit>,
): Promise<SpamwardExit> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  }
  return exited;
}

function describeExit(exit: SpamwardExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

/** Last-resort cleanup: never leave a daemon running after the test process exits. */
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
