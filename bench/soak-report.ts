/**
 * The soak's Markdown section for BENCHMARKS.md: the machine and daemon, the verdict with the
 * criterion (post-GC heap floor trend) and what is reported beside it (RSS, fds, timers), then
 * the heap snapshots, the constructors that grew between them and their retainer paths, every
 * /proc sample and the full GCs after the warm-up.
 */
import { revision } from './daemon.ts';
import { totalSize } from './heap-diff.ts';
import { machine } from './proc.ts';
import { machineAndLoad, mb } from './report.ts';
import type { SoakGrowth, SoakSnap } from './soak-snapshots.ts';
import type { MajorGc, SoakSample, SoakTrends } from './soak-trend.ts';

/** Everything one soak run measured, for `soakReport`. */
export interface SoakRun {
  readonly count: number;
  /** Messages of warm-up. */
  readonly warmFrom: number;
  /** The criterion's limit, MB per 10,000 messages either way. */
  readonly maxHeapSlope: number;
  /** The load options as given. */
  readonly concurrency: string;
  readonly perConnection: string;
  readonly sampleMs: number;
  /** Load averages (1/5/15 min) when the run began. */
  readonly loadAtStart: readonly number[];
  /** dist/ was older than src/. */
  readonly stale: boolean;
  /** How the daemon was started (temporary paths replaced), and how it stopped. */
  readonly daemonCommand: string;
  readonly stopped: string;
  readonly elapsedS: number;
  /** Of which spent on heap snapshots, ms. */
  readonly pausedMs: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly majors: readonly MajorGc[];
  readonly samples: readonly SoakSample[];
  readonly snaps: readonly SoakSnap[];
  readonly growth: SoakGrowth;
  readonly trends: SoakTrends;
  /** Errors, heap floor, fds and timers all passed. */
  readonly ok: boolean;
  /** The daemon's warnings and stderr lines. */
  readonly problems: readonly string[];
  /** Messages done at a time on the bench's clock. */
  readonly messagesAt: (atMs: number) => number;
}

/** The soak's Markdown section. */
export function soakReport(r: SoakRun): string {
  const { count, warmFrom, maxHeapSlope, snaps, samples, trends: t } = r;
  const { growth, perMessages, paths } = r.growth;
  const loadS = r.elapsedS - r.pausedMs / 1000;
  const host = machine();
  const majorsAfter = t.warmMajors.map((g) => g.afterMb);
  const warm = t.warm;
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: soak, ${count.toLocaleString('en')} messages, built-in engine`,
    '',
    `- ${machineAndLoad(host, r.loadAtStart)}.`,
    `- Code: ${revision()}${r.stale ? ' (**dist/ older than src/**: the daemon ran the last build)' : ''}.`,
    `- Daemon: \`${r.daemonCommand}\`; load: concurrency ${r.concurrency}, ${r.perConnection} messages per connection, corpus messages with GTUBE every 100; stopped with SIGTERM (${r.stopped}).`,
    `- ${r.elapsedS.toFixed(0)} s${r.pausedMs > 0 ? ` (${loadS.toFixed(0)} s of load, the rest heap snapshots)` : ''}, ${(count / loadS).toFixed(0)} msg/s, ${r.errors} errors${r.errorSamples.length > 0 ? ` (${r.errorSamples.join('; ')})` : ''}.`,
    `- **Criterion: post-GC heap floor** (heap used after each of the ${t.warmMajors.length} full GCs after the warm-up, the first ${Math.round(warmFrom).toLocaleString('en')} messages): ${majorsAfter.length > 0 ? `${Math.min(...majorsAfter).toFixed(1)}–${Math.max(...majorsAfter).toFixed(1)} MB` : 'none seen'}, trend ${t.heapSlope.toFixed(3)} MB per 10,000 messages (limit ±${maxHeapSlope}): **${t.heapFlat ? 'flat' : 'growing or unknown'}**.`,
    `- RSS beside it (not the criterion): raw samples ${warm.length > 0 ? `${mb(Math.min(...warm.map((s) => s.rssKb)))}–${mb(Math.max(...warm.map((s) => s.rssKb)))}` : '?'} MB, trend ${t.rssSlope.toFixed(2)} MB per 10,000; per-minute floor ${t.floors.map((s) => mb(s.rssKb)).join(' → ')} MB, trend ${t.floorSlope.toFixed(2)} MB per 10,000.`,
    ...(snaps.length > 0
      ? [
          '- RSS after the first heap snapshot includes what writing it cost the daemon (tens of MB that the allocator keeps); the RSS trend is meaningful in a run with `--snapshots 0`.',
        ]
      : []),
    `- Open file descriptors after warm-up: ${t.fdFirst} → ${t.fdLast} (**${t.fdsFlat ? 'flat' : 'growing'}**).`,
    `- Timers (live \`Timeout\` objects in the snapshots): ${t.timeouts.length > 0 ? `${t.timeouts.join(' → ')} (**${t.timersFlat ? 'flat' : 'growing'}**)` : 'not checked (no snapshots)'}.`,
    `- Verdict: **${r.ok ? 'pass' : 'FAIL'}** (checked: errors, the post-GC heap floor trend, fds${t.timeouts.length > 1 ? ', timers' : ''}).`,
    ...r.problems.map((p) => `- Daemon said: \`${p.slice(0, 200)}\``),
    '',
  ];
  if (snaps.length > 0) {
    lines.push(
      `Heap snapshots (between load slices, nothing in flight; V8 runs a full GC first):`,
      '',
      `| snapshot | messages | live heap MB (self sizes) | objects | RSS MB | fds | write s |`,
      '|---|--:|--:|--:|--:|--:|--:|',
      ...snaps.map(
        (s) =>
          `| ${s.label} | ${s.messages} | ${(totalSize(s.summary) / 2 ** 20).toFixed(1)} | ${[...s.summary.values()].reduce((n, c) => n + c.count, 0)} | ${s.rssMb.toFixed(1)} | ${s.fds} | ${s.seconds.toFixed(1)} |`,
      ),
      '',
    );
  }
  const first = snaps[0];
  const last = snaps.at(-1);
  if (growth.length > 0 && first !== undefined && last !== undefined) {
    const head = snaps.map((s) => s.label).join(' → ');
    lines.push(
      `Constructors by count growth, ${first.label} → ${last.label} (${perMessages.toLocaleString('en')} messages); "survivors" are objects allocated after the ${first.label} snapshot and alive at the ${last.label}:`,
      '',
      `| constructor | count (${head}) | self size KB (${head}) | survivors | survivor KB |`,
      '|---|--:|--:|--:|--:|',
      ...growth.slice(0, 15).map((d) => {
        const s = last.since.get(d.cls);
        return `| \`${d.cls.replace(/\|/g, '\\|').slice(0, 60)}\` | ${snaps.map((x) => x.summary.get(d.cls)?.count ?? 0).join(' → ')} | ${snaps.map((x) => ((x.summary.get(d.cls)?.size ?? 0) / 1024).toFixed(0)).join(' → ')} | ${s?.count ?? 0} | ${((s?.size ?? 0) / 1024).toFixed(0)} |`;
      }),
      '',
      `Largest survivors (allocated after ${first.label}, alive at ${last.label}), by self size:`,
      '',
      '| constructor | survivors | KB |',
      '|---|--:|--:|',
      ...[...last.since.entries()]
        .sort((a, b) => b[1].size - a[1].size)
        .slice(0, 10)
        .map(
          ([cls, s]) =>
            `| \`${cls.replace(/\|/g, '\\|').slice(0, 60)}\` | ${s.count} | ${(s.size / 1024).toFixed(0)} |`,
        ),
      '',
    );
  }
  if (paths.size > 0) {
    lines.push('Retainer paths (shortest from the GC roots, newest survivors first):', '');
    for (const [cls, list] of paths) {
      lines.push(`- \`${cls}\`:`, ...list.map((p) => `  - \`${p.slice(0, 400)}\``));
    }
    lines.push('');
  } else if (snaps.length > 1) {
    lines.push(
      `No constructor grew at every snapshot by ≥ 1 per 1,000 messages (${Math.max(10, Math.round(perMessages / 1000))}).`,
      '',
    );
  }
  lines.push(
    `Samples every ${r.sampleMs / 1000} s ("heap floor": heap used after the last full GC before the sample, from \`--trace-gc\`):`,
    '',
    '| t (s) | messages | RSS MB | RssAnon MB | heap floor MB | fds (sockets) |',
    '|--:|--:|--:|--:|--:|--:|',
    ...samples.map(
      (s) =>
        `| ${(s.atMs / 1000).toFixed(0)} | ${Math.round(r.messagesAt(s.atMs))} | ${mb(s.rssKb)} | ${mb(s.anonKb)} | ${Number.isNaN(s.floorMb) ? '–' : s.floorMb.toFixed(1)} | ${s.fds} (${s.sockets}) |`,
    ),
    '',
    `Full GCs after the warm-up: ${t.warmMajors.length} (${r.majors.length} in all); heap used after each, MB: ${majorsAfter.map((m) => m.toFixed(1)).join(', ')}.`,
    '',
  );
  return lines.join('\n');
}
