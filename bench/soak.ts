/**
 * `npm run bench:soak`: 100,000 messages (default) through the daemon with the built-in engine,
 * looking for leaks. Prints a Markdown section for BENCHMARKS.md.
 *
 * - The daemon runs with `--trace-gc`: the heap used after each full (mark-compact) GC is the
 *   post-GC floor, i.e. the live heap. Its least-squares trend after the warm-up, in MB per
 *   10,000 messages, is the leak criterion.
 * - RSS (and RssAnon), open file descriptors (sockets apart) and the last post-GC heap are read
 *   every 10 s. The RSS trend is reported beside the criterion, not used for it: RSS moves with
 *   the GC cycle and the allocator, not only with live data.
 * - With `--heapsnapshot-signal`, heap snapshots are taken between load slices (no message in
 *   flight): after the warm-up, in the middle and at the end. They are compared per constructor
 *   (count, self size), survivors allocated since the warm-up are counted per constructor, and
 *   timers (`Timeout` objects, live ones only: a snapshot follows a full GC) are counted, which
 *   the /proc readings cannot show. Retainer paths are printed for the constructors that grow.
 *
 * Options: --count N (default 100000), --concurrency N (16), --per-connection N (10),
 * --sample-ms N (10000), --warmup-fraction F (0.2), --max-heap-slope-mb-per-10k N (0.25),
 * --snapshots N (3; 0: none, else at the warm-up, evenly between, and at the end),
 * --keep-snapshots DIR (copy the snapshot files there), --node-flags=… (extra daemon flags, space
 * separated; with `=` since they start with a dash).
 *
 * This file runs the load and the sampling; the trends are bench/soak-trend.ts, the snapshots
 * bench/soak-snapshots.ts, the Markdown bench/soak-report.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { words } from './cli.ts';
import { distIsStale, startDaemon } from './daemon.ts';
import { parseGcLine } from './gc-trace.ts';
import { snapshotFlags } from './heap-snapshot-take.ts';
import { packageVersion, runLoad, standardMessages } from './load-mta.ts';
import { fdCount, memory } from './proc.ts';
import { soakReport } from './soak-report.ts';
import { SoakSnapshots, snapshotPoints } from './soak-snapshots.ts';
import {
  type MajorGc,
  messagesAt,
  type ProgressMark,
  type SoakSample,
  soakTrends,
} from './soak-trend.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    'per-connection': { type: 'string', default: '10' },
    'sample-ms': { type: 'string', default: '10000' },
    'warmup-fraction': { type: 'string', default: '0.2' },
    'max-heap-slope-mb-per-10k': { type: 'string', default: '0.25' },
    snapshots: { type: 'string', default: '3' },
    'keep-snapshots': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
  },
});

async function main(): Promise<number> {
  const count = Number(values.count);
  const warmFrom = count * Number(values['warmup-fraction']);
  const maxHeapSlope = Number(values['max-heap-slope-mb-per-10k']);
  const snapshotCount = Number(values.snapshots);
  const loadAtStart = loadavg();
  const stale = distIsStale();
  const snapDir = mkdtempSync(join(tmpdir(), 'spamward-soak-'));
  const majors: MajorGc[] = [];
  const started = performance.now();
  const extraFlags = words(values['node-flags']);
  const daemon = await startDaemon({
    logLevel: 'warn',
    nodeFlags: ['--trace-gc', ...(snapshotCount > 0 ? snapshotFlags(snapDir) : []), ...extraFlags],
    onStdoutLine: (line) => {
      const gc = parseGcLine(line);
      if (gc?.major === true) majors.push({ ...gc, benchMs: performance.now() - started });
    },
  });
  // Messages done over time (at each slice end), to place samples and GCs on the message axis.
  const progress: ProgressMark[] = [{ atMs: 0, done: 0 }];
  const at = (atMs: number): number => messagesAt(progress, atMs);
  const samples: SoakSample[] = [];
  const take = (): void => {
    const mem = memory(daemon.pid);
    if (mem === undefined || mem.rssKb === 0) return;
    const fd = fdCount(daemon.pid);
    samples.push({
      atMs: performance.now() - started,
      rssKb: mem.rssKb,
      anonKb: mem.anonKb,
      ...fd,
      floorMb: majors.at(-1)?.afterMb ?? Number.NaN,
    });
  };
  take();
  const timer = setInterval(take, Number(values['sample-ms']));
  const messages = await standardMessages();
  const snapAt = snapshotPoints(count, warmFrom, snapshotCount);
  const snapshots = new SoakSnapshots(daemon.pid, snapDir, values['keep-snapshots']);
  const snaps = snapshots.snaps;

  // In slices, so the sampler knows how many messages went through and snapshots fall between.
  const slice = 1_000;
  let done = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  while (done < count) {
    const n = Math.min(slice, count - done);
    const result = await runLoad({
      port: daemon.port,
      concurrency: Number(values.concurrency),
      messagesPerConnection: Number(values['per-connection']),
      count: n,
      messages,
      version: packageVersion(),
    });
    done += result.ok + result.errors;
    errors += result.errors;
    progress.push({ atMs: performance.now() - started, done });
    errorSamples.push(...result.errorSamples.slice(0, 3 - errorSamples.length));
    process.stderr.write(`soak: ${done}/${count} messages, ${errors} errors\n`);
    while (snaps.length < snapAt.length && done >= (snapAt[snaps.length] as number)) {
      const i = snaps.length;
      await snapshots.take(i === 0 ? 'warm' : i === snapAt.length - 1 ? 'end' : `mid${i}`, done);
      progress.push({ atMs: performance.now() - started, done });
    }
  }
  clearInterval(timer);
  take();
  const elapsedS = (performance.now() - started) / 1000;
  // Growing constructors, and how the last snapshot retains them (before the file goes).
  const growth = snapshots.growth();
  const problems = daemon.problems();
  const stopped = await daemon.stop();
  rmSync(snapDir, { recursive: true, force: true });

  const trends = soakTrends({
    majors,
    samples,
    timeouts: snaps.map((s) => s.summary.get('Timeout')?.count ?? 0),
    warmFrom,
    maxHeapSlope,
    messagesAt: at,
  });
  const ok = errors === 0 && trends.heapFlat && trends.fdsFlat && trends.timersFlat;
  const report = soakReport({
    count,
    warmFrom,
    maxHeapSlope,
    concurrency: values.concurrency,
    perConnection: values['per-connection'],
    sampleMs: Number(values['sample-ms']),
    loadAtStart,
    stale,
    daemonCommand: daemon.command.replace(snapDir, '<tmp>'),
    stopped,
    elapsedS,
    pausedMs: snapshots.pausedMs,
    errors,
    errorSamples,
    majors,
    samples,
    snaps,
    growth,
    trends,
    ok,
    problems,
    messagesAt: at,
  });
  process.stdout.write(`${report}\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
