/**
 * Linux /proc readings for the benchmark: a process's memory, open file descriptors and CPU time,
 * and the machine.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

/**
 * Memory of a process in KiB: resident now (VmRSS), the peak since start or reset (VmHWM), and
 * the resident anonymous and file-backed parts (RssAnon, RssFile).
 */
export interface Memory {
  readonly rssKb: number;
  readonly hwmKb: number;
  readonly anonKb: number;
  readonly fileKb: number;
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
  return {
    rssKb: field('VmRSS'),
    hwmKb: field('VmHWM'),
    anonKb: field('RssAnon'),
    fileKb: field('RssFile'),
  };
}

/** Open fds of a process, and how many of them are sockets; -1 each once it is gone. */
export function fdCount(pid: number): { fds: number; sockets: number } {
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

/** Open sockets of a process (a listener included); 0 once it is gone. */
export function socketCount(pid: number): number {
  return Math.max(0, fdCount(pid).sockets);
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
  const fields = statFields(pid);
  if (fields === undefined) return { userMs: 0, systemMs: 0 };
  return { userMs: Number(fields[11]) * TICK_MS, systemMs: Number(fields[12]) * TICK_MS };
}

/**
 * User + system CPU ms of one process, with its reaped children's (cutime, cstime) when
 * `withReaped`; 0 once it is gone.
 */
export function processCpuMs(pid: number, withReaped: boolean): number {
  const fields = statFields(pid);
  if (fields === undefined) return 0;
  // utime, stime, cutime, cstime are fields 14–17, i.e. 11–14 after the command name.
  const f = fields.map(Number);
  const own = (f[11] ?? 0) + (f[12] ?? 0);
  return (withReaped ? own + (f[13] ?? 0) + (f[14] ?? 0) : own) * TICK_MS;
}

/** The fields of /proc/PID/stat after the command name (field 3 on); undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces: count fields after its closing parenthesis.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
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
