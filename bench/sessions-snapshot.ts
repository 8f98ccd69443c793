/**
 * The heap snapshot of `npm run bench:sessions --snapshot`: taken once (nearly) every session is
 * open, in a daemon of its own since writing a snapshot costs the daemon tens of MB of RSS itself.
 * It records the sockets open and the RSS just before, and the live objects by constructor: their
 * total size and the largest classes.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClassStats, largest, summarize, totalSize } from './heap-diff.ts';
import { readSnapshot } from './heap-snapshot.ts';
import { takeSnapshot } from './heap-snapshot-take.ts';
import { memory, socketCount } from './proc.ts';

/** A heap snapshot taken with (nearly) every session open. */
export interface SnapshotAtPeak {
  /** Sockets open when it was taken. */
  readonly sockets: number;
  /** RSS and RssAnon just before (KiB). */
  readonly rssKb: number;
  readonly anonKb: number;
  readonly liveMb: number;
  readonly top: [string, ClassStats][];
}

/**
 * Lets the sessions settle (500 ms), then snapshots `pid` (started with `snapshotFlags(dir)`);
 * with `keepDir`, copies the file there as `<prefix>-<name>`.
 */
export async function snapshotAtPeak(
  pid: number,
  dir: string,
  keepDir: string | undefined,
  prefix: string,
): Promise<SnapshotAtPeak> {
  await sleep(500);
  const at = memory(pid) ?? { rssKb: 0, anonKb: 0 };
  const open = socketCount(pid);
  const file = await takeSnapshot(pid, dir);
  if (keepDir !== undefined) {
    mkdirSync(keepDir, { recursive: true });
    copyFileSync(file, join(keepDir, `${prefix}-${basename(file)}`));
  }
  const summary = summarize(readSnapshot(file));
  return {
    sockets: open,
    rssKb: at.rssKb,
    anonKb: at.anonKb,
    liveMb: totalSize(summary) / 2 ** 20,
    top: largest(summary, 12),
  };
}
