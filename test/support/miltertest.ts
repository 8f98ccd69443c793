/**
 * Runs OpenDKIM's `miltertest` (Debian package `miltertest`) on a Lua script. A failing
 * script exits with status 1 and prints only what it echoed, so callers should show stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';

/** What one miltertest run produced. */
export interface MiltertestResult {
  /** Exit status; 128 + the signal number when it died from a signal (e.g. 134 on stack smashing). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How long one script may run before it is killed (the scripts' own reads time out sooner). */
export const MILTERTEST_TIMEOUT_MS = 20_000;

const BINARY = 'miltertest';
const DEFINE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why miltertest can't be used on this machine, or null when it can (for `requireComponent`). */
export function miltertestAvailable(): string | null {
  const probe = spawnSync(BINARY, ['-V'], { encoding: 'utf8', timeout: 5_000 });
  if (probe.error !== undefined) {
    return `${probe.error.message} (install it with: apt-get install miltertest)`;
  }
  if (probe.status !== 0) {
    return `${BINARY} -V exited with status ${String(probe.status)}: ${probe.stderr.trim()}`;
  }
  return null;
}

/** Runs `miltertest -s script -D name=value …`, killing it after `timeoutMs`. */
export function runMiltertest(
  script: string,
  defines: Record<string, string>,
  timeoutMs: number = MILTERTEST_TIMEOUT_MS,
): Promise<MiltertestResult> {
  const args = ['-s', script, ...defineArgs(defines)];
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const note = timedOut ? `\n[runMiltertest: killed after ${timeoutMs} ms]\n` : '';
      resolve({ code: exitCode(status, signal), stdout: stdout(), stderr: stderr() + note });
    });
  });
}

/** Buffers everything `stream` emits; the returned function yields it as UTF-8 text. */
function collect(stream: Readable): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

/** Turns `{ port: '1234' }` into `['-D', 'port=1234']`; names must be Lua identifiers. */
function defineArgs(defines: Record<string, string>): string[] {
  return Object.entries(defines).flatMap(([name, value]) => {
    if (!DEFINE_NAME.test(name)) {
      throw new TypeError(
        `miltertest define name must be a Lua identifier: ${JSON.stringify(name)}`,
      );
    }
    return ['-D', `${name}=${value}`];
  });
}

/** A shell-style exit code: the status, or 128 + signal number when killed by a signal. */
function exitCode(status: number | null, signal: NodeJS.Signals | null): number {
  if (status !== null) {
    return status;
  }
  const number = signal === null ? undefined : constants.signals[signal];
  return 128 + (number ?? 0);
}
