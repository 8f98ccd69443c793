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
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { distIsStale, revision, startDaemon } from './daemon.ts';
import {
  type ClassStats,
  diffSummaries,
  dropSnapshot,
  type GcEvent,
  parseGcLine,
  readSnapshot,
  retainerPaths,
  snapshotFlags,
  summarize,
  takeSnapshot,
  totalSize,
} from './heap-snapshot.ts';
import { packageVersion, runLoad, standardMessages } from './load-mta.ts';
import { machine } from './proc.ts';

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

/** One reading of the daemon. */
interface Sample {
  readonly atMs: number;
  readonly rssKb: number;
  readonly anonKb: number;
  readonly fds: number;
  readonly sockets: number;
  /** Heap used after the last full GC so far, MB (NaN before the first one). */
  readonly floorMb: number;
}

/** A full GC seen on the daemon's stdout, on the bench's clock. */
interface Major extends GcEvent {
  readonly benchMs: number;
}

/** What one heap snapshot showed. */
interface Snap {
  readonly label: string;
  readonly messages: number;
  readonly summary: Map<string, ClassStats>;
  /** Objects allocated after the first snapshot and alive here, per class. */
  readonly since: Map<string, ClassStats>;
  readonly maxId: number;
  readonly seconds: number;
  readonly rssMb: number;
  readonly fds: number;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Open fds of a process, and how many of them are sockets; -1 once it is gone. */
function fdCount(pid: number): { fds: number; sockets: number } {
  try {
    const names = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const name of names) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${name}`).startsWith('socket:')) sockets++;
      } catch {
        // Closed meanwhile.
      }
    }
    return { fds: names.length, sockets };
  } catch {
    return { fds: -1, sockets: -1 };
  }
}

/** VmRSS and RssAnon of a process in KiB (0 once it is gone). */
function rss(pid: number): { rssKb: number; anonKb: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssKb: 0, anonKb: 0 };
  }
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), anonKb: field('RssAnon') };
}

const mb = (kb: number): string => (kb / 1024).toFixed(1);

async function main(): Promise<number> {
  const count = Number(values.count);
  const warmFrom = count * Number(values['warmup-fraction']);
  const maxHeapSlope = Number(values['max-heap-slope-mb-per-10k']);
  const snapshotCount = Number(values.snapshots);
  const loadAtStart = loadavg();
  const stale = distIsStale();
  const snapDir = mkdtempSync(join(tmpdir(), 'spamward-soak-'));
  const majors: Major[] = [];
  const started = performance.now();
  const extraFlags = values['node-flags'].split(/\s+/).filter((f) => f !== '');
  const daemon = await startDaemon({
    logLevel: 'warn',
    nodeFlags: ['--trace-gc', ...(snapshotCount > 0 ? snapshotFlags(snapDir) : []), ...extraFlags],
    onStdoutLine: (line) => {
      const gc = parseGcLine(line);
      if (gc?.major === true) majors.push({ ...gc, benchMs: performance.now() - started });
    },
  });
  // Messages done over time (at each slice end), to place samples and GCs on the message axis.
  const progress: { atMs: number; done: number }[] = [{ atMs: 0, done: 0 }];
  const messagesAt = (atMs: number): number => {
    const after = progress.findIndex((p) => p.atMs >= atMs);
    if (after < 0) return (progress.at(-1) as { done: number }).done;
    if (after === 0) return 0;
    const a = progress[after - 1] as { atMs: number; done: number };
    const b = progress[after] as { atMs: number; done: number };
    return a.done + ((b.done - a.done) * (atMs - a.atMs)) / Math.max(1, b.atMs - a.atMs);
  };
  const samples: Sample[] = [];
  const take = (): void => {
    const mem = rss(daemon.pid);
    if (mem.rssKb === 0) return;
    const fd = fdCount(daemon.pid);
    samples.push({
      atMs: performance.now() - started,
      ...mem,
      ...fd,
      floorMb: majors.at(-1)?.afterMb ?? Number.NaN,
    });
  };
  take();
  const timer = setInterval(take, Number(values['sample-ms']));
  const messages = await standardMessages();
  // The snapshot points: after the warm-up, evenly between, at the end.
  const snapAt =
    snapshotCount <= 0
      ? []
      : snapshotCount === 1
        ? [count]
        : Array.from(
            { length: snapshotCount },
            (_, i) => warmFrom + ((count - warmFrom) * i) / (snapshotCount - 1),
          );
  const snaps: Snap[] = [];
  let firstSnapMaxId = -1;
  let lastSnapFile: string | undefined;
  let pausedMs = 0;
  const snapshot = async (label: string, done: number): Promise<void> => {
    const pauseStart = performance.now();
    await sleep(1000); // connections closing
    const t0 = performance.now();
    const file = await takeSnapshot(daemon.pid, snapDir);
    const seconds = (performance.now() - t0) / 1000;
    const snap = readSnapshot(file);
    const summary = summarize(snap);
    const since =
      firstSnapMaxId < 0 ? new Map<string, ClassStats>() : summarize(snap, firstSnapMaxId);
    if (firstSnapMaxId < 0) firstSnapMaxId = snap.maxId;
    const fd = fdCount(daemon.pid);
    snaps.push({
      label,
      messages: done,
      summary,
      since,
      maxId: snap.maxId,
      seconds,
      rssMb: rss(daemon.pid).rssKb / 1024,
      fds: fd.fds,
    });
    if (values['keep-snapshots'] !== undefined) {
      mkdirSync(values['keep-snapshots'], { recursive: true });
      copyFileSync(file, join(values['keep-snapshots'], `${label}-${basename(file)}`));
    }
    if (lastSnapFile !== undefined) dropSnapshot(lastSnapFile);
    lastSnapFile = file;
    process.stderr.write(
      `soak: snapshot ${label} at ${done} messages: ${(totalSize(summary) / 2 ** 20).toFixed(1)} MB live, ${summary.get('Timeout')?.count ?? 0} Timeout, ${seconds.toFixed(1)} s\n`,
    );
    pausedMs += performance.now() - pauseStart;
  };

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
      await snapshot(i === 0 ? 'warm' : i === snapAt.length - 1 ? 'end' : `mid${i}`, done);
      progress.push({ atMs: performance.now() - started, done });
    }
  }
  clearInterval(timer);
  take();
  const elapsedS = (performance.now() - started) / 1000;
  const loadS = elapsedS - pausedMs / 1000;
  // Growing constructors, and how the last snapshot retains them (before the file goes).
  const first = snaps[0];
  const last = snaps.at(-1);
  const growth =
    first !== undefined && last !== undefined && snaps.length > 1
      ? diffSummaries(first.summary, last.summary)
      : [];
  const perMessages =
    last !== undefined && first !== undefined ? last.messages - first.messages : 0;
  // A leak worth a path: grows at every snapshot, by at least 1 per 1,000 messages.
  const growers = growth.filter(
    (d) =>
      d.after.count - d.before.count >= Math.max(10, perMessages / 1000) &&
      snaps.every(
        (s, i) =>
          i === 0 ||
          (s.summary.get(d.cls)?.count ?? 0) >= (snaps[i - 1]?.summary.get(d.cls)?.count ?? 0),
      ),
  );
  const paths = new Map<string, string[]>();
  if (lastSnapFile !== undefined && growers.length > 0) {
    const snap = readSnapshot(lastSnapFile);
    for (const d of growers.slice(0, 5))
      paths.set(
        d.cls,
        retainerPaths(snap, d.cls, 3, firstSnapMaxId).concat(
          // Grown without new objects of its own (e.g. an array grown in place): any of them.
          last?.since.has(d.cls) === true ? [] : retainerPaths(snap, d.cls, 3),
        ),
      );
  }
  const problems = daemon.problems();
  const stopped = await daemon.stop();
  rmSync(snapDir, { recursive: true, force: true });

  // The criterion: post-GC heap floor after the warm-up.
  const warmMajors = majors.filter((g) => messagesAt(g.benchMs) >= warmFrom);
  const heapSlope = slope(
    warmMajors.map((g) => ({ x: messagesAt(g.benchMs) / 10_000, y: g.afterMb })),
  );
  const heapFlat = warmMajors.length >= 5 && Math.abs(heapSlope) <= maxHeapSlope;
  // Beside it: RSS, raw and per-minute floor.
  const warm = samples.filter((s) => messagesAt(s.atMs) >= warmFrom);
  const rssSlope = slope(warm.map((s) => ({ x: messagesAt(s.atMs) / 10_000, y: s.rssKb / 1024 })));
  const minuteFloors = new Map<number, Sample>();
  for (const s of warm) {
    const minute = Math.floor(s.atMs / 60_000);
    const was = minuteFloors.get(minute);
    if (was === undefined || s.rssKb < was.rssKb) minuteFloors.set(minute, s);
  }
  const floors = [...minuteFloors.values()];
  const floorSlope = slope(
    floors.map((s) => ({ x: messagesAt(s.atMs) / 10_000, y: s.rssKb / 1024 })),
  );
  const fdFirst = warm[0]?.fds ?? -1;
  const fdLast = warm.at(-1)?.fds ?? -1;
  const fdsFlat = fdLast <= fdFirst + 2;
  const timeouts = snaps.map((s) => s.summary.get('Timeout')?.count ?? 0);
  const timersFlat =
    timeouts.length < 2 || (timeouts.at(-1) as number) <= (timeouts[0] as number) + 2;
  const ok = errors === 0 && heapFlat && fdsFlat && timersFlat;
  const host = machine();
  const majorsAfter = warmMajors.map((g) => g.afterMb);
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: soak, ${count.toLocaleString('en')} messages, built-in engine`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Node ${process.version}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min) at the start, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} at the end.`,
    `- Code: ${revision()}${stale ? ' (**dist/ older than src/**: the daemon ran the last build)' : ''}.`,
    `- Daemon: \`${daemon.command.replace(snapDir, '<tmp>')}\`; load: concurrency ${values.concurrency}, ${values['per-connection']} messages per connection, corpus messages with GTUBE every 100; stopped with SIGTERM (${stopped}).`,
    `- ${elapsedS.toFixed(0)} s${pausedMs > 0 ? ` (${loadS.toFixed(0)} s of load, the rest heap snapshots)` : ''}, ${(count / loadS).toFixed(0)} msg/s, ${errors} errors${errorSamples.length > 0 ? ` (${errorSamples.join('; ')})` : ''}.`,
    `- **Criterion: post-GC heap floor** (heap used after each of the ${warmMajors.length} full GCs after the warm-up, the first ${Math.round(warmFrom).toLocaleString('en')} messages): ${majorsAfter.length > 0 ? `${Math.min(...majorsAfter).toFixed(1)}–${Math.max(...majorsAfter).toFixed(1)} MB` : 'none seen'}, trend ${heapSlope.toFixed(3)} MB per 10,000 messages (limit ±${maxHeapSlope}): **${heapFlat ? 'flat' : 'growing or unknown'}**.`,
    `- RSS beside it (not the criterion): raw samples ${warm.length > 0 ? `${mb(Math.min(...warm.map((s) => s.rssKb)))}–${mb(Math.max(...warm.map((s) => s.rssKb)))}` : '?'} MB, trend ${rssSlope.toFixed(2)} MB per 10,000; per-minute floor ${floors.map((s) => mb(s.rssKb)).join(' → ')} MB, trend ${floorSlope.toFixed(2)} MB per 10,000.`,
    ...(snaps.length > 0
      ? [
          '- RSS after the first heap snapshot includes what writing it cost the daemon (tens of MB that the allocator keeps); the RSS trend is meaningful in a run with `--snapshots 0`.',
        ]
      : []),
    `- Open file descriptors after warm-up: ${fdFirst} → ${fdLast} (**${fdsFlat ? 'flat' : 'growing'}**).`,
    `- Timers (live \`Timeout\` objects in the snapshots): ${timeouts.length > 0 ? `${timeouts.join(' → ')} (**${timersFlat ? 'flat' : 'growing'}**)` : 'not checked (no snapshots)'}.`,
    `- Verdict: **${ok ? 'pass' : 'FAIL'}** (checked: errors, the post-GC heap floor trend, fds${timeouts.length > 1 ? ', timers' : ''}).`,
    ...problems.map((p) => `- Daemon said: \`${p.slice(0, 200)}\``),
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
    `Samples every ${Number(values['sample-ms']) / 1000} s ("heap floor": heap used after the last full GC before the sample, from \`--trace-gc\`):`,
    '',
    '| t (s) | messages | RSS MB | RssAnon MB | heap floor MB | fds (sockets) |',
    '|--:|--:|--:|--:|--:|--:|',
    ...samples.map(
      (s) =>
        `| ${(s.atMs / 1000).toFixed(0)} | ${Math.round(messagesAt(s.atMs))} | ${mb(s.rssKb)} | ${mb(s.anonKb)} | ${Number.isNaN(s.floorMb) ? '–' : s.floorMb.toFixed(1)} | ${s.fds} (${s.sockets}) |`,
    ),
    '',
    `Full GCs after the warm-up: ${warmMajors.length} (${majors.length} in all); heap used after each, MB: ${majorsAfter.map((m) => m.toFixed(1)).join(', ')}.`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
