/**
 * The Markdown section `npm run bench:sessions` prints for BENCHMARKS.md: the machine, the daemon
 * command lines, one table row per scanner and V8 flag variant (verdicts, RSS before, at the peak
 * and after, V8 heap, daemon CPU, and the 120 MB limit met or missed), a note per row (sessions
 * open, sockets, latency, per-round peaks, errors) and the heap snapshot of each scanner, if any.
 */
import { revision } from './daemon.ts';
import type { Machine } from './proc.ts';
import { machineAndLoad, mb } from './report.ts';
import type { SessionsResult } from './sessions-measure.ts';

/** The results as a Markdown table, one row per scanner and setting. */
export function sessionsTable(results: readonly SessionsResult[], limitMb = 120): string {
  const out = [
    '| scanner | V8 flags | sessions × msgs × rounds | msg/s (per round) | verdicts: scanned / rejected / unavailable / errors | RSS before MB (anon / file) | peak RSS MB (VmHWM) | peak RssAnon / RssFile MB | RSS after MB | V8 heap peak / post-GC max / committed MB | daemon CPU µs/msg | ≤ 120 MB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of results) {
    const sum = (k: 'scanned' | 'rejected' | 'unavailable' | 'errors'): number =>
      r.rounds.reduce((n, x) => n + x[k], 0);
    const peakMb = Math.max(r.peakKb, r.hwmKb) / 1024;
    out.push(
      `| ${r.scanner} | ${r.variant === 'default' ? 'none' : `\`${r.variant}\``} | ${r.sessions} × ${r.perSession} × ${r.rounds.length} | ${r.rounds.map((x) => Math.round(x.rate)).join(', ')} | ${sum('scanned')} / ${sum('rejected')} / ${sum('unavailable')} / ${sum('errors')} | ${mb(r.beforeKb)} (${mb(r.beforeAnonKb)} / ${mb(r.beforeFileKb)}) | ${mb(r.peakKb)} (${mb(r.hwmKb)}) | ${mb(r.peakAnonKb)} / ${mb(r.peakFileKb)} | ${mb(r.afterKb)} | ${r.heapPeakMb.toFixed(1)} / ${r.heapFloorPeakMb.toFixed(1)} / ${r.heapCommittedPeakMb.toFixed(1)} | ${Math.round(r.daemonCpuUsPerMsg)} | ${peakMb <= limitMb ? 'met' : '**missed**'} |`,
    );
  }
  return out.join('\n');
}

/** What the section describes besides the rows. */
export interface SessionsRun {
  /** Sessions per round, as asked for. */
  readonly sessions: number;
  readonly host: Machine;
  /** Load averages (1/5/15 min) when the run began. */
  readonly loadStart: readonly number[];
  /** dist/ was older than src/. */
  readonly staleDist: boolean;
  /** `performance.now()` when the run began. */
  readonly began: number;
  /** One per scanner and variant. */
  readonly results: readonly SessionsResult[];
  /** The snapshot rows (one per scanner with `--snapshot`). */
  readonly diagnostics: readonly SessionsResult[];
}

/** The dated Markdown section for a whole run. */
export function sessionsSection(run: SessionsRun): string {
  const { sessions, host, loadStart, staleDist, began, results, diagnostics } = run;
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: ${sessions} concurrent sessions under scanning load`,
    '',
    `- ${machineAndLoad(host, loadStart)}. Code: ${revision()}${staleDist ? ' (**dist/ older than src/**)' : ''}.`,
    `- Daemons (a fresh one per row; a variant's flags go before the entry point): ${[
      ...new Set(results.filter((r) => r.variant === 'default').map((r) => `\`${r.command}\``)),
    ].join('; ')}.`,
    `- Whole run: ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    '',
    sessionsTable(results),
    '',
  ];
  for (const r of results) {
    const bad = r.rounds.flatMap((x) => x.errorSamples);
    lines.push(
      `- ${r.scanner}, ${r.variant === 'default' ? 'no V8 flags' : r.variant}: sessions open before the messages started ${r.rounds.map((x) => `${x.opened} (in ${(x.openMs / 1000).toFixed(1)} s)`).join(', ')}; at most ${r.maxSockets} daemon sockets at once; rounds p50 / p99 latency ${r.rounds.map((x) => `${x.p50.toFixed(0)} / ${x.p99.toFixed(0)} ms`).join(', ')}; per-round peak RSS ${r.rounds.map((x) => mb(x.peakKb)).join(', ')} MB.${bad.length > 0 ? ` Errors: ${bad.slice(0, 3).join('; ')}.` : ''}${r.problems.length > 0 ? ` Daemon said: \`${r.problems[0]?.slice(0, 200)}\`.` : ''}`,
    );
  }
  for (const r of diagnostics) {
    const snap = r.snapshot;
    lines.push(
      snap === undefined
        ? `- ${r.scanner}: no heap snapshot (never ${Math.round(sessions * 0.9)} sockets open at once; at most ${r.maxSockets}).`
        : `- ${r.scanner}, heap snapshot (a separate run, 1 round) with ${snap.sockets} sockets open, RSS ${mb(snap.rssKb)} MB (RssAnon ${mb(snap.anonKb)}) just before: ${snap.liveMb.toFixed(1)} MB live (V8 heap objects and the native sizes V8 knows); largest: ${snap.top
            .map(([cls, s]) => `\`${cls}\` ${(s.size / 2 ** 20).toFixed(1)} MB (${s.count})`)
            .join(', ')}.`,
    );
  }
  return lines.join('\n');
}
