/**
 * The soak's leak criterion and the trends reported beside it. Everything is placed on the
 * message axis (messages done, interpolated between load slices) and taken after the warm-up: the
 * criterion is the least-squares trend of the post-GC heap floor (heap used after each full GC,
 * from `--trace-gc`), in MB per 10,000 messages; beside it come the RSS trend (raw samples and
 * per-minute floors), open file descriptors and live timers, first against last.
 */
import type { GcEvent } from './gc-trace.ts';
import { slope } from './stats.ts';

/** `done` messages answered by `atMs` on the bench's clock (at the end of a load slice). */
export interface ProgressMark {
  readonly atMs: number;
  readonly done: number;
}

/** One reading of the daemon. */
export interface SoakSample {
  readonly atMs: number;
  readonly rssKb: number;
  readonly anonKb: number;
  readonly fds: number;
  readonly sockets: number;
  /** Heap used after the last full GC so far, MB (NaN before the first one). */
  readonly floorMb: number;
}

/** A full GC seen on the daemon's stdout, on the bench's clock. */
export interface MajorGc extends GcEvent {
  readonly benchMs: number;
}

/** Messages done at `atMs`, interpolated between the progress marks around it. */
export function messagesAt(progress: readonly ProgressMark[], atMs: number): number {
  const after = progress.findIndex((p) => p.atMs >= atMs);
  if (after < 0) return (progress.at(-1) as ProgressMark).done;
  if (after === 0) return 0;
  const a = progress[after - 1] as ProgressMark;
  const b = progress[after] as ProgressMark;
  return a.done + ((b.done - a.done) * (atMs - a.atMs)) / Math.max(1, b.atMs - a.atMs);
}

/** What the soak measured, for `soakTrends`. */
export interface TrendInput {
  readonly majors: readonly MajorGc[];
  readonly samples: readonly SoakSample[];
  /** Live `Timeout` objects at each heap snapshot, in order. */
  readonly timeouts: readonly number[];
  /** Messages of warm-up, left out of every trend. */
  readonly warmFrom: number;
  /** The criterion's limit, MB per 10,000 messages either way. */
  readonly maxHeapSlope: number;
  /** Messages done at a time on the bench's clock (see `messagesAt`). */
  readonly messagesAt: (atMs: number) => number;
}

/** The criterion and the trends beside it, after the warm-up. */
export interface SoakTrends {
  /** Full GCs after the warm-up. */
  readonly warmMajors: readonly MajorGc[];
  /** Post-GC heap floor trend, MB per 10,000 messages: the criterion. */
  readonly heapSlope: number;
  /** At least 5 full GCs after the warm-up, and the floor trend within the limit. */
  readonly heapFlat: boolean;
  /** Samples after the warm-up. */
  readonly warm: readonly SoakSample[];
  /** RSS trend of the raw samples, MB per 10,000 messages. */
  readonly rssSlope: number;
  /** The lowest-RSS sample of each minute. */
  readonly floors: readonly SoakSample[];
  /** RSS trend of those per-minute floors, MB per 10,000 messages. */
  readonly floorSlope: number;
  /** Open fds at the first and last sample after the warm-up (-1: none). */
  readonly fdFirst: number;
  readonly fdLast: number;
  readonly fdsFlat: boolean;
  readonly timeouts: readonly number[];
  readonly timersFlat: boolean;
}

/** Computes the criterion and the trends beside it. */
export function soakTrends(input: TrendInput): SoakTrends {
  const { messagesAt: at, warmFrom, timeouts } = input;
  // The criterion: post-GC heap floor after the warm-up.
  const warmMajors = input.majors.filter((g) => at(g.benchMs) >= warmFrom);
  const heapSlope = slope(warmMajors.map((g) => ({ x: at(g.benchMs) / 10_000, y: g.afterMb })));
  const heapFlat = warmMajors.length >= 5 && Math.abs(heapSlope) <= input.maxHeapSlope;
  // Beside it: RSS, raw and per-minute floor.
  const warm = input.samples.filter((s) => at(s.atMs) >= warmFrom);
  const rssSlope = slope(warm.map((s) => ({ x: at(s.atMs) / 10_000, y: s.rssKb / 1024 })));
  const minuteFloors = new Map<number, SoakSample>();
  for (const s of warm) {
    const minute = Math.floor(s.atMs / 60_000);
    const was = minuteFloors.get(minute);
    if (was === undefined || s.rssKb < was.rssKb) minuteFloors.set(minute, s);
  }
  const floors = [...minuteFloors.values()];
  const floorSlope = slope(floors.map((s) => ({ x: at(s.atMs) / 10_000, y: s.rssKb / 1024 })));
  const fdFirst = warm[0]?.fds ?? -1;
  const fdLast = warm.at(-1)?.fds ?? -1;
  const timersFlat =
    timeouts.length < 2 || (timeouts.at(-1) as number) <= (timeouts[0] as number) + 2;
  return {
    warmMajors,
    heapSlope,
    heapFlat,
    warm,
    rssSlope,
    floors,
    floorSlope,
    fdFirst,
    fdLast,
    fdsFlat: fdLast <= fdFirst + 2,
    timeouts,
    timersFlat,
  };
}
