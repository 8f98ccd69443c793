/** Linux /proc readings for the benchmark: a process's memory and CPU time, and the machine. */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

/** Memory of a process in KiB: resident now (VmRSS) and the peak since start or reset (VmHWM). */
export interface Memory {
  readonly rssKb: number;
  readonly hwmKb: number;
}

/** Reads /proc/PID/status; undefined once the process is gone. */
export function memory(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/**
 * Resets the process's VmHWM to its current RSS (`echo 5 > /proc/PID/clear_refs`, Linux ≥ 4.0),
 * so that each run gets its own peak. Returns false where the kernel refuses.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// USER_HZ: 100 on every mainstream Linux architecture.
const TICK_MS = 10;

/** User + system CPU time of a process in ms (from /proc/PID/stat); 0 once it is gone. */
export function cpuMs(pid: number): number {
  const { userMs, systemMs } = cpuTimes(pid);
  return userMs + systemMs;
}

/** User and system CPU time of a process in ms, apart (from /proc/PID/stat); zeros once it is gone. */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
  // The command name may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: Number(fields[11]) * TICK_MS, systemMs: Number(fields[12]) * TICK_MS };
}

/** The machine, for the results: CPU model, cores, memory, kernel, Node version. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly kernel: string;
  readonly node: string;
  /** 1-minute load average when the run began (other work on the machine skews the numbers). */
  readonly load: number;
}

/** Describes this machine. */
export function machine(): Machine {
  let cpu = 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: keep 'unknown'.
  }
  return {
    cpu,
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    load: loadavg()[0] ?? 0,
  };
}

/** Samples a process's VmRSS every `everyMs` until stopped; returns the highest reading (KiB). */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let max = memory(pid)?.rssKb ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, memory(pid)?.rssKb ?? 0);
  }, everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(max, memory(pid)?.rssKb ?? 0);
    },
  };
}

/** Machine-wide CPU time in ms since boot: busy (user, nice, system, irq, softirq) and steal. */
export function machineCpuMs(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
    return { busy: busy * TICK_MS, steal: (steal ?? 0) * TICK_MS };
  } catch {
    return { busy: 0, steal: 0 };
  }
}
