/**
 * One row of `npm run bench:sessions`: a fresh daemon for one scanner and V8 flag variant
 * (bench/sessions-daemon.ts), a short warm-up, then `rounds` rounds of the session driver
 * (bench/sessions-driver.ts) with the RSS sampler running (bench/sessions-sampler.ts); VmHWM is
 * reset before and read after, daemon CPU is charged per message, and for a snapshot row a heap
 * snapshot is taken once 90 % of the sessions are open (bench/sessions-snapshot.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageVersion, runLoad } from './load-mta.ts';
import { cpuMs, memory, resetPeak } from './proc.ts';
import { countingCheck, type VerdictCounts } from './sessions-check.ts';
import { type SessionsOptions, startSessionsDaemon } from './sessions-daemon.ts';
import { sessionsRound } from './sessions-driver.ts';
import { NO_MEMORY, RssSampler } from './sessions-sampler.ts';
import { type SnapshotAtPeak, snapshotAtPeak } from './sessions-snapshot.ts';
import { latency } from './stats.ts';

/** What one scanner/setting measured. */
export interface SessionsResult {
  readonly scanner: string;
  /** The variant's Node flags, space separated (`default`: none). */
  readonly variant: string;
  readonly sessions: number;
  readonly perSession: number;
  readonly rounds: readonly RoundResult[];
  /** KiB. */
  readonly beforeKb: number;
  readonly beforeAnonKb: number;
  readonly beforeFileKb: number;
  readonly peakKb: number;
  readonly peakAnonKb: number;
  readonly peakFileKb: number;
  readonly hwmKb: number;
  readonly afterKb: number;
  /** Most sockets the daemon had open at once (the listener included). */
  readonly maxSockets: number;
  /** Highest V8 heap used before a GC, and the highest after a full GC, MB (`--trace-gc`). */
  readonly heapPeakMb: number;
  readonly heapFloorPeakMb: number;
  readonly heapCommittedPeakMb: number;
  readonly daemonCpuUsPerMsg: number;
  /** With `snapshot`: what a heap snapshot showed with the sessions open. */
  readonly snapshot?: SnapshotAtPeak;
  readonly problems: readonly string[];
  readonly command: string;
}

/** One round: every session sends its messages. */
export interface RoundResult {
  readonly messages: number;
  /** Sessions open at once (negotiated, past HELO) before the messages started. */
  readonly opened: number;
  readonly openMs: number;
  readonly rate: number;
  readonly elapsedMs: number;
  readonly scanned: number;
  readonly rejected: number;
  readonly unavailable: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly peakKb: number;
  readonly p50: number;
  readonly p99: number;
}

/** Runs the daemon set up by `o` through its rounds. */
export async function measureSessions(o: SessionsOptions): Promise<SessionsResult> {
  const version = packageVersion();
  const snapDir = mkdtempSync(join(tmpdir(), 'spamward-sessions-'));
  const { daemon, heap, command } = await startSessionsDaemon(o, snapDir);
  const counts: VerdictCounts = { scanned: 0, rejected: 0, unavailable: 0 };
  const check = countingCheck(version, counts);
  let peak = NO_MEMORY;
  let maxSockets = 0;
  let snapshot: SnapshotAtPeak | undefined;
  let snapshotWanted = o.snapshot;
  let snapshotTaking: Promise<void> | undefined;
  const rounds: RoundResult[] = [];
  let problems: readonly string[] = [];
  let before = NO_MEMORY;
  let afterKb = 0;
  let hwm = 0;
  let cpuPerMsg = 0;
  try {
    await sleep(1000);
    before = memory(daemon.pid) ?? before;
    // A short warm-up so the JIT, the store and the scanner connections exist before the peak.
    await runLoad({
      port: daemon.port,
      concurrency: 4,
      messagesPerConnection: 1,
      count: 40,
      messages: o.messages,
      version,
      timeoutMs: 120_000,
      check,
    });
    counts.scanned = 0;
    counts.rejected = 0;
    counts.unavailable = 0;
    await sleep(500);
    resetPeak(daemon.pid);
    const sampler = new RssSampler(daemon.pid, (sockets) => {
      if (snapshotWanted && sockets >= o.sessions * 0.9) {
        snapshotWanted = false;
        snapshotTaking = snapshotAtPeak(daemon.pid, snapDir, o.keepSnapshot, o.scanner).then(
          (taken) => {
            snapshot = taken;
          },
        );
      }
    });
    const cpuBefore = cpuMs(daemon.pid);
    let total = 0;
    try {
      for (let r = 0; r < o.rounds; r++) {
        sampler.roundPeakKb = 0;
        const before = { ...counts };
        const result = await sessionsRound(
          daemon.port,
          o.sessions,
          o.perSession,
          o.messages,
          r * o.sessions * o.perSession,
          check,
          120_000,
        );
        total += result.ok + result.errors;
        const lat = latency(result.samples);
        rounds.push({
          messages: result.ok + result.errors,
          opened: result.opened,
          openMs: result.openMs,
          rate: (result.ok * 1000) / result.elapsedMs,
          elapsedMs: result.elapsedMs,
          scanned: counts.scanned - before.scanned,
          rejected: counts.rejected - before.rejected,
          unavailable: counts.unavailable - before.unavailable,
          errors: result.errors,
          errorSamples: result.errorSamples,
          peakKb: sampler.roundPeakKb,
          p50: lat.p50,
          p99: lat.p99,
        });
        process.stderr.write(
          `sessions: ${o.scanner} [${o.variant}] round ${r + 1}: ${result.opened} open, ${Math.round((result.ok * 1000) / result.elapsedMs)} msg/s, peak ${(sampler.roundPeakKb / 1024).toFixed(1)} MB, ${result.errors} errors\n`,
        );
      }
    } finally {
      sampler.stop();
      peak = sampler.peak;
      maxSockets = sampler.maxSockets;
      await snapshotTaking;
    }
    cpuPerMsg = ((cpuMs(daemon.pid) - cpuBefore) * 1000) / Math.max(1, total);
    hwm = memory(daemon.pid)?.hwmKb ?? 0;
    await sleep(1000);
    afterKb = memory(daemon.pid)?.rssKb ?? 0;
  } finally {
    problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    rmSync(snapDir, { recursive: true, force: true });
  }
  return {
    scanner: o.scanner,
    variant: o.variant,
    sessions: o.sessions,
    perSession: o.perSession,
    rounds,
    beforeKb: before.rssKb,
    beforeAnonKb: before.anonKb,
    beforeFileKb: before.fileKb,
    peakKb: peak.rssKb,
    peakAnonKb: peak.anonKb,
    peakFileKb: peak.fileKb,
    hwmKb: hwm,
    afterKb,
    maxSockets,
    heapPeakMb: heap.peakMb,
    heapFloorPeakMb: heap.floorPeakMb,
    heapCommittedPeakMb: heap.committedPeakMb,
    daemonCpuUsPerMsg: cpuPerMsg,
    ...(snapshot === undefined ? {} : { snapshot }),
    problems,
    command,
  };
}
