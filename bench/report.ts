/**
 * The benchmark's Markdown: one dated section with the machine, the load table and the idle
 * probe, and its insertion into BENCHMARKS.md (a section of the same date is replaced); also the
 * small pieces the other benches' sections share (MB figures, the machine and its load).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { IdleResult } from './idle-probe.ts';
import type { LoadResult } from './load-mta.ts';
import type { Machine } from './proc.ts';

/** One table row: the median run (by msg/s) of its repeats, with their spread. */
export interface Row {
  readonly perConnection: number;
  readonly concurrency: number;
  readonly median: LoadResult;
  readonly minRate: number;
  readonly maxRate: number;
  readonly messages: number;
  readonly errors: number;
  /** Daemon CPU time over the median run, as a fraction of one core. */
  readonly daemonCpu: number;
  /** The rest of the machine's busy time (and steal) over the median run: kernel, other processes. */
  readonly otherCpu: number;
  /** Highest daemon RSS (VmHWM after a reset, or sampled VmRSS) over the row's runs, KiB. */
  readonly peakRssKb: number;
}

/** Everything one `npm run bench` measured. */
export interface Results {
  readonly date: string;
  readonly machine: Machine;
  readonly revision: string;
  readonly daemonCommand: string;
  readonly staleDist: boolean;
  readonly plan: string;
  readonly rows: readonly Row[];
  readonly idle: IdleResult | undefined;
  /** Daemon VmHWM at the end of the load runs, KiB. */
  readonly loadHwmKb: number;
  readonly problems: readonly string[];
  readonly totalSeconds: number;
}

/** KiB as MB with one decimal, e.g. `87.3`. */
export const mb = (kb: number): string => (kb / 1024).toFixed(1);
const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 1);
const pct = (fraction: number): string => `${Math.round(fraction * 100)} %`;

/**
 * `Machine: <cpu>, N cores, N GB RAM, Node vX; load average a / b / c (1/5/15 min) at the start,
 * d / e / f at the end` (no final stop), with `loadStart` read when the run began and the end now.
 */
export function machineAndLoad(host: Machine, loadStart: readonly number[]): string {
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  return `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Node ${process.version}; load average ${load(loadStart)} (1/5/15 min) at the start, ${load(loadavg())} at the end`;
}

/** The results table alone. */
export function loadTable(rows: readonly Row[]): string {
  const out = [
    '| mode | conc. | msg/s (min–max) | p50 ms | p90 ms | p99 ms | errors / msgs | daemon CPU | daemon CPU µs/msg | client CPU | other CPU | daemon peak RSS MB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const mode = r.perConnection === 1 ? '1 msg/conn' : `${r.perConnection} msg/conn`;
    const { latency } = r.median;
    out.push(
      `| ${mode} | ${r.concurrency} | ${Math.round(r.median.rate)} (${Math.round(r.minRate)}–${Math.round(r.maxRate)}) | ` +
        `${ms(latency.p50)} | ${ms(latency.p90)} | ${ms(latency.p99)} | ${r.errors} / ${r.messages} | ` +
        `${pct(r.daemonCpu)} | ${Math.round(perMessageUs(r))} | ${pct(r.median.clientCpu)} | ${pct(r.otherCpu)} | ${mb(r.peakRssKb)} |`,
    );
  }
  return out.join('\n');
}

/** Daemon CPU time per answered message in the median run, µs (what one core could sustain: 1e6 / this). */
export function perMessageUs(r: Row): number {
  return (r.daemonCpu * r.median.elapsedMs * 1000) / Math.max(1, r.median.ok + r.median.errors);
}

/** The idle probe as a table. */
export function idleTable(idle: IdleResult): string {
  const perSession = ((idle.openKb - idle.beforeKb) / Math.max(1, idle.opened)).toFixed(1);
  return [
    '| sessions open | RSS before MB | RSS with sessions MB | per session KiB | RSS after close MB |',
    '|--:|--:|--:|--:|--:|',
    `| ${idle.opened} / ${idle.sessions} | ${mb(idle.beforeKb)} | ${mb(idle.openKb)} | ${perSession} | ${mb(idle.afterKb)} |`,
  ].join('\n');
}

/** The dated section for BENCHMARKS.md, between its markers. */
export function section(results: Results): string {
  const m = results.machine;
  const lines = [
    `<!-- bench:${results.date} -->`,
    `### ${results.date}: built-in engine (no scanner configured, untrained)`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, Linux ${m.kernel}, Node ${m.node}; load average ${m.load.toFixed(2)} when the run began.`,
    `- Code: ${results.revision}${results.staleDist ? ' (**dist/ older than src/**: the numbers are for the last build)' : ''}.`,
    `- Daemon: \`${results.daemonCommand}\`.`,
    `- ${results.plan}`,
    `- Whole run: ${Math.round(results.totalSeconds)} s.`,
    '',
    loadTable(results.rows),
    '',
    `Daemon peak RSS over all load runs (VmHWM): ${mb(results.loadHwmKb)} MB.`,
    '',
  ];
  if (results.idle !== undefined) {
    lines.push(
      'Idle sessions (a fresh daemon; each session negotiated, CONNECT, HELO, MAIL, RCPT):',
      '',
    );
    lines.push(idleTable(results.idle), '');
    if (results.idle.errors.length > 0)
      lines.push(`Idle probe errors: ${results.idle.errors.join('; ')}`, '');
  }
  const errors = results.rows.flatMap((r) => r.median.errorSamples);
  if (errors.length > 0)
    lines.push('Load errors (samples):', '', ...errors.map((e) => `- ${e}`), '');
  if (results.problems.length > 0) {
    lines.push(
      'Daemon warnings and stderr during the run:',
      '',
      '```',
      ...results.problems,
      '```',
      '',
    );
  }
  lines.push(`<!-- /bench:${results.date} -->`);
  return lines.join('\n');
}

/** Writes `text` into `file`, replacing the section of the same date or appending it. */
export function writeSection(file: string, date: string, text: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = old.indexOf(`<!-- bench:${date} -->`);
  const endMarker = `<!-- /bench:${date} -->`;
  const end = old.indexOf(endMarker);
  const next =
    start !== -1 && end > start
      ? old.slice(0, start) + text + old.slice(end + endMarker.length)
      : `${old.trimEnd()}\n\n${text}\n`;
  writeFileSync(file, next);
}
