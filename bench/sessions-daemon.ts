/**
 * The daemon of one `npm run bench:sessions` row, set up for its scanner: `builtin` (no scanner
 * URL), `rspamd` (its URL) or `noop`, with the scanner pool's queue raised so every message waits
 * for its scan (`SPAMWARD_SCANNER_MAX_QUEUE`), optionally another limit on scans at once, the
 * variant's V8 heap flags, `--trace-gc` (whose lines give the V8 heap peaks) and, for a snapshot
 * row, the flags that let a heap snapshot be taken.
 */
import { words } from './cli.ts';
import type { CorpusMessage } from './corpus.ts';
import { type BenchDaemon, startDaemonWith } from './daemon.ts';
import { parseGcLine } from './gc-trace.ts';
import { snapshotFlags } from './heap-snapshot-take.ts';

/** How one daemon is set up, and what its rounds send. */
export interface SessionsOptions {
  readonly scanner: 'builtin' | 'rspamd' | 'noop';
  /** Its URL (rspamd), else the name. */
  readonly url: string;
  readonly variant: string;
  readonly sessions: number;
  readonly perSession: number;
  readonly rounds: number;
  readonly maxQueue: number;
  readonly maxConcurrent?: number;
  readonly snapshot: boolean;
  /** Copy the snapshot file into this directory. */
  readonly keepSnapshot?: string;
  readonly nodeFlags: readonly string[];
  readonly tsx: boolean;
  readonly messages: readonly CorpusMessage[];
}

/** V8 heap figures from `--trace-gc`, MB, updated while the daemon runs. */
export interface HeapPeaks {
  /** Highest heap used before a GC. */
  peakMb: number;
  /** Highest heap used after a full GC (snapshot GCs aside). */
  floorPeakMb: number;
  /** Highest committed heap. */
  committedPeakMb: number;
}

/** A started sessions daemon. */
export interface SessionsDaemon {
  readonly daemon: BenchDaemon;
  readonly heap: HeapPeaks;
  /** How it was started, for the report (ports and the snapshot directory replaced). */
  readonly command: string;
}

/** Starts the daemon set up by `o`; snapshots (with `o.snapshot`) go into `snapDir`. */
export async function startSessionsDaemon(
  o: SessionsOptions,
  snapDir: string,
): Promise<SessionsDaemon> {
  const heap: HeapPeaks = { peakMb: 0, floorPeakMb: 0, committedPeakMb: 0 };
  const env: Record<string, string> = {
    SPAMWARD_SCANNER_MAX_QUEUE: String(o.maxQueue),
    ...(o.scanner === 'builtin' ? {} : { SPAMWARD_SCANNER_URLS: o.url }),
    ...(o.maxConcurrent === undefined
      ? {}
      : { SPAMWARD_SCANNER_MAX_CONCURRENT: String(o.maxConcurrent) }),
  };
  const daemon = await startDaemonWith(env, {
    tsx: o.tsx,
    logLevel: 'warn',
    nodeFlags: [
      '--trace-gc',
      ...(o.variant === 'default' ? [] : words(o.variant)),
      ...(o.snapshot ? snapshotFlags(snapDir) : []),
      ...o.nodeFlags,
    ],
    onStdoutLine: (line) => {
      const gc = parseGcLine(line);
      if (gc === undefined) return;
      heap.peakMb = Math.max(heap.peakMb, gc.beforeMb);
      heap.committedPeakMb = Math.max(heap.committedPeakMb, gc.committedMb);
      if (gc.major && gc.reason !== 'heap profiler')
        heap.floorPeakMb = Math.max(heap.floorPeakMb, gc.afterMb);
    },
  });
  const command = `${Object.entries(env)
    .map(([k, v]) => `${k}=${v.replace(/:\d+$/, ':PORT')}`)
    .join(' ')} ${daemon.command.replace(snapDir, '<tmp>').replace(/inet:\d+@/, 'inet:PORT@')}`;
  return { daemon, heap, command };
}
