/**
 * The RSS sampler of `npm run bench:sessions`: reads the daemon's memory (VmRSS, RssAnon, RssFile)
 * and counts its open sockets every 100 ms while the rounds run, keeping the reading with the
 * highest RSS, the highest RSS of the current round and the most sockets seen at once. Each
 * socket count is also passed on, so the caller can act once enough sessions are open.
 */
import { type Memory, memory, socketCount } from './proc.ts';

/** No reading yet: every figure 0. */
export const NO_MEMORY: Memory = { rssKb: 0, hwmKb: 0, anonKb: 0, fileKb: 0 };

/** Samples one process until stopped; the figures are read after (or during) the run. */
export class RssSampler {
  /** The reading with the highest RSS so far. */
  peak: Memory = NO_MEMORY;
  /** The highest RSS since the caller last set this to 0 (KiB): one round's peak. */
  roundPeakKb = 0;
  /** Most sockets the process had open at once (a listener included). */
  maxSockets = 0;
  private readonly timer: NodeJS.Timeout;

  /** Starts sampling `pid` every `everyMs`; `onSockets` gets each socket count. */
  constructor(pid: number, onSockets: (sockets: number) => void, everyMs = 100) {
    this.timer = setInterval(() => {
      const m = memory(pid);
      if (m === undefined) return;
      if (m.rssKb > this.peak.rssKb) this.peak = m;
      this.roundPeakKb = Math.max(this.roundPeakKb, m.rssKb);
      const sockets = socketCount(pid);
      this.maxSockets = Math.max(this.maxSockets, sockets);
      onSockets(sockets);
    }, everyMs);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }
}
