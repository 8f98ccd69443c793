/**
 * Paired measurement for the comparison benchmark (bench/peers.ts): two sides at one setting, run
 * alternately `repeat` times so that drift in other work on the machine hits both alike, with the
 * CPU time each side's server (and the milter in front of a scanner) spent per message; and the
 * side that drives a milter with the load generator.
 */
import type { CorpusMessage } from './corpus.ts';
import { type LoadResult, packageVersion } from './load-mta.ts';
import { type Check, type EomJudge, runCheckedLoad } from './peers-load.ts';
import { cpuMs } from './proc.ts';

/** Another milter in front of the same scanner, to compare Spamward with (bench/peer-*.ts). */
export interface PeerMilter {
  /** The table label, e.g. `spamass-milter → spamd`. */
  readonly label: string;
  /** Its loopback milter port. */
  readonly port: number;
  /** What counts as a right end-of-message answer from it, and as spam. */
  readonly judge: EomJudge;
  /** CPU ms so far of the milter (with the helpers it runs per message). */
  cpu(): number;
  /** Markdown bullet lines: how it was configured. */
  readonly notes: readonly string[];
  /** Its stderr lines, first 20. */
  problems(): readonly string[];
  stop(): Promise<void>;
}

/** What one run of a side measured; `spam` when the side can tell spam from ham. */
export type RunResult = LoadResult & { readonly spam?: number };

/** One side of a pair: how to run it once, and whose CPU to charge. */
export interface Runner {
  readonly label: string;
  run(): Promise<RunResult>;
  /** CPU ms so far of the process(es) serving this side (milter or scanner), when known. */
  cpu?(): number;
  /** CPU ms so far of the milter in front of a scanner (Spamward, or a peer milter), when known. */
  milterCpu?(): number;
}

/** Several runs of one side at one setting. */
export interface Side {
  readonly label: string;
  readonly runs: {
    readonly result: RunResult;
    readonly serverCpuUs: number | undefined;
    readonly milterCpuUs: number | undefined;
  }[];
}

/** A pair of sides measured alternately at one setting. */
export interface Pair {
  readonly setting: string;
  readonly concurrency: number;
  readonly base: Side;
  readonly ours: Side;
}

/** Runs `base` then `ours`, `repeat` times, and keeps every run. */
export async function measure(
  setting: string,
  concurrency: number,
  base: Runner,
  ours: Runner,
  repeat: number,
): Promise<Pair> {
  const pair: Pair = {
    setting,
    concurrency,
    base: { label: base.label, runs: [] },
    ours: { label: ours.label, runs: [] },
  };
  for (let i = 0; i < repeat; i++) {
    for (const [runner, side] of [
      [base, pair.base],
      [ours, pair.ours],
    ] as const) {
      const before = [runner.cpu?.(), runner.milterCpu?.()] as const;
      const result = await runner.run();
      const after = [runner.cpu?.(), runner.milterCpu?.()] as const;
      const perMessage = (k: 0 | 1): number | undefined => {
        const [b, a] = [before[k], after[k]];
        return b === undefined || a === undefined
          ? undefined
          : ((a - b) * 1000) / Math.max(1, result.ok + result.errors);
      };
      side.runs.push({ result, serverCpuUs: perMessage(0), milterCpuUs: perMessage(1) });
      process.stderr.write(
        `peers: ${setting} c=${concurrency} ${runner.label}: ${Math.round(result.rate)} msg/s, ` +
          `p50 ${result.latency.p50.toFixed(2)} ms, errors ${result.errors}` +
          (result.errorSamples.length > 0 ? ` (${result.errorSamples[0]})` : '') +
          '\n',
      );
    }
  }
  return pair;
}

/**
 * A side that runs `n` messages through the milter on `port` (`concurrency` connections,
 * `perConnection` messages each), judged by `check`, stopping after `capMs`; CPU charged to `pid`.
 */
export function milterRunner(
  label: string,
  port: number,
  pid: number,
  check: Check,
  messages: readonly CorpusMessage[],
  concurrency: number,
  perConnection: number,
  n: number,
  capMs: number,
): Runner {
  return {
    label,
    run: () =>
      runCheckedLoad({
        port,
        concurrency,
        messagesPerConnection: perConnection,
        count: n,
        durationMs: capMs,
        messages,
        check,
        version: packageVersion(),
      }),
    cpu: () => cpuMs(pid),
  };
}
