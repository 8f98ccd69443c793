/**
 * Starts Spamward as a child process for the benchmark: the built `dist/` (built first when
 * missing) or the TypeScript sources through tsx, on a free loopback port, with its stdout and
 * stderr drained and its warnings kept for the report.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../test/support/processes.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** How to start the daemon. */
export interface DaemonOptions {
  /** Run src/cli/main.ts through tsx instead of dist/cli/main.js. */
  readonly tsx?: boolean;
  /** Pino level (default `warn`: no per-message log line). */
  readonly logLevel?: string;
  /** Write a V8 CPU profile into this directory when the daemon exits. */
  readonly cpuProfDir?: string;
  /** Extra Node flags before the entry point, e.g. `--trace-gc`, `--heapsnapshot-signal=SIGUSR2`. */
  readonly nodeFlags?: readonly string[];
  /** Told every stdout line (pino JSON, and what Node flags such as `--trace-gc` print). */
  readonly onStdoutLine?: (line: string) => void;
}

/** A running daemon. */
export interface BenchDaemon {
  readonly pid: number;
  readonly port: number;
  /** What was started, e.g. `node dist/cli/main.js run inet:4123@127.0.0.1 --log-level warn`. */
  readonly command: string;
  /** Log lines at warn level or above and stderr lines, first 20. */
  problems(): readonly string[];
  /** SIGTERM, SIGKILL after 10 s; resolves with the exit code or signal. */
  stop(): Promise<string>;
}

/** Starts the daemon and waits until it accepts connections (at most 20 s). */
export async function startDaemon(options: DaemonOptions = {}): Promise<BenchDaemon> {
  const entry = options.tsx === true ? 'src/cli/main.ts' : ensureBuilt();
  const port = await freePort();
  const args = [
    ...(options.tsx === true ? ['--import', 'tsx'] : []),
    ...(options.cpuProfDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir]),
    ...(options.nodeFlags ?? []),
    entry,
    'run',
    `inet:${port}@127.0.0.1`,
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  // The built-in engine (no scanner configured), with a fresh token store: untrained, so its
  // header/body rules score and GTUBE (1000 points) is the only mail over the reject threshold.
  const dataDir = mkdtempSync(join(tmpdir(), 'spamward-bench-'));
  const env = {
    ...process.env,
    SPAMWARD_SCANNER_BUILTIN_DATA_DIR: dataDir,
    SPAMWARD_TRUST_NETWORKS: '',
    SPAMWARD_ACTIONS_REJECT: 'required + 100',
    SPAMWARD_ALLOW_ROOT: 'true',
  };
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const problems: string[] = [];
  const keep = (line: string): void => {
    if (problems.length < 20 && line.trim() !== '') problems.push(line.slice(0, 400));
  };
  lines(child, 'stdout', (line) => {
    options.onStdoutLine?.(line);
    // Pino: 40 warn, 50 error, 60 fatal.
    if (/"level":(4|5|6)\d/.test(line)) keep(line);
  });
  lines(child, 'stderr', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const how = await exited;
    clearTimeout(timer);
    process.off('exit', killOnExit);
    return how;
  };
  try {
    await waitForPort(port, exited);
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${problems.join('\n')}`);
  }
  return {
    pid: child.pid as number,
    port,
    command: `SPAMWARD_TRUST_NETWORKS= SPAMWARD_ACTIONS_REJECT='required + 100' node ${args.join(' ')}`,
    problems: () => [...problems],
    stop,
  };
}

/**
 * Starts the daemon with extra settings such as `SPAMWARD_SCANNER_URLS`, put into the environment
 * it inherits for the start only.
 */
export async function startDaemonWith(
  env: Readonly<Record<string, string>>,
  options: DaemonOptions = {},
): Promise<BenchDaemon> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startDaemon(options);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** True when some file under src/ is newer than dist/cli/main.js (the numbers would be for old code). */
export function distIsStale(): boolean {
  const built = join(ROOT, 'dist/cli/main.js');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  return newest(join(ROOT, 'src')) > builtAt;
}

function ensureBuilt(): string {
  const entry = 'dist/cli/main.js';
  if (!existsSync(join(ROOT, entry))) {
    process.stderr.write('bench: dist/ is missing, running npm run build\n');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  return entry;
}

function lines(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  each: (line: string) => void,
): void {
  let pending = '';
  child[stream]?.on('data', (chunk: Buffer) => {
    const parts = (pending + chunk.toString('utf8')).split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) each(line);
  });
}

/** A free TCP port on loopback (test/support's `freeTcpPort`). */
export function freePort(): Promise<number> {
  return freeTcpPort();
}

/** Polls until the port accepts a connection; fails after 20 s or when the process exits. */
export async function waitForPort(port: number, exited: Promise<string>): Promise<void> {
  let gone: string | undefined;
  void exited.then((how) => {
    gone = how;
  });
  for (let attempt = 0; attempt < 400; attempt++) {
    if (gone !== undefined) throw new Error(`the process exited (${gone}) before listening`);
    const up = await new Promise<boolean>((resolve) => {
      const probe = connect({ port, host: '127.0.0.1' });
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on port ${port} within 20 s`);
}

/** `git describe` of the checkout, for the results. */
export function revision(): string {
  try {
    const rev = execFileSync('git', ['describe', '--always', '--dirty'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return `git ${rev.trim()}`;
  } catch {
    return 'unknown revision';
  }
}
