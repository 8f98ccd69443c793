/**
 * The soak's heap snapshots: taken between load slices (no message in flight) after the warm-up,
 * evenly between and at the end, each summarised per constructor with the survivors allocated
 * since the first one; then the constructors that grew from first to last, and for those that grew
 * at every snapshot the retainer paths in the last one. Only the last snapshot file is kept on
 * disk (for those paths), unless `--keep-snapshots` copies them all.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ClassDiff,
  type ClassStats,
  diffSummaries,
  summarize,
  totalSize,
} from './heap-diff.ts';
import { retainerPaths } from './heap-retainers.ts';
import { readSnapshot } from './heap-snapshot.ts';
import { dropSnapshot, takeSnapshot } from './heap-snapshot-take.ts';
import { fdCount, memory } from './proc.ts';

/** What one heap snapshot showed. */
export interface SoakSnap {
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

/** Constructors that grew over the snapshots, and how the last snapshot retains the growers. */
export interface SoakGrowth {
  /** Classes changed from the first snapshot to the last, biggest count growth first. */
  readonly growth: readonly ClassDiff[];
  /** Messages between the first snapshot and the last. */
  readonly perMessages: number;
  /** Retainer paths of the classes that grew at every snapshot (up to 5 classes). */
  readonly paths: ReadonlyMap<string, readonly string[]>;
}

/** Message counts to snapshot at: `n` of them, after the warm-up, evenly between, at the end. */
export function snapshotPoints(count: number, warmFrom: number, n: number): number[] {
  return n <= 0
    ? []
    : n === 1
      ? [count]
      : Array.from({ length: n }, (_, i) => warmFrom + ((count - warmFrom) * i) / (n - 1));
}

/** The heap snapshots of one soak daemon (started with `snapshotFlags(dir)`). */
export class SoakSnapshots {
  /** The snapshots taken so far, in order. */
  readonly snaps: SoakSnap[] = [];
  /** Time spent on snapshots (the pause before each and the writing), ms. */
  pausedMs = 0;
  private firstMaxId = -1;
  private lastFile: string | undefined;
  private readonly pid: number;
  private readonly dir: string;
  private readonly keepDir: string | undefined;

  /** Snapshots of `pid` go into `dir`; with `keepDir`, each is copied there too. */
  constructor(pid: number, dir: string, keepDir: string | undefined) {
    this.pid = pid;
    this.dir = dir;
    this.keepDir = keepDir;
  }

  /** Takes one snapshot, `done` messages into the run, once its connections have closed. */
  async take(label: string, done: number): Promise<void> {
    const pauseStart = performance.now();
    await sleep(1000); // connections closing
    const t0 = performance.now();
    const file = await takeSnapshot(this.pid, this.dir);
    const seconds = (performance.now() - t0) / 1000;
    const snap = readSnapshot(file);
    const summary = summarize(snap);
    const since =
      this.firstMaxId < 0 ? new Map<string, ClassStats>() : summarize(snap, this.firstMaxId);
    if (this.firstMaxId < 0) this.firstMaxId = snap.maxId;
    const fd = fdCount(this.pid);
    this.snaps.push({
      label,
      messages: done,
      summary,
      since,
      maxId: snap.maxId,
      seconds,
      rssMb: (memory(this.pid)?.rssKb ?? 0) / 1024,
      fds: fd.fds,
    });
    if (this.keepDir !== undefined) {
      mkdirSync(this.keepDir, { recursive: true });
      copyFileSync(file, join(this.keepDir, `${label}-${basename(file)}`));
    }
    if (this.lastFile !== undefined) dropSnapshot(this.lastFile);
    this.lastFile = file;
    process.stderr.write(
      `soak: snapshot ${label} at ${done} messages: ${(totalSize(summary) / 2 ** 20).toFixed(1)} MB live, ${summary.get('Timeout')?.count ?? 0} Timeout, ${seconds.toFixed(1)} s\n`,
    );
    this.pausedMs += performance.now() - pauseStart;
  }

  /** Growing constructors, and how the last snapshot retains them (call before its file goes). */
  growth(): SoakGrowth {
    const snaps = this.snaps;
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
    if (this.lastFile !== undefined && growers.length > 0) {
      const snap = readSnapshot(this.lastFile);
      for (const d of growers.slice(0, 5))
        paths.set(
          d.cls,
          retainerPaths(snap, d.cls, 3, this.firstMaxId).concat(
            // Grown without new objects of its own (e.g. an array grown in place): any of them.
            last?.since.has(d.cls) === true ? [] : retainerPaths(snap, d.cls, 3),
          ),
        );
    }
    return { growth, perMessages, paths };
  }
}
