/**
 * The real daemon under test in the fault matrix: `spamward run --config FILE` with metrics on a
 * free port, driven by rewriting that file and reloading it (SIGHUP) once per row, so each row
 * gets a fresh scanner pool and its own failure policy without a daemon start. Also what a row
 * configures (the failure policies, the scan timeout, the reply cap, health settings), how it
 * sends one message through a fake MTA, and how it reads the daemon's pino log lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from '../../src/milter/responses.ts';
import { type SpamwardProcess, startSpamward } from './daemon.ts';
import { FakeMta } from './fake-mta.ts';

/** What the failure policy does per class (docs/configuration.md, `failure.*`). */
export type FailureAction = 'accept' | 'tempfail' | 'reject';
/** The three failure classes (src/policy/failure.ts). */
export type FailureClass = 'unavailable' | 'timeout' | 'error';
/** One failure policy: an action for each class. */
export type FailurePolicy = Readonly<Record<FailureClass, FailureAction>>;

/**
 * Three policies, each giving the three classes three different actions, so the action a row
 * sees names the class it was sorted into. Rows rotate them, so every class is seen accepted and
 * stamped somewhere, and tempfailed or rejected elsewhere.
 */
export const POLICIES = {
  P1: { unavailable: 'accept', timeout: 'tempfail', error: 'reject' },
  P2: { unavailable: 'reject', timeout: 'accept', error: 'tempfail' },
  P3: { unavailable: 'tempfail', timeout: 'reject', error: 'accept' },
} as const satisfies Record<string, FailurePolicy>;

/** The scan timeout of every row: short, so stall and drip rows end fast. */
export const SCAN_TIMEOUT_MS = 2_000;
/** The reply cap of every row (scanner.maxResponseBytes; the clients' own defaults are 64/8 MiB). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Scanner settings a row may change: the health ones (maxErrors…) and the scan timeout. */
export interface HealthSettings {
  /** scanner.scanTimeoutMs; default SCAN_TIMEOUT_MS. */
  readonly scanTimeoutMs?: number;
  readonly maxErrors?: number;
  readonly errorTimeMs?: number;
  readonly deadTimeMs?: number;
}

/** One message sent through the daemon: the end-of-message replies and how long they took. */
export interface Sent {
  readonly eob: readonly Response[];
  readonly ms: number;
}

/** The real daemon with a config file that each row rewrites and reloads (SIGHUP). */
export interface MatrixDaemon {
  readonly process: SpamwardProcess;
  readonly metricsUrl: string;
  /**
   * Writes a configuration scanning with `url` under `policy` and reloads it. A reload builds a
   * fresh scanner pool, so every row starts with a healthy server (no errors counted) and its own
   * failure policy; metrics survive reloads (one registry per daemon).
   */
  configure(url: string, policy: FailurePolicy, health?: HealthSettings): Promise<void>;
  /** Sends one message (queue id `id`, a short plain body) on a new MTA connection. */
  send(id: string): Promise<Sent>;
  /** The `message filtered` line for `id`, once written. */
  logFor(id: string): Promise<LogRecord>;
  /** Stops the daemon and removes its config directory. */
  stop(): Promise<void>;
}

function configYaml(url: string, policy: FailurePolicy, health: HealthSettings): string {
  return `trust:
  networks: []
scanner:
  urls: [${JSON.stringify(url)}]
  connectTimeoutMs: 1000
  scanTimeoutMs: ${health.scanTimeoutMs ?? SCAN_TIMEOUT_MS}
  maxResponseBytes: ${MAX_RESPONSE_BYTES}
  maxErrors: ${health.maxErrors ?? 3}
  errorTimeMs: ${health.errorTimeMs ?? 10_000}
  deadTimeMs: ${health.deadTimeMs ?? 30_000}
failure:
  unavailable: ${policy.unavailable}
  timeout: ${policy.timeout}
  error: ${policy.error}
milter:
  filterTimeoutMs: 20000
`;
}

/**
 * Starts `spamward run --config FILE` with metrics on a free port. The policy lives in the file,
 * not in SPAMWARD_FAILURE_* variables: variables cannot change under a running process, and a
 * SIGHUP per row is much cheaper than a daemon start per row (2–3 s each here).
 */
export async function startMatrixDaemon(url: string): Promise<MatrixDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-fault-matrix-'));
  const file = join(dir, 'spamward.yaml');
  writeFileSync(file, configYaml(url, POLICIES.P1, {}));
  // Only our SPAMWARD_* settings: a stray one in the caller's environment would override the file.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('SPAMWARD_')),
  );
  env['SPAMWARD_METRICS_LISTEN'] = '127.0.0.1:0';
  let daemon: SpamwardProcess;
  try {
    daemon = await startSpamward(['--config', file], { env, timeoutMs: 30_000 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const metricsUrl = /"metrics":"(http:\/\/[^"]+)"/.exec(daemon.output())?.[1];
  if (metricsUrl === undefined) throw new Error(`no metrics URL logged:\n${daemon.output()}`);
  let reloads = 0;
  const logFor = async (id: string): Promise<LogRecord> => {
    const until = performance.now() + 10_000;
    for (;;) {
      try {
        return messageLog(daemon.output(), id);
      } catch (error) {
        if (performance.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  return {
    process: daemon,
    metricsUrl,
    async configure(next, policy, health = {}) {
      writeFileSync(file, configYaml(next, policy, health));
      daemon.signal('SIGHUP');
      reloads++;
      await daemon.waitForLog('configuration reloaded', reloads, 10_000);
      if (logRecords(daemon.output()).some((r) => r['msg'] === 'reload refused'))
        throw new Error(`reload refused:\n${daemon.output()}`);
    },
    async send(id) {
      const mta = await FakeMta.connect({ port: daemon.port }, { timeoutMs: 20_000 });
      try {
        await mta.negotiate();
        const started = performance.now();
        const body = 'Hello, this is a test message.\r\n';
        const { eob } = await mta.message({ macros: { M: { i: id } }, body });
        return { eob, ms: performance.now() - started };
      } finally {
        mta.destroy();
      }
    },
    logFor,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One pino record of the daemon. */
export type LogRecord = Record<string, unknown>;

/** Every JSON log line in `output` (stderr noise and partial lines skipped). */
export function logRecords(output: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The daemon's `message filtered` line for queue id `id` (exactly one is expected). */
export function messageLog(output: string, id: string): LogRecord {
  const found = logRecords(output).filter((r) => r['msg'] === 'message filtered' && r['id'] === id);
  if (found.length !== 1)
    throw new Error(`expected one "message filtered" line for ${id}, found ${found.length}`);
  return found[0] as LogRecord;
}

/** How many `scanner marked dead` lines name `url`. */
export function countDead(daemon: MatrixDaemon, url: string): number {
  return logRecords(daemon.process.output()).filter(
    (r) => r['msg'] === 'scanner marked dead' && r['scanner'] === url,
  ).length;
}
