/** Process look-ups for the comparison benchmark: CPU time of a process tree, child pids by name. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMs } from './proc.ts';

/**
 * CPU ms of a process and its live descendants, each with its reaped children's time (cutime,
 * cstime), so a scanner that recycles its workers (spamd after max-conn-per-child) or a milter
 * that runs a client per message (spamass-milter → spamc) is fully counted.
 */
export function treeCpuMs(root: number): number {
  let total = 0;
  const walk = (pid: number): void => {
    total += processCpuMs(pid, true);
    for (const c of childPids(pid)) walk(c);
  };
  walk(root);
  return total;
}

/**
 * Direct children of `pid`, from /proc/PID/task/TID/children of every thread: a child forked by
 * a worker thread (spamass-milter's spamc) is listed under that thread only.
 */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const c of list.split(/\s+/)) if (c !== '') out.push(Number(c));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** The command line of a process as one string (rspamd workers set theirs), or ''. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Pids of this process's direct children running `name`. */
export function childrenNamed(name: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm?.startsWith(name) === true)
    .map(([pid]) => Number(pid));
}
